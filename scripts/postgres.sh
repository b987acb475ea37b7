#!/usr/bin/env bash
# Throwaway PostgreSQL server for tests: loopback only, trust auth, fsync off, never the system cluster.
#
#   eval "$(scripts/postgres.sh start)"   # starts a server, prints `export HOMESERVER_TEST_POSTGRES=...`
#   source scripts/postgres.sh [start]    # same, exported into the calling shell
#   scripts/postgres.sh env               # prints the export line of the running server again
#   scripts/postgres.sh stop              # stops it and deletes its files; succeeds when nothing runs
#   scripts/postgres.sh pause             # stops the server (fast shutdown) but keeps its data and port
#   scripts/postgres.sh resume            # starts a paused server again on the same port
#
# Only the export line goes to stdout; progress and errors go to stderr.
# HOMESERVER_PG_STATE: state file (default ${TMPDIR:-/tmp}/homeserver-test-postgres.state); give each
#   concurrent user its own. HOMESERVER_PG_OWNER_PID: a pid whose death marks the server as abandoned;
#   `start` stops abandoned servers left by dead owners (e.g. a killed test process).

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: run in a child bash so our shell options stay out of the caller's shell.
  __homeserver_pg_out="$(bash "${BASH_SOURCE[0]}" "${1:-start}")" || { unset __homeserver_pg_out; return 1; }
  eval "$__homeserver_pg_out"
  unset __homeserver_pg_out
  return 0
fi

set -Eeuo pipefail
shopt -s inherit_errexit

state_dir="${TMPDIR:-/tmp}"
state_file="${HOMESERVER_PG_STATE:-$state_dir/homeserver-test-postgres.state}"

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ "$(id -u)" == 0 ]]; }

# PostgreSQL refuses to run as root, so as root every server command runs as the postgres user.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bin_dir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then echo "$dir"; return 0; fi
  done
  return 1
}

ensure_bin_dir() {
  local dir
  if dir="$(find_bin_dir)"; then echo "$dir"; return 0; fi
  if ! is_root; then
    die "PostgreSQL server binaries (pg_ctl, initdb) not found on PATH or in /usr/lib/postgresql/*/bin; install the 'postgresql' package (e.g. sudo apt-get install -y postgresql) and retry"
  fi
  log "PostgreSQL server binaries not found; installing the postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 || die "apt-get update failed"
  apt-get install -y --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
  dir="$(find_bin_dir)" || die "postgresql installed but pg_ctl/initdb still not found"
  echo "$dir"
}

ensure_pg_user() {
  is_root || return 0
  id -u postgres >/dev/null 2>&1 && return 0
  log "creating system user 'postgres'"
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres || die "cannot create user postgres"
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return 0
  fi
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

connection_string() { echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=postgres"; }

print_env() { echo "export HOMESERVER_TEST_POSTGRES='$(connection_string "$1")'"; }

read_state() {
  # Sets data_dir, port, bin_dir, owner_pid from a state file.
  data_dir="" port="" bin_dir="" owner_pid=""
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      data_dir) data_dir="$value" ;;
      port) port="$value" ;;
      bin_dir) bin_dir="$value" ;;
      owner_pid) owner_pid="$value" ;;
    esac
  done <"$1"
}

server_running() {
  [[ -n "$data_dir" && -f "$data_dir/pgdata/postmaster.pid" ]] || return 1
  as_pg "$bin_dir/pg_ctl" -D "$data_dir/pgdata" status >/dev/null 2>&1
}

stop_from_state() {
  local file="$1"
  read_state "$file"
  if [[ -n "$data_dir" && -d "$data_dir/pgdata" ]]; then
    if ! as_pg "$bin_dir/pg_ctl" -D "$data_dir/pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1; then
      local pid
      pid="$(head -n 1 "$data_dir/pgdata/postmaster.pid" 2>/dev/null || true)"
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  # Only ever delete a directory this script created (it carries our marker file).
  if [[ -n "$data_dir" && -f "$data_dir/.homeserver-test-postgres" ]]; then
    rm -rf -- "$data_dir"
  fi
  rm -f -- "$file"
}

