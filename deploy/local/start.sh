#!/usr/bin/env bash
# Starts a local cluster on loopback: PostgreSQL, 3 silos, 2 gateways and nginx in front of the gateways.
#   deploy/local/start.sh [--<key>=<value> ...]   extra settings for every process; stop it with deploy/local/stop.sh
# Ports, run directory, an existing PostgreSQL and a prebuilt program: see the variables in lib.sh.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"

mkdir -p "$run_dir"
for name in $(seq -f silo%g 1 $silo_count) $(seq -f gateway%g 1 $gateway_count); do
  is_running "$name" && die "$name already runs (pid $(cat "$run_dir/$name.pid")); run stop.sh first"
done

if [[ -n "${HOMESERVER_LOCAL_POSTGRES:-}" ]]; then
  log "using the PostgreSQL database of HOMESERVER_LOCAL_POSTGRES"
  pg="$HOMESERVER_LOCAL_POSTGRES"
else
  log "starting PostgreSQL"
  export HOMESERVER_PG_STATE="$run_dir/postgres.state"
  eval "$("$repo_root/scripts/postgres.sh" start)"
  pg="$HOMESERVER_TEST_POSTGRES"
fi

if [[ -n "${HOMESERVER_LOCAL_DLL:-}" ]]; then
  [[ -f "$dll" ]] || die "HOMESERVER_LOCAL_DLL=$dll does not exist"
else
  log "building"
  dotnet build "$repo_root/src/Silo" -c Release -v quiet -nologo >"$run_dir/build.log" 2>&1 \
    || { tail -n 30 "$run_dir/build.log" >&2; die "build failed (log: $run_dir/build.log)"; }
fi

# nginx on loopback names the client in X-Forwarded-For. Everything reaching this cluster (development, drills, the
# cluster tests, bench/) comes from 127.0.0.1 and registers and sends far faster than a person, so every rate limit
# bucket is raised far above the production defaults (README, "Rate limits"); arguments to this script still win.
limits=(--RateLimits:TrustedProxies:0=127.0.0.1 "${generous_rate_limits[@]}")

common=(--Storage:Kind=postgres "--Storage:ConnectionString=$pg" --Cluster:Membership=postgres
  --ServerName=localhost "--PublicBaseUrl=http://127.0.0.1:$nginx_port"
  "--ShutdownTimeout=00:00:$shutdown_timeout_seconds" --Registration:Mode=open "--Media:Directory=$run_dir/media"
  "${limits[@]}" "$@")

for i in $(seq 1 $silo_count); do
  printf '%s\n' "${common[@]}" --Cluster:Role=silo "--urls=http://127.0.0.1:$(silo_http_port "$i")" \
    "--Cluster:SiloPort=$(silo_cluster_port "$i")" "--Cluster:GatewayPort=$(silo_gateway_port "$i")" \
    "--DataDirectory=$run_dir/silo$i" >"$run_dir/silo$i.args"
  launch "silo$i"
done
for i in $(seq 1 $gateway_count); do
  printf '%s\n' "${common[@]}" --Cluster:Role=gateway "--urls=http://127.0.0.1:$(gateway_http_port "$i")" \
    "--DataDirectory=$run_dir/gateway$i" >"$run_dir/gateway$i.args"
  launch "gateway$i"
done

log "starting nginx on 127.0.0.1:$nginx_port"
"$(dirname "$0")/nginx.sh" start

for i in $(seq 1 $silo_count); do wait_ready "http://127.0.0.1:$(silo_http_port "$i")/health/ready"; done
for i in $(seq 1 $gateway_count); do wait_ready "http://127.0.0.1:$(gateway_http_port "$i")/health/ready"; done
wait_ready "http://127.0.0.1:$nginx_port/health/ready"

echo "client URL:  http://127.0.0.1:$nginx_port (nginx)"
for i in $(seq 1 $gateway_count); do echo "gateway$i:    http://127.0.0.1:$(gateway_http_port "$i")"; done
for i in $(seq 1 $silo_count); do
  echo "silo$i:       http://127.0.0.1:$(silo_http_port "$i") (silo port $(silo_cluster_port "$i"), gateway port $(silo_gateway_port "$i"))"
done
echo "PostgreSQL:  $pg"
echo "logs, pids:  $run_dir"
