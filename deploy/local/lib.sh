# Shared by start.sh, stop.sh and drain-silo.sh; sourced, not run.
# HOMESERVER_LOCAL_RUN: run directory (default deploy/local/.run): pids, logs, data, nginx, PostgreSQL state.
# HOMESERVER_LOCAL_PORT: loopback port of nginx (default 8008).

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run_dir="${HOMESERVER_LOCAL_RUN:-$repo_root/deploy/local/.run}"
nginx_port="${HOMESERVER_LOCAL_PORT:-8008}"
dll="$repo_root/src/Silo/bin/Release/net10.0/HomeServer.Silo.dll"
shutdown_timeout_seconds=30
silo_count=3
gateway_count=2

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "error: $*"; exit 1; }

silo_http_port() { echo $((8100 + $1)); }
silo_cluster_port() { echo $((11110 + $1)); }
gateway_http_port() { echo $((8200 + $1)); }

# Starts process NAME (silo1, gateway2, ...) with the arguments saved in $run_dir/NAME.args plus "$@".
launch() {
  local name="$1"; shift
  local -a args
  mapfile -t args <"$run_dir/$name.args"
  rm -f "$run_dir/$name.exit"
  # setsid: its own process group, which outlives this script and an interrupt of the terminal. The bash
  # wrapper records the exit code; its TERM trap only lets it wait for dotnet (a trap, unlike an ignored
  # signal, is not inherited by dotnet).
  setsid bash -c 'trap : TERM; dotnet "$@"; echo $? >"$0"' "$run_dir/$name.exit" "$dll" "${args[@]}" "$@" \
    >>"$run_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$run_dir/$name.pid"
}

is_running() { [[ -f "$run_dir/$1.pid" ]] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

wait_ready() {
  local url="$1" deadline=$((SECONDS + ${2:-120}))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" == 200 ]]; do
    ((SECONDS < deadline)) || die "$url not ready after ${2:-120}s"
    sleep 0.5
  done
}

# SIGTERM, then wait for the exit; the graceful drain has ShutdownTimeout plus a margin.
terminate() {
  local name="$1" pid
  is_running "$name" || { rm -f "$run_dir/$name.pid"; return 0; }
  pid="$(cat "$run_dir/$name.pid")"
  log "SIGTERM $name (process group $pid)"
  kill -TERM -- "-$pid"
  local deadline=$((SECONDS + shutdown_timeout_seconds + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name did not exit in time; SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$run_dir/$name.pid"
  local code; code="$(cat "$run_dir/$name.exit" 2>/dev/null || echo unknown)"
  if [[ "$code" == 0 ]]; then log "$name exited with code 0"
  else log "warning: $name exited with code $code (log: $run_dir/$name.log)"; fi
}