reap_abandoned() {
  local file
  for file in "$state_dir"/homeserver-test-postgres*.state; do
    [[ -f "$file" && "$file" != "$state_file" ]] || continue
    read_state "$file"
    # kill -0 also fails for another user's live process, so /proc decides too.
    if [[ -n "$owner_pid" ]] && ! kill -0 "$owner_pid" 2>/dev/null && [[ ! -d "/proc/$owner_pid" ]]; then
      log "stopping abandoned test server from $file (owner $owner_pid is gone)"
      stop_from_state "$file" || true
    fi
  done
}

make_data_dir() {
  local base="${HOMESERVER_PG_BASEDIR:-${TMPDIR:-/tmp}}" dir
  dir="$(mktemp -d "$base/homeserver-pg.XXXXXX")"
  if is_root; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      # The postgres user cannot reach a directory under root's private temp dir.
      rm -rf -- "$dir"
      dir="$(mktemp -d /tmp/homeserver-pg.XXXXXX)"
      chown postgres: "$dir"
    fi
  fi
  chmod 700 "$dir"
  touch "$dir/.homeserver-test-postgres"
  echo "$dir"
}

cmd_start() {
  reap_abandoned
  if [[ -f "$state_file" ]]; then
    read_state "$state_file"
    if server_running; then
      log "server already running on port $port (state: $state_file)"
      print_env "$port"
      return 0
    fi
    stop_from_state "$state_file"
  fi

  bin_dir="$(ensure_bin_dir)"
  ensure_pg_user
  data_dir="$(make_data_dir)"
  owner_pid="${HOMESERVER_PG_OWNER_PID:-}"
  port=""
  write_state() {
    printf 'data_dir=%s\nport=%s\nbin_dir=%s\nowner_pid=%s\n' "$data_dir" "$port" "$bin_dir" "$owner_pid" >"$state_file"
  }
  write_state
  trap 'log "start failed; cleaning up"; tail -n 20 "$data_dir/server.log" >&2 2>/dev/null || true; stop_from_state "$state_file"' ERR

  as_pg "$bin_dir/initdb" -D "$data_dir/pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$data_dir/initdb.log" 2>&1 || { cat "$data_dir/initdb.log" >&2; false; }
  cat >>"$data_dir/pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 64MB
EOF
  cat >"$data_dir/pgdata/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  if is_root; then touch "$data_dir/server.log" && chown postgres: "$data_dir/server.log"; fi

  # The port can be taken between choosing and binding; try a few.
  local attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    write_state
    if as_pg "$bin_dir/pg_ctl" -D "$data_dir/pgdata" -l "$data_dir/server.log" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
      trap - ERR
      log "started PostgreSQL ($("$bin_dir/postgres" --version)) on 127.0.0.1:$port, data in $data_dir"
      print_env "$port"
      return 0
    fi
    log "start on port $port failed (attempt $attempt)"
  done
  false
}

cmd_stop() {
  if [[ ! -f "$state_file" ]]; then
    log "no test server recorded in $state_file; nothing to stop"
    return 0
  fi
  stop_from_state "$state_file"
  log "stopped and removed the test server"
}

cmd_env() {
  [[ -f "$state_file" ]] || die "no test server recorded in $state_file; run '$0 start'"
  read_state "$state_file"
  server_running || die "the test server recorded in $state_file is not running"
  print_env "$port"
}

# An outage drill: clients see the server vanish (connections closed, new ones refused) and come back.
cmd_pause() {
  [[ -f "$state_file" ]] || die "no test server recorded in $state_file"
  read_state "$state_file"
  as_pg "$bin_dir/pg_ctl" -D "$data_dir/pgdata" -m fast -w -t 30 stop >/dev/null || die "pg_ctl stop failed"
  log "paused the server on port $port"
}

cmd_resume() {
  [[ -f "$state_file" ]] || die "no test server recorded in $state_file"
  read_state "$state_file"
  as_pg "$bin_dir/pg_ctl" -D "$data_dir/pgdata" -l "$data_dir/server.log" -o "-p $port" -w -t 60 start >/dev/null \
    || die "pg_ctl start failed (log: $data_dir/server.log)"
  log "resumed the server on port $port"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  pause) cmd_pause ;;
  resume) cmd_resume ;;
  *) echo "usage: $0 start|stop|env|pause|resume" >&2; exit 2 ;;
esac
