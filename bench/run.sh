#!/usr/bin/env bash
# bench/run.sh <fanout|herd|throughput|drain|todevice|thumbnail|search|overload> [--mode shared|naive] [--runs N] [load generator options...]
# bench/run.sh <curve-fanout|curve-throughput> --points P1,P2,... [--mode shared|naive] [--runs N] [load generator options...]
# bench/run.sh <federation-catchup|federation-inbound> [options...]: two federating servers, see bench/federation.sh.
#
# Everything a scenario needs on a fresh machine: a private PostgreSQL (scripts/postgres.sh), Release builds of
# src/Silo and bench/LoadGenerator, the server as a child process on a free loopback port (PostgreSQL store, cheap
# password hashing, shared-secret registration for the admin that reads the counters, the delivery mode asked for),
# the generator against it (it samples the server's CPU seconds and RSS from /proc/<pid>), then everything stopped.
# fanout, throughput, todevice, search and overload seed once and measure --runs times on the same server (bench/medians.py prints the medians).
# herd seeds its big room once, then measures both modes in turn (--runs times each, the server restarted cold
# before each; only the one --mode names, if given) and prints the naive/shared ratio. drain starts deploy/local's cluster (3 silos, 2 gateways, nginx).
# curve-fanout (--clients at each point) and curve-throughput (--rooms at each point) run that scenario once per point,
# each on a fresh PostgreSQL and server, then write the curve of the medians (bench/results/curve-<scenario>-<time>.*).
# Results: bench/results/<scenario>[-<mode>]-<time>.{json,md,svg}. Environment: HOMESERVER_PG_STATE (default
# /tmp/homeserver-bench-postgres.state), BENCH_OUTPUT (default bench/results), BENCH_KEEP_POSTGRES=1 (reuse the
# PostgreSQL of that state file if it runs and leave it running: with --fixture FILE, later invocations skip
# seeding; stop it with `HOMESERVER_PG_STATE=... scripts/postgres.sh stop`).
set -Eeuo pipefail
case "${1:-}" in federation-catchup|federation-inbound) exec "$(dirname "$0")/federation.sh" "$@" ;; esac

repo="$(cd "$(dirname "$0")/.." && pwd)"
# The load comes from one address: every rate limit bucket is raised (generous_rate_limits).
source "$repo/deploy/local/rate-limits.sh"
scenario="${1:-}"
[[ "$scenario" =~ ^(fanout|herd|throughput|drain|todevice|thumbnail|search|overload|curve-fanout|curve-throughput)$ ]] || { sed -n '2,4p' "$0" >&2; exit 2; }
shift
mode=shared mode_given=0 runs=1 fixture="" points="" generator_args=()
while (($#)); do
  case "$1" in
    --fixture) fixture="$2"; shift 2 ;;
    --fixture=*) fixture="${1#--fixture=}"; shift ;;
    --mode) mode="$2"; mode_given=1; shift 2 ;;
    --mode=*) mode="${1#--mode=}"; mode_given=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --points) points="$2"; shift 2 ;;
    --points=*) points="${1#--points=}"; shift ;;
    *) generator_args+=("$1"); shift ;;
  esac
