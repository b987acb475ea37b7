#!/usr/bin/env bash
# drain-gateway.sh N [--<key>=<value> ...]: SIGTERM gateway N, wait until it has finished its requests and exited,
# start it again with its original arguments plus the extra ones, wait until it is ready. nginx sends the
# requests it cannot place on this gateway meanwhile to the other ones.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"

n="${1:-}"
[[ "$n" =~ ^[0-9]+$ && -f "$run_dir/gateway$n.args" ]] || die "usage: $0 N [--<key>=<value> ...] (gateway N of a cluster from start.sh)"
shift
restart "gateway$n" "http://127.0.0.1:$(gateway_http_port "$n")/health/ready" "$@"
