# Shared by scripts/localstack-host.sh and scripts/ministack-host.sh: waiting for a host process
# to become ready, and stopping it. Sourced; the caller defines `log`.

# host_wait_ready NAME PIDFILE LOGFILE SECONDS CHECK...: runs CHECK until it succeeds; fails,
# printing the log's last lines, when the process exits first or SECONDS pass.
host_wait_ready() {
  local name=$1 pidfile=$2 logfile=$3 seconds=$4
  shift 4
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "$name exited before it was ready; last lines of $logfile:"
      tail -n 30 "$logfile" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$name not ready after $seconds s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2
      return 1
    fi
    sleep 0.3
  done
}

# host_stop PIDFILE: stops the process PIDFILE names (TERM, then KILL after 10 s), if running.
host_stop() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "stopped"
}