done
[[ "$mode" =~ ^(shared|naive)$ ]] || { echo "run.sh: --mode must be shared or naive" >&2; exit 2; }
if [[ "$scenario" == curve-* ]]; then
  [[ "$points" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "run.sh: $scenario needs --points, e.g. --points 100,1000,5000" >&2; exit 2; }
  [[ -z "$fixture" ]] || { echo "run.sh: $scenario seeds every point afresh; --fixture does not apply" >&2; exit 2; }
  # The option the curve varies: one value per point, so it cannot also be given.
  point_option=--clients
  [[ "$scenario" == curve-fanout ]] || point_option=--rooms
  for arg in "${generator_args[@]}"; do
    [[ "$arg" != "$point_option" && "$arg" != "$point_option="* ]] || { echo "run.sh: $scenario sets $point_option from --points" >&2; exit 2; }
  done
elif [[ -n "$points" ]]; then
  echo "run.sh: --points is for curve-fanout and curve-throughput" >&2; exit 2
fi

export HOMESERVER_PG_STATE="${HOMESERVER_PG_STATE:-/tmp/homeserver-bench-postgres.state}"
output="${BENCH_OUTPUT:-$repo/bench/results}"
work="$(mktemp -d /tmp/homeserver-bench.XXXXXX)"
secret="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
silo_dll="$repo/src/Silo/bin/Release/net10.0/HomeServer.Silo.dll"
generator_dll="$repo/bench/LoadGenerator/bin/Release/net10.0/HomeServer.LoadGenerator.dll"
server_pid=""
cluster_run=""
# Arguments for the server of one scenario only (herd lifts the in-flight bounds).
server_args=()

log() { echo "run.sh: $*" >&2; }

cleanup() {
  stop_server
  if [[ -s "$work/server.log" ]]; then
    mkdir -p "$output/logs" && cp "$work/server.log" "$output/logs/server-$scenario-$(date -u +%Y%m%d-%H%M%S).log"
  fi
  if [[ -n "$cluster_run" ]]; then HOMESERVER_LOCAL_RUN="$cluster_run" "$repo/deploy/local/stop.sh" || true; fi
  [[ "${BENCH_KEEP_POSTGRES:-}" == 1 ]] || "$repo/scripts/postgres.sh" stop >/dev/null 2>&1 || true
  rm -rf -- "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

fresh_postgres() {
  [[ "${BENCH_KEEP_POSTGRES:-}" == 1 ]] || "$repo/scripts/postgres.sh" stop >/dev/null 2>&1 || true
  eval "$("$repo/scripts/postgres.sh" start)"
  pg="$HOMESERVER_TEST_POSTGRES"
}

# start_server <mode>: the server in the background on a free port; sets server_pid and url.
start_server() {
  local port; port="$(free_port)"
  url="http://127.0.0.1:$port"
  dotnet "$silo_dll" "--urls=$url" --Storage:Kind=postgres "--Storage:ConnectionString=$pg" \
    --PasswordHashing:Iterations=1 --Registration:Mode=open "--Registration:SharedSecret=$secret" \
    "--SyncDelivery:Mode=$1" "--DataDirectory=$work/data" --Logging:LogLevel:Default=Warning "${generous_rate_limits[@]}" "${server_args[@]}" \
    --InputLimits:MaxConnectionsPerIp=0 \
    >>"$work/server.log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + 120))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)" == 200 ]]; do
    kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$work/server.log" >&2; log "the server exited"; exit 1; }
    ((SECONDS < deadline)) || { log "the server was not ready in 120 s"; exit 1; }
    sleep 0.3
  done
  log "server ($1 mode) pid $server_pid on $url"
}

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# CPU seconds used so far by the PostgreSQL server of $pg and its backends (their share of the two cores).
postgres_cpu_seconds() {
  local port; port="$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$pg")"
  python3 - "$port" <<'PY'
import os, sys
port, ticks = sys.argv[1], os.sysconf("SC_CLK_TCK")
def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])  # ppid, utime + stime
master = next((p for p in os.listdir("/proc") if p.isdigit() and f"-p {port}" in open(f"/proc/{p}/cmdline").read().replace("\0", " ")), None)
total = 0
for pid in (p for p in os.listdir("/proc") if p.isdigit()):
    try:
        ppid, cpu = stat(pid)
    except OSError:
        continue
    if pid == master or str(ppid) == master:
        total += cpu
print(f"{total / ticks:.2f}")
PY
}

# The pid of the postmaster of $HOMESERVER_PG_STATE's PostgreSQL: the generator counts its CPU in each measured window.
postgres_pid() { head -n 1 "$(sed -n 's/^data_dir=//p' "$HOMESERVER_PG_STATE")/pgdata/postmaster.pid"; }

generate() {
  local pg_before="" postgres_args=()
  [[ -z "${pg:-}" ]] || { pg_before="$(postgres_cpu_seconds 2>/dev/null || echo 0)"; postgres_args=(--postgres-pid "$(postgres_pid)"); }
  dotnet "$generator_dll" "$@" --url "$url" --shared-secret "$secret" --output "$output" "${postgres_args[@]}" "${generator_args[@]}"
  # Backends that exited during the run are not counted; the drain cluster's PostgreSQL is not sampled.
  [[ -z "$pg_before" ]] || log "PostgreSQL CPU seconds during this generator run (seeding included): $(python3 -c "print(round($(postgres_cpu_seconds 2>/dev/null || echo 0) - $pg_before, 2))")"
}

log "building src/Silo and bench/LoadGenerator (Release)"
dotnet build "$repo/src/Silo" -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
dotnet build "$repo/bench/LoadGenerator" -c Release -v quiet -nologo >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

