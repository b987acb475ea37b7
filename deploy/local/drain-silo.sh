#!/usr/bin/env bash
# drain-silo.sh N [--<key>=<value> ...]: SIGTERM silo N, wait until it has drained and exited, start it again
# with its original arguments plus the extra ones, wait until it is ready. One step of a rolling upgrade.
# A silo that is not running (crashed, killed) is only started: it rejoins as a new generation.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"

n="${1:-}"
[[ "$n" =~ ^[0-9]+$ && -f "$run_dir/silo$n.args" ]] || die "usage: $0 N [--<key>=<value> ...] (silo N of a cluster from start.sh)"
shift
restart "silo$n" "http://127.0.0.1:$(silo_http_port "$n")/health/ready" "$@"
