#!/usr/bin/env bash
# bench/federation.sh <federation-catchup|federation-inbound> [--runs N] [--rooms N] [--outage-seconds S] [--rate EVENTS_PER_S]
#                     [--events N] [--catch-up-threshold N]        (also reached as bench/run.sh federation-catchup|federation-inbound)
#
# Two servers of this project (Release builds of src/Silo, each with its own SQLite database under a temporary
# directory, HTTPS on loopback with a throwaway CA) federating: S's user creates --rooms rooms (default 1000) and R's user
# joins each over federation. Then --runs times (default 3): R is stopped (SIGTERM) while S's user keeps sending, and
# started again (bench/Federation/Program.cs says what each scenario sends and measures):
#   federation-catchup  --rate events/s (default 20) for --outage-seconds (default 120); S's default catch-up threshold
#                       unless --catch-up-threshold is given.
#   federation-inbound  --events events (default 6000) as fast as S takes them; S sends R everything in order (no
#                       catch-up): R's accepted PDUs per second.
# Results: bench/results/federation-<scenario>-<time>.md (the table of runs and the medians); the servers' logs in
# bench/results/logs/. Environment: BENCH_OUTPUT (default bench/results).
set -Eeuo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
source "$repo/deploy/local/rate-limits.sh"
scenario="${1:-}"
[[ "$scenario" =~ ^federation-(catchup|inbound)$ ]] || { sed -n '2,3p' "$0" >&2; exit 2; }
shift
output="${BENCH_OUTPUT:-$repo/bench/results}"
work="$(mktemp -d /tmp/homeserver-fedbench.XXXXXX)"
stamp="$(date -u +%Y%m%d-%H%M%S)"

log() { echo "federation.sh: $*" >&2; }

cleanup() {
  mkdir -p "$output/logs"
  for side in s r; do [[ ! -s "$work/$side.log" ]] || cp "$work/$side.log" "$output/logs/server-$scenario-$side-$stamp.log"; done
  rm -rf -- "$work"
}
trap cleanup EXIT

log "building src/Silo and bench/Federation (Release)"
dotnet build "$repo/src/Silo" -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
dotnet build "$repo/bench/Federation" -c Release -v quiet -nologo >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$output"
result="$output/$scenario-$stamp.md"
dotnet "$repo/bench/Federation/bin/Release/net10.0/HomeServer.FederationBench.dll" \
  --scenario "${scenario#federation-}" --silo-dll "$repo/src/Silo/bin/Release/net10.0/HomeServer.Silo.dll" --work "$work" "$@" \
  -- "${generous_rate_limits[@]}" | tee "$result"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
log "results: $result"
