#!/usr/bin/env bash
# What securing the HTTP API costs, measured under wrk (-t2 -c50, keep-alive) in one run:
#   - HTTPS: a local-hit GET of a 100-byte value from a node serving TLS, beside nginx
#     serving a 100-byte static file over TLS with the same certificate (ECDSA P-256,
#     TLS 1.3, session set up once per connection); nginx is measured first and last and
#     the ratio is to the mean of the two.
#   - tokens: the same GET over plain HTTP from a node without --http-token-file and from
#     one with it (the request carries an admin token; 100 grants in the file), each
#     measured twice, alternating, so drift hits both; the ratio is of the means.
# Prints a Markdown table and writes build/bench/secure.json. Fails on any unexpected
# status or unanswered request.
#   tools/secure_bench.sh [seconds per measurement, default 10]
# Needs a Release build and wrk, nginx and openssl (tools/setup.sh bench). CKV_BIN and
# CKV_BENCH_DIR as for tools/http_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=${CKV_BIN:-build/release/runtime/cluster-kv}
out=${CKV_BENCH_DIR:-build/bench}
for tool in wrk nginx curl openssl; do
  command -v "$tool" >/dev/null || { echo "secure_bench: '$tool' is missing (tools/setup.sh bench installs it)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "secure_bench: build first: tools/build.sh release" >&2; exit 1; }

source tools/cluster_lib.sh
work=$(mktemp -d /tmp/ckv-secure-bench.XXXXXX)
pids=()
cleanup() {
  ckv_stop "${pids[@]}"
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "${CKV_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

chmod 755 "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=bench \
  -addext subjectAltName=IP:127.0.0.1 2>/dev/null
chmod 644 "$work/key.pem"  # nginx's workers read it as another user; a scratch key
mkdir -p "$work/html"
chmod 755 "$work/html"
value=$(head -c 100 /dev/zero | tr '\0' v)
printf '%s' "$value" > "$work/html/static"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18443 ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/html;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"

token=$(openssl rand -hex 32)
{
  for i in $(seq 99); do echo "$(openssl rand -hex 32) read app$i/"; done
  echo "$token admin"
} > "$work/tokens.txt"
chmod 600 "$work/tokens.txt"
start() {  # start NAME HTTP_PORT GOSSIP_PORT [flags...]
  local name=$1 http=$2 gossip=$3
  shift 3
  ckv_start "$bin" "$name" "$http" "$gossip" "$work/$name.log" --data-dir "$work/$name" \
    --no-mdns --log-level warn "$@"
  pids+=("$ckv_pid")
}
start tls 19970 17970 --http-tls-cert "$work/cert.pem" --http-tls-key "$work/key.pem"
start plain 19971 17971
start tokens 19972 17972 --http-token-file "$work/tokens.txt"
auth=(-H "Authorization: Bearer $token")
for try in $(seq 100); do
  curl -sf -o /dev/null --cacert "$work/cert.pem" https://127.0.0.1:19970/_cluster/health &&
    curl -sf -o /dev/null http://127.0.0.1:19971/_cluster/health &&
    curl -sf -o /dev/null "${auth[@]}" http://127.0.0.1:19972/_cluster/health && break
  [ "$try" = 100 ] && { echo "secure_bench: the nodes did not start" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null --cacert "$work/cert.pem" -d "$value" https://127.0.0.1:19970/hit
curl -sf -o /dev/null -d "$value" http://127.0.0.1:19971/hit
curl -sf -o /dev/null "${auth[@]}" -d "$value" http://127.0.0.1:19972/hit
expect=$(curl -s --cacert "$work/cert.pem" https://127.0.0.1:18443/static)
[ "$expect" = "$value" ] || { echo "secure_bench: nginx does not serve the file over TLS" >&2; exit 1; }

results=()
run() {  # run NAME URL [wrk args...]
  local name=$1 url=$2
  shift 2
  wrk -t2 -c50 -d"${secs}s" --latency "$@" "$url" > "$work/$name.out" 2>&1
  local rps p50 p99 non2xx lost
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$name.out")
  p50=$(awk '$1 == "50%" { print $2 }' "$work/$name.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/$name.out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$work/$name.out")
  lost=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$work/$name.out")
  local bad=$((${non2xx:-0} + ${lost:-0}))
  if [ -z "$rps" ] || [ "$bad" != 0 ]; then
    echo "secure_bench: $name: ${bad} unexpected or unanswered requests" >&2
    cat "$work/$name.out" >&2
    exit 1
  fi
  results+=("$name $rps $p50 $p99")
  echo "  $name: $rps req/s, p50 $p50, p99 $p99" >&2
}
echo "secure_bench: wrk -t2 -c50, ${secs}s each" >&2
run nginx_tls_static https://127.0.0.1:18443/static
run get_local_hit_tls https://127.0.0.1:19970/hit
run get_local_hit_no_tokens http://127.0.0.1:19971/hit
run get_local_hit_token http://127.0.0.1:19972/hit "${auth[@]}"
run get_local_hit_no_tokens_again http://127.0.0.1:19971/hit
run get_local_hit_token_again http://127.0.0.1:19972/hit "${auth[@]}"
run nginx_tls_static_again https://127.0.0.1:18443/static

rps_of() { printf '%s\n' "${results[@]}" | awk -v n="$1" '$1 == n { print $2 }'; }
tls_ratio=$(awk -v a="$(rps_of nginx_tls_static)" -v b="$(rps_of nginx_tls_static_again)" \
  -v n="$(rps_of get_local_hit_tls)" 'BEGIN { printf "%.2f", n / ((a + b) / 2) }')
token_ratio=$(awk -v a="$(rps_of get_local_hit_no_tokens)" -v b="$(rps_of get_local_hit_no_tokens_again)" \
  -v c="$(rps_of get_local_hit_token)" -v d="$(rps_of get_local_hit_token_again)" \
  'BEGIN { printf "%.3f", ((c + d) / 2) / ((a + b) / 2) }')
mkdir -p "$out"
{
  echo "| measurement | requests/s | p50 | p99 |"
  echo "|---|---|---|---|"
  for r in "${results[@]}"; do echo "$r" | awk '{ printf "| %s | %.0f | %s | %s |\n", $1, $2, $3, $4 }'; done
  echo
  echo "HTTPS local-hit GET vs nginx over TLS: ${tls_ratio}x; with token checking vs without: ${token_ratio}x"
} | tee "$work/table.md"
{
  printf '{"seconds":%s,"tls_vs_nginx":%s,"tokens_vs_none":%s,"results":[' "$secs" "$tls_ratio" "$token_ratio"
  first=1
  for r in "${results[@]}"; do
    [ $first -eq 1 ] || printf ','
    first=0
    echo "$r" | awk '{ printf "{\"name\":\"%s\",\"rps\":%s,\"p50\":\"%s\",\"p99\":\"%s\"}", $1, $2, $3, $4 }'
  done
  echo "]}"
} > "$out/secure.json"
echo "secure_bench: JSON in $out/secure.json" >&2
