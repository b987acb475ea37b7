#!/usr/bin/env bash
# Operator commands against a running homeserver (any gateway), with a server admin's access token.
#
#   HOMESERVER_URL=http://localhost:8008 HOMESERVER_TOKEN=mat_... scripts/homeserver-admin.sh silos
#   HOMESERVER_URL=... HOMESERVER_TOKEN=... scripts/homeserver-admin.sh drain '10.0.0.12:11111@118463721'   # an id from: silos
set -Eeuo pipefail

url="${HOMESERVER_URL:-http://localhost:8008}"
token="${HOMESERVER_TOKEN:?set HOMESERVER_TOKEN to the access token of a server admin}"
command -v curl >/dev/null || { echo "homeserver-admin: curl is required" >&2; exit 2; }

call() { curl -sS --fail-with-body -H "Authorization: Bearer $token" "$@"; echo; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

case "${1:-}" in
  silos) call "$url/_homeserver/admin/silos" ;;
  drain)
    [ -n "${2:-}" ] || { echo "usage: $0 drain <silo-id> (ids from: $0 silos)" >&2; exit 2; }
    call -X POST "$url/_homeserver/admin/silos/$(urlencode "$2")/drain" ;;
  *) echo "usage: $0 silos | drain <silo-id>" >&2; exit 2 ;;
esac
