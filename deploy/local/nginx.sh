#!/usr/bin/env bash
# nginx.sh start|stop: nginx in front of the local gateways, with its own prefix, config and pid under the
# run directory. Installs Debian's nginx when missing (as root). As root, nginx runs as user nobody.
set -Eeuo pipefail
source "$(dirname "$0")/lib.sh"

prefix="$run_dir/nginx"

as_nginx() { if [[ "$(id -u)" == 0 ]]; then runuser -u nobody -- "$@"; else "$@"; fi; }

start() {
  if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    [[ "$(id -u)" == 0 ]] || die "nginx not found; install it (sudo apt-get install -y nginx)"
    log "installing nginx"
    { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx; } >&2 \
      || die "could not install nginx with apt-get; install it (apt-get install -y nginx) and retry"
  fi
  mkdir -p "$prefix/logs" "$prefix/temp"
  local servers="" i
  for i in $(seq 1 $gateway_count); do
    servers+="        server 127.0.0.1:$(gateway_http_port "$i") max_fails=0;"$'\n'
  done
  # Same proxy settings as deploy/nginx/nginx.conf, with loopback upstreams and paths under the prefix.
  cat >"$prefix/nginx.conf" <<CONF
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
events { worker_connections 1024; }
http {
    access_log $prefix/logs/access.log;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    upstream gateways {
$servers        keepalive 32;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        client_max_body_size 1m;
        location / {
            proxy_pass http://gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 330s;
        }
    }
}
CONF
  if [[ "$(id -u)" == 0 ]]; then chown -R nobody "$prefix"; fi
  local bin; bin="$(command -v nginx || echo /usr/sbin/nginx)"
  as_nginx "$bin" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log"
}

stop() {
  [[ -f "$prefix/nginx.pid" ]] || return 0
  local pid; pid="$(cat "$prefix/nginx.pid")"
  kill -QUIT "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop" ;;
esac
