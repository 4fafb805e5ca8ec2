#!/usr/bin/env bash
# The shell steps of the GitHub Action (action.yml): start sampling-proxy in the background and wait until it
# listens, or stop it. Usable from any CI.
#
#   ci_service.sh start STATE_DIR COMMAND [ARGS...]
#   ci_service.sh stop STATE_DIR
#
# start runs `COMMAND ARGS --port PORT --ready-file STATE_DIR/url [-c CONFIG]` in the background, its output going
# to STATE_DIR/log, and waits for the ready file. It fails at once, showing the log, when the proxy exits first (a
# bad config exits 2 within a second or so), and after SAMPLING_PROXY_READY_TIMEOUT seconds (default 60,
# fractions allowed) otherwise. Then it prints the URL and, on GitHub Actions, exports SAMPLING_PROXY_URL and the
# step output `url`.
#   SAMPLING_PROXY_PORT         port to listen on (default 0: a free one)
#   SAMPLING_PROXY_CONFIG_FILE  config file to use, or
#   SAMPLING_PROXY_CONFIG       the config's JSON text, written to STATE_DIR/config.json
# stop sends SIGTERM, waits up to SAMPLING_PROXY_STOP_TIMEOUT seconds (default 40: the 30 s shutdown grace and
# some) for the proxy to exit, then kills it, and shows the log. Nothing started is not an error.
set -euo pipefail

usage() {
  echo "usage: ci_service.sh start STATE_DIR COMMAND [ARGS...] | ci_service.sh stop STATE_DIR" >&2
  exit 2
}

# Tenths of a second in SECONDS (which may have a fraction).
tenths() {
  awk -v s="$1" 'BEGIN { t = int(s * 10); if (s !~ /^[0-9]*\.?[0-9]+$/ || t < 1) exit 1; print t }' ||
    { echo "ci_service.sh: not a number of seconds: $1" >&2; exit 2; }
}

show_log() {
  echo "----- sampling-proxy log -----"
  cat "$1/log" 2>/dev/null || true
  echo "------------------------------"
}

start() {
  local state=$1
  shift
  [ $# -gt 0 ] || usage
  mkdir -p "$state"
  rm -f "$state/url" "$state/pid"
  local args=(--port "${SAMPLING_PROXY_PORT:-0}" --ready-file "$state/url")
  if [ -n "${SAMPLING_PROXY_CONFIG_FILE:-}" ]; then
    args+=(-c "$SAMPLING_PROXY_CONFIG_FILE")
  elif [ -n "${SAMPLING_PROXY_CONFIG:-}" ]; then
    printf '%s\n' "$SAMPLING_PROXY_CONFIG" >"$state/config.json"
    args+=(-c "$state/config.json")
  fi
  local limit
  limit=$(tenths "${SAMPLING_PROXY_READY_TIMEOUT:-60}")
  "$@" "${args[@]}" >"$state/log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$state/pid"
  local waited=0
  until [ -s "$state/url" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local code=0
      wait "$pid" || code=$?
      rm -f "$state/pid"
      echo "sampling-proxy exited early (exit code $code)" >&2
      show_log "$state" >&2
      return 1
    fi
    if [ "$waited" -ge "$limit" ]; then
      echo "sampling-proxy was not ready after ${SAMPLING_PROXY_READY_TIMEOUT:-60} s; stopping it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      rm -f "$state/pid"
      show_log "$state" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local url
  url=$(cat "$state/url")
  echo "sampling-proxy listening on $url"
  if [ -n "${GITHUB_ENV:-}" ]; then echo "SAMPLING_PROXY_URL=$url" >>"$GITHUB_ENV"; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "url=$url" >>"$GITHUB_OUTPUT"; fi
}

stop() {
  local state=$1
  if [ ! -s "$state/pid" ]; then
    echo "sampling-proxy: nothing to stop"
    return 0
  fi
  local pid limit waited=0
  pid=$(cat "$state/pid")
  limit=$(tenths "${SAMPLING_PROXY_STOP_TIMEOUT:-40}")
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$limit" ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "sampling-proxy did not stop within ${SAMPLING_PROXY_STOP_TIMEOUT:-40} s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid"
  echo "sampling-proxy stopped"
  show_log "$state"
}

case "${1:-}" in
  start) [ $# -ge 3 ] || usage; shift; start "$@" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
