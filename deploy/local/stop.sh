#!/usr/bin/env bash
# Stops the local cluster: nginx first (no new requests), then the gateways (they finish their requests
# while every silo still runs), then the silos one at a time (each hands its grains to the ones still
# running), then PostgreSQL.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"

[[ -d "$run_dir" ]] || { log "nothing runs ($run_dir does not exist)"; exit 0; }
"$(dirname "$0")/nginx.sh" stop
for i in $(seq 1 $gateway_count); do terminate "gateway$i"; done
for i in $(seq $silo_count -1 1); do terminate "silo$i"; done
HOMESERVER_PG_STATE="$run_dir/postgres.state" "$repo_root/scripts/postgres.sh" stop
log "stopped; logs stay in $run_dir"
