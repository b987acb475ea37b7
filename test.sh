#!/usr/bin/env bash
# Runs every test of the solution on a fresh Debian machine with the .NET SDK:
# starts a private throwaway PostgreSQL (installing Debian's postgresql when missing and root),
# installs the real-client test dependencies (npm packages, Debian's python3-matrix-nio), runs `dotnet test`, and always stops the server.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

die() { echo "test.sh: $*" >&2; exit 1; }
command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH"

work="$(mktemp -d)"
export HOMESERVER_PG_STATE="$work/postgres.state"
export HOMESERVER_PG_OWNER_PID=$$
cleanup() {
  scripts/postgres.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

eval "$(scripts/postgres.sh start)" || die "could not start a private PostgreSQL server"
[ -n "${HOMESERVER_TEST_POSTGRES:-}" ] || die "scripts/postgres.sh did not export HOMESERVER_TEST_POSTGRES"
echo "test.sh: private PostgreSQL at ${HOMESERVER_TEST_POSTGRES}"

if [ -f tests/clients/package.json ]; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing Debian's nodejs and npm for the real-client tests" >&2
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm) >&2 \
      || die "could not install nodejs and npm"
  fi
  command -v npm >/dev/null || die "npm is needed for the real-client tests in tests/clients"
  (cd tests/clients && npm install --no-audit --no-fund --loglevel=error) || die "npm install in tests/clients failed"
fi

# Debian's python3-matrix-nio for the nio real-client test (tests/clients/nio_client_test.py).
if ! /usr/bin/python3 -c 'import nio' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing Debian's python3-matrix-nio for the nio real-client test" >&2
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matrix-nio) >&2 \
      || die "could not install python3-matrix-nio"
  fi
  /usr/bin/python3 -c 'import nio' 2>/dev/null || die "Debian's python3-matrix-nio is needed for the nio real-client test (apt-get install python3-matrix-nio)"
fi

status=0
dotnet test Orleans.HomeServer.sln "$@" 2>&1 | tee "$work/test.log" || status=$?

# One closing line over all test assemblies, in the plain "N passed, N failed" form.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
       }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$work/test.log"
exit "$status"
