#!/bin/sh
# Installs the sampling-proxy release binary for this OS and CPU into ~/.local/bin (or --dir DIR).
#
#   curl -fsSL https://github.com/sampling-proxy/sampling-proxy/releases/latest/download/install.sh | sh
#   sh install.sh --version 0.1.0 --dir /usr/local/bin
#
# It downloads the release's SHA256SUMS, picks the line of the binary for this machine, downloads that binary into
# a temporary folder, checks its SHA-256 against the line, and only then moves it into place and runs it
# (--version). A missing or wrong checksum stops it with nothing installed and nothing run.
#
# Environment: SAMPLING_PROXY_REPO (owner/name on GitHub, default sampling-proxy/sampling-proxy),
# SAMPLING_PROXY_DOWNLOAD_URL (the releases URL, default https://github.com/$SAMPLING_PROXY_REPO/releases; a
# mirror must have the same layout: latest/download/FILE and download/vVERSION/FILE).
set -eu

version=latest
dir="${HOME}/.local/bin"
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (--version VERSION, --dir DIR)" >&2; exit 2 ;;
  esac
done

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

case "$(uname -s)" in
  Linux) os=unknown-linux-gnu ;;
  Darwin) os=apple-darwin ;;
  *) fail "no release binary for $(uname -s); on Windows use install.ps1, elsewhere run from source (README)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) fail "no release binary for the CPU $(uname -m)" ;;
esac
target="${arch}-${os}"

repo="${SAMPLING_PROXY_REPO:-sampling-proxy/sampling-proxy}"
releases="${SAMPLING_PROXY_DOWNLOAD_URL:-https://github.com/${repo}/releases}"
case "$version" in
  latest) base="${releases}/latest/download" ;;
  v*) base="${releases}/download/${version}" ;;
  *) base="${releases}/download/v${version}" ;;
esac

download() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1" || fail "cannot download $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || fail "cannot download $1"
  else
    fail "needs curl or wget"
  fi
}

sha256() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "needs sha256sum or shasum to check the download"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

download "${base}/SHA256SUMS" "$work/SHA256SUMS"
line=$(grep -E "^[0-9a-f]{64}  sampling-proxy-[^ ]+-${target}\$" "$work/SHA256SUMS" | head -n 1) ||
  fail "the release at ${base} has no binary for ${target}"
expected=${line%% *}
name=${line##* }
download "${base}/${name}" "$work/${name}"
actual=$(sha256 "$work/${name}")
[ "$actual" = "$expected" ] || fail "checksum mismatch for ${name}: expected ${expected}, got ${actual}; nothing installed"

mkdir -p "$dir"
chmod 755 "$work/${name}"
mv -f "$work/${name}" "$dir/sampling-proxy"
echo "Installed ${name} as ${dir}/sampling-proxy"
"$dir/sampling-proxy" --version
case ":${PATH}:" in
  *":${dir}:"*) ;;
  *) echo "Add ${dir} to PATH to run sampling-proxy by name" ;;
esac
