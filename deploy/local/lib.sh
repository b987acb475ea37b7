# Shared by the deploy/local scripts; sourced, not run. Every setting has a default and an environment variable:
# HOMESERVER_LOCAL_RUN: run directory (default deploy/local/.run): pids, logs, data, nginx, PostgreSQL state.
# HOMESERVER_LOCAL_PORT: loopback port of nginx (default 8008).
# HOMESERVER_LOCAL_SILO_HTTP_PORTS, HOMESERVER_LOCAL_SILO_CLUSTER_PORTS, HOMESERVER_LOCAL_SILO_GATEWAY_PORTS: one port
#   per silo, space-separated (defaults "8101 8102 8103", "11111 11112 11113" for silo-to-silo traffic and
#   "30001 30002 30003" where gateways reach the silos); their number is the number of silos.
# HOMESERVER_LOCAL_GATEWAY_HTTP_PORTS: one port per gateway (default "8201 8202").
# HOMESERVER_LOCAL_POSTGRES: connection string of an existing PostgreSQL database to use instead of starting a
#   throwaway server (stop.sh then leaves it alone).
# HOMESERVER_LOCAL_DLL: a built HomeServer.Silo.dll to run instead of building src/Silo (Release).

source "$(dirname "${BASH_SOURCE[0]}")/rate-limits.sh"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run_dir="${HOMESERVER_LOCAL_RUN:-$repo_root/deploy/local/.run}"
nginx_port="${HOMESERVER_LOCAL_PORT:-8008}"
read -r -a silo_http_ports <<<"${HOMESERVER_LOCAL_SILO_HTTP_PORTS:-8101 8102 8103}"
read -r -a silo_cluster_ports <<<"${HOMESERVER_LOCAL_SILO_CLUSTER_PORTS:-11111 11112 11113}"
read -r -a silo_gateway_ports <<<"${HOMESERVER_LOCAL_SILO_GATEWAY_PORTS:-30001 30002 30003}"
read -r -a gateway_http_ports <<<"${HOMESERVER_LOCAL_GATEWAY_HTTP_PORTS:-8201 8202}"
dll="${HOMESERVER_LOCAL_DLL:-$repo_root/src/Silo/bin/Release/net10.0/HomeServer.Silo.dll}"
shutdown_timeout_seconds=30
silo_count=${#silo_http_ports[@]}
gateway_count=${#gateway_http_ports[@]}

log() { echo "$(basename "$0"): $*" >&2; }
die() { log "error: $*"; exit 1; }

((silo_count == ${#silo_cluster_ports[@]})) || die "HOMESERVER_LOCAL_SILO_HTTP_PORTS and HOMESERVER_LOCAL_SILO_CLUSTER_PORTS differ in length"
((silo_count == ${#silo_gateway_ports[@]})) || die "HOMESERVER_LOCAL_SILO_HTTP_PORTS and HOMESERVER_LOCAL_SILO_GATEWAY_PORTS differ in length"

silo_http_port() { echo "${silo_http_ports[$1 - 1]}"; }
silo_cluster_port() { echo "${silo_cluster_ports[$1 - 1]}"; }
silo_gateway_port() { echo "${silo_gateway_ports[$1 - 1]}"; }
gateway_http_port() { echo "${gateway_http_ports[$1 - 1]}"; }

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

# Whether the process exists and is not a zombie: one killed with SIGKILL stays a zombie until it is reaped, and its
# process group is already gone.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

is_running() { [[ -f "$run_dir/$1.pid" ]] && alive "$(cat "$run_dir/$1.pid")"; }

wait_ready() {
  local url="$1" deadline=$((SECONDS + ${2:-120}))
  until [[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$url" || true)" == 200 ]]; do
    ((SECONDS < deadline)) || die "$url not ready after ${2:-120}s"
    sleep 0.5
  done
}

# restart NAME READY_URL [--<key>=<value> ...]: drains NAME (SIGTERM, wait for its exit), starts it again with its
# original arguments plus the extra ones and waits until READY_URL answers 200. A process that is not running
# (e.g. after a crash) is only started.
restart() {
  local name="$1" ready_url="$2"; shift 2
  terminate "$name"
  log "starting $name again${*:+ with $*}"
  launch "$name" "$@"
  wait_ready "$ready_url"
  log "$name ready"
}

# SIGTERM, then wait for the exit; the graceful drain has ShutdownTimeout plus a margin.
terminate() {
  local name="$1" pid
  is_running "$name" || { rm -f "$run_dir/$name.pid"; return 0; }
  pid="$(cat "$run_dir/$name.pid")"
  log "SIGTERM $name (process group $pid)"
  # It may die on its own between the check above and this signal.
  kill -TERM -- "-$pid" 2>/dev/null || true
  local deadline=$((SECONDS + shutdown_timeout_seconds + 15))
  while alive "$pid"; do
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
