#!/usr/bin/env bash
# MiniStack, the second emulator (MIT, from PyPI), as a host process on the loopback interface.
#
#   scripts/ministack-host.sh start    install the pinned version into the cache (once), start it,
#                                      wait until it answers; prints the endpoint URL
#   scripts/ministack-host.sh stop     stop the process started by `start`
#   scripts/ministack-host.sh status   exit 0 when the endpoint answers
#
# Port 4567 by default (MINISTACK_PORT), beside LocalStack's 4566, so that both run at once.
# BIND_HOST keeps it on 127.0.0.1 (MiniStack binds every interface unless told otherwise).
set -euo pipefail

MINISTACK_VERSION=1.5.33
PINS=("ministack==${MINISTACK_VERSION}")
PORT=${MINISTACK_PORT:-4567}
CACHE=${LOGLAB_CACHE:-$HOME/.cache/loglab}
HOME_DIR="$CACHE/ministack-$MINISTACK_VERSION"
VENV="$HOME_DIR/venv"
STATE="$CACHE/ministack-run-$PORT"
ENDPOINT="http://127.0.0.1:$PORT"

# shellcheck source=lib/host-process.sh
source "$(dirname "$0")/lib/host-process.sh"

log() { echo "ministack-host: $*" >&2; }

bootstrap() {
  if [ "$(cat "$VENV/.complete" 2>/dev/null)" = "${PINS[*]}" ]; then return 0; fi
  local py=python3
  if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)' 2>/dev/null; then
    log "MiniStack $MINISTACK_VERSION needs Python 3.10 or newer as python3"
    return 1
  fi
  log "installing MiniStack $MINISTACK_VERSION into $VENV (one time)"
  rm -rf "$VENV"
  mkdir -p "$HOME_DIR"
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
  echo "${PINS[*]}" >"$VENV/.complete"
}

answers() {
  curl -fsS --max-time 2 "$ENDPOINT/_localstack/health" >/dev/null 2>&1
}

start() {
  if answers; then
    log "an emulator already answers at $ENDPOINT; using it"
    echo "$ENDPOINT"
    return 0
  fi
  bootstrap
  mkdir -p "$STATE"
  local logfile="$STATE/ministack.log"
  log "starting MiniStack $MINISTACK_VERSION at $ENDPOINT (log: $logfile)"
  (
    cd "$STATE"
    BIND_HOST=127.0.0.1 GATEWAY_PORT="$PORT" nohup "$VENV/bin/ministack" >"$logfile" 2>&1 &
    echo $! >"$STATE/pid"
  )
  host_wait_ready MiniStack "$STATE/pid" "$logfile" 60 answers || return 1
  log "ready"
  echo "$ENDPOINT"
}

stop() {
  host_stop "$STATE/pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  bootstrap) bootstrap ;;
  *) echo "usage: $0 start|stop|status|bootstrap" >&2; exit 2 ;;
esac
