#!/usr/bin/env bash
# Takes a screenshot of the Orleans Dashboard as a server admin sees it: starts a single-node server in a temporary
# data directory, registers an admin with shared-secret registration, makes some traffic (a room, messages, a sync),
# opens /_homeserver/dashboard/?access_token=... in headless Chromium, then stops the server.
# Needs dotnet, curl, python3, openssl and chromium (Debian: apt-get install chromium).
#
#   scripts/dashboard-screenshot.sh [out.png]        (default: docs/images/orleans-dashboard.png)
set -Eeuo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/docs/images/orleans-dashboard.png}")"
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$chromium" ] || { echo "dashboard-screenshot: chromium is required (apt-get install chromium)" >&2; exit 2; }

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
secret="$(openssl rand -hex 16)"
server=""
stop_server() {
  # dotnet run starts the server as a child: stop the whole process group, as Ctrl+C would.
  if [ -n "$server" ]; then kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}
traffic=""
trap '[ -z "$traffic" ] || kill "$traffic" 2>/dev/null; stop_server; rm -rf "$work"' EXIT

echo "Starting the server at $url (log: $work/server.log)"
setsid dotnet run --project "$root/src/Silo" -- --urls="$url" --DataDirectory="$work/data" \
  --Registration:SharedSecret="$secret" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 180); do
  curl -sf "$url/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 1
done
curl -sf "$url/health/ready" >/dev/null || { echo "dashboard-screenshot: the server did not become ready" >&2; exit 1; }

json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
nonce="$(curl -sSf "$url/_synapse/admin/v1/register" | json nonce)"
mac="$(printf '%s\0%s\0%s\0admin' "$nonce" operator "operator-password" | openssl dgst -sha1 -hmac "$secret" | sed 's/^.* //')"
token="$(curl -sSf -X POST "$url/_synapse/admin/v1/register" -H 'Content-Type: application/json' \
  -d "{\"nonce\":\"$nonce\",\"username\":\"operator\",\"password\":\"operator-password\",\"admin\":true,\"mac\":\"$mac\"}" | json access_token)"

# Traffic for a while before and while the page is open: the dashboard's charts and tables cover the last seconds, and
# the silos profile grain calls only while someone reads the dashboard, which the first request here does.
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
curl -sSf "${auth[@]}" "$url/_homeserver/dashboard/DashboardCounters" >/dev/null
room="$(curl -sSf "${auth[@]}" -X POST "$url/_matrix/client/v3/createRoom" -d '{"name":"Operators"}' | json room_id)"
(
  for i in $(seq 1 1000); do
    curl -sS "${auth[@]}" -X PUT "$url/_matrix/client/v3/rooms/$room/send/m.room.message/txn$i" \
      -d "{\"msgtype\":\"m.text\",\"body\":\"message $i\"}" >/dev/null 2>&1 || true
    curl -sS "${auth[@]}" "$url/_matrix/client/v3/sync?timeout=0" >/dev/null 2>&1 || true
    sleep 0.05
  done
) &
traffic=$!
sleep 20

mkdir -p "$(dirname "$out")"
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/chromium" \
  --window-size=1400,900 --virtual-time-budget=8000 --screenshot="$out" \
  "$url/_homeserver/dashboard/?access_token=$token" 2>"$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 1; }
kill "$traffic" 2>/dev/null || true
wait "$traffic" 2>/dev/null || true
traffic=""
stop_server
echo "Wrote $out"