case "$scenario" in
  fanout|throughput|todevice|search|overload)
    # throughput's 100 closed-loop senders and fanout's one sender at 10/s measure cost and delivery, not admission
    # (Overload); overload keeps the defaults.
    [[ "$scenario" != throughput && "$scenario" != fanout ]] \
      || server_args=(--Overload:MaxConcurrentRequests=100000 --Overload:MaxConcurrentRequestsPerUser=100000)
    fresh_postgres
    start_server "$mode"
    generate "$scenario" --server-pid "$server_pid" --label "$mode" --runs "$runs" ${fixture:+--fixture "$fixture"} | tee "$work/$scenario.out"
    stop_server
    if ((runs > 1)); then
      mapfile -t files < <(grep -o 'results: .*\.json' "$work/$scenario.out" | sed 's/^results: //')
      python3 "$repo/bench/medians.py" "${files[@]}"
    fi
    ;;
  thumbnail)
    fresh_postgres
    start_server "$mode"
    generate thumbnail --server-pid "$server_pid"
    stop_server
    ;;
  herd)
    # 1,000 initial syncs released at the same instant would otherwise be shed past the in-flight bounds (Overload);
    # herd measures the shared state snapshot, not admission.
    server_args=(--Overload:MaxConcurrentRequests=100000)
    fresh_postgres
    fixture="${fixture:-$work/herd-fixture.json}"
    if [[ ! -f "$fixture" ]]; then
      start_server shared
      generate herd --fixture "$fixture" --seed-only
      stop_server
    fi
    ((runs > 0)) || exit 0
    # Both modes unless --mode names one (then no ratio is printed).
    modes=(shared naive)
    ((mode_given)) && modes=("$mode")
    for run in $(seq 1 "$runs"); do
      for each in "${modes[@]}"; do
        log "herd run $run/$runs, $each mode (server restarted cold)"
        start_server "$each"
        generate herd --fixture "$fixture" --server-pid "$server_pid" --label "$each" | tee "$work/herd-$each-$run.out"
        stop_server
        grep -o 'results: .*\.json' "$work/herd-$each-$run.out" | sed 's/^results: //' >>"$work/herd-$each.files"
      done
    done
    ((${#modes[@]} == 2)) || exit 0
    python3 - "$work/herd-shared.files" "$work/herd-naive.files" <<'PY'
import json, statistics, sys
def runs(path):
    return [json.load(open(line.strip()))["measured"] for line in open(path) if line.strip()]
shared, naive = runs(sys.argv[1]), runs(sys.argv[2])
s = statistics.median(r["all_done_ms"] for r in shared)
n = statistics.median(r["all_done_ms"] for r in naive)
failed = lambda rs: ", ".join(str(r["failed_syncs"]) for r in rs)
print(f"herd: all initial syncs done, median of {len(shared)} run(s): shared {s:.0f} ms, naive {n:.0f} ms; naive/shared = {n / s:.1f}x")
print(f"herd: failed syncs per run: shared {failed(shared)}; naive {failed(naive)} (a failed sync ends early: the ratio only means something when both are 0)")
PY
    ;;
  curve-fanout|curve-throughput)
    base="${scenario#curve-}"
    # 1,000 rooms mean 1,000 closed-loop senders: the curve measures cost per event, not admission (Overload).
    server_args=(--Overload:MaxConcurrentRequests=100000 --Overload:MaxConcurrentRequestsPerUser=100000)
    : >"$work/curve.files"
    for point in ${points//,/ }; do
      log "$scenario: point $point_option $point (fresh PostgreSQL and server; seeding is not measured)"
      fresh_postgres
      start_server "$mode"
      generate "$base" --server-pid "$server_pid" --label "$mode" --runs "$runs" "$point_option" "$point" | tee "$work/curve-$point.out"
      stop_server
      grep -o 'results: .*\.json' "$work/curve-$point.out" | sed 's/^results: //' >>"$work/curve.files"
    done
    mapfile -t files <"$work/curve.files"
    dotnet "$generator_dll" curve --output "$output" "${files[@]}"
    ;;
  drain)
    # nginx runs as nobody when started by root, and must reach its configuration under the run directory.
    chmod 755 "$work"
    cluster_run="$work/cluster"
    export HOMESERVER_LOCAL_RUN="$cluster_run" HOMESERVER_LOCAL_PORT="$(free_port)"
    # The cluster's processes read these from the environment (start.sh passes no such arguments).
    export HOMESERVER_PasswordHashing__Iterations=1 HOMESERVER_Registration__SharedSecret="$secret"
    "$repo/deploy/local/start.sh"
    url="http://127.0.0.1:$HOMESERVER_LOCAL_PORT"
    generate drain --drain-command "$repo/deploy/local/drain-silo.sh {n}"
    ;;
esac
