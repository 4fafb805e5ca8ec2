# Installs the sampling-proxy release binary for Windows x86_64 into $HOME\.local\bin (or -Dir DIR).
#
#   irm https://github.com/sampling-proxy/sampling-proxy/releases/latest/download/install.ps1 | iex
#   .\install.ps1 -Version 0.1.0 -Dir C:\tools
#
# It downloads the release's SHA256SUMS, picks the line of the Windows binary, downloads that binary into a
# temporary folder, checks its SHA-256 against the line, and only then moves it into place and runs it
# (--version). A missing or wrong checksum stops it with nothing installed and nothing run.
#
# Environment: SAMPLING_PROXY_REPO (owner/name on GitHub, default sampling-proxy/sampling-proxy),
# SAMPLING_PROXY_DOWNLOAD_URL (the releases URL; a mirror must have the layout latest/download/FILE and
# download/vVERSION/FILE).
param(
  [string]$Version = "latest",
  [string]$Dir = (Join-Path $HOME ".local\bin")
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture
if ($arch -ne [System.Runtime.InteropServices.Architecture]::X64) {
  throw "install.ps1: no release binary for Windows on $arch"
}
$target = "x86_64-pc-windows-msvc"
$repo = if ($env:SAMPLING_PROXY_REPO) { $env:SAMPLING_PROXY_REPO } else { "sampling-proxy/sampling-proxy" }
$releases = if ($env:SAMPLING_PROXY_DOWNLOAD_URL) { $env:SAMPLING_PROXY_DOWNLOAD_URL } else { "https://github.com/$repo/releases" }
$base = if ($Version -eq "latest") { "$releases/latest/download" }
  elseif ($Version.StartsWith("v")) { "$releases/download/$Version" }
  else { "$releases/download/v$Version" }

$work = Join-Path ([System.IO.Path]::GetTempPath()) ("sampling-proxy-install-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $work | Out-Null
try {
  $sums = Join-Path $work "SHA256SUMS"
  Invoke-WebRequest -UseBasicParsing -Uri "$base/SHA256SUMS" -OutFile $sums
  $line = Get-Content $sums | Where-Object { $_ -match "^[0-9a-f]{64}  sampling-proxy-\S+-$target\.exe$" } |
    Select-Object -First 1
  if (-not $line) { throw "install.ps1: the release at $base has no binary for $target" }
  $expected, $name = $line -split "  ", 2
  $download = Join-Path $work $name
  Invoke-WebRequest -UseBasicParsing -Uri "$base/$name" -OutFile $download
  $actual = (Get-FileHash -Algorithm SHA256 -Path $download).Hash.ToLowerInvariant()
  if ($actual -ne $expected) {
    throw "install.ps1: checksum mismatch for ${name}: expected $expected, got $actual; nothing installed"
  }
  New-Item -ItemType Directory -Force -Path $Dir | Out-Null
  $installed = Join-Path $Dir "sampling-proxy.exe"
  Move-Item -Force -Path $download -Destination $installed
  Write-Output "Installed $name as $installed"
  & $installed --version
  if (-not (($env:PATH -split ";") -contains $Dir)) { Write-Output "Add $Dir to PATH to run sampling-proxy by name" }
} finally {
  Remove-Item -Recurse -Force -Path $work -ErrorAction SilentlyContinue
}
