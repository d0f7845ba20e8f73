#!/usr/bin/env bash
# LocalStack (community) as a host process, no Docker needed.
#
#   scripts/localstack-host.sh start    bootstrap the pinned version into the cache (once), start it,
#                                       wait until it answers; prints the endpoint URL
#   scripts/localstack-host.sh stop     stop the process started by `start`
#   scripts/localstack-host.sh status   exit 0 when the endpoint answers
#
# The version and its companion pins were measured on our machines (see ../shared/FACTS.md):
# LocalStack >= 4.10 needs Python 3.13, so we stay on 4.9.2 with Python 3.11. psutil 7.2 moved
# `snicaddr`, which LocalStack 4.9.2 imports when it creates a Lambda function through
# CloudFormation, so psutil stays below 7.2.
#
# Loopback only: LocalStack's default gateway server (twisted) ignores GATEWAY_LISTEN's IPv4
# address and listens on every interface (its runtime/server/twisted.py: "TODO: interface =
# host?"); the hypercorn server binds the address given (harness/tests/integration/loopback.rs
# checks the listening socket).
set -euo pipefail

LOCALSTACK_VERSION=4.9.2
PINS=("localstack-core[runtime]==${LOCALSTACK_VERSION}" 'cbor2<5.7' 'cryptography>=42,<44' 'pyopenssl==24.2.1' service_identity 'joserfc<1.8' 'psutil<7.2')
SERVICES=${LOCALSTACK_SERVICES:-s3,firehose,ssm,logs,events,ec2,iam,sts,sqs,cloudformation,lambda,sns,cloudwatch}
PORT=${LOCALSTACK_PORT:-4566}
CACHE=${LOGLAB_CACHE:-$HOME/.cache/loglab}
HOME_DIR="$CACHE/localstack-$LOCALSTACK_VERSION"
VENV="$HOME_DIR/venv"
STATE="$CACHE/localstack-run-$PORT"
ENDPOINT="http://127.0.0.1:$PORT"

# shellcheck source=lib/host-process.sh
source "$(dirname "$0")/lib/host-process.sh"

log() { echo "localstack-host: $*" >&2; }

python_bin() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  log "LocalStack $LOCALSTACK_VERSION needs Python 3.11 (python3.11 or python3 on PATH); none found"
  return 1
}

bootstrap() {
  # The marker holds the pins it was installed with, so a change of pins reinstalls.
  if [ "$(cat "$VENV/.complete" 2>/dev/null)" = "${PINS[*]}" ]; then return 0; fi
  local py
  py=$(python_bin)
  log "installing LocalStack $LOCALSTACK_VERSION into $VENV (one time, ~1 min)"
  rm -rf "$VENV"
  mkdir -p "$HOME_DIR"
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
  echo "${PINS[*]}" >"$VENV/.complete"
}

ready_marker_and_answers() {
  grep -q '^Ready\.' "$STATE/localstack.log" 2>/dev/null && answers
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
  local logfile="$STATE/localstack.log"
  log "starting LocalStack $LOCALSTACK_VERSION at $ENDPOINT (log: $logfile)"
  (
    cd "$STATE"
    GATEWAY_LISTEN="127.0.0.1:$PORT" GATEWAY_SERVER=hypercorn SERVICES="$SERVICES" DNS_ADDRESS=0 DISABLE_EVENTS=1 \
      SKIP_SSL_CERT_DOWNLOAD=1 LOCALSTACK_VOLUME_DIR="$STATE/volume" \
      nohup "$VENV/bin/python" -m localstack.runtime.main >"$logfile" 2>&1 &
    echo $! >"$STATE/pid"
  )
  host_wait_ready LocalStack "$STATE/pid" "$logfile" 120 ready_marker_and_answers || return 1
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
