#!/usr/bin/env bash
# A secured HTTP API: HTTPS (curl --cacert), bearer tokens per right and key prefix
# (401 without or with an unknown token, 403 without the right, 200 with it), open health
# and metrics, and SIGHUP re-reading the token file and the certificate without a restart.
# Usage: http_security_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need openssl jq

make_cert() {  # make_cert NAME CN: a self-signed certificate for 127.0.0.1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$work/$1.key" -out "$work/$1.pem" -subj "/CN=$2" \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
}
make_cert first first-cert
make_cert second second-cert
chmod 600 "$work"/*.key

r=read-0123456789abcdef
w=write-0123456789abcde
wa=write-app-0123456789ab
a=admin-0123456789abcde
cat > "$work/tokens" << EOF2
# token right [key-prefix]
$r read
$w write
$wa write app/
$wa read shared/
$a admin
EOF2
chmod 600 "$work/tokens"

port=19960
start_node secure $port 17960 --no-mdns --http-tls-cert "$work/first.pem" \
  --http-tls-key "$work/first.key" --http-token-file "$work/tokens"
url=https://127.0.0.1:$port
# code TOKEN METHOD PATH [curl args]: the status of a request over HTTPS
code() {
  local token=$1 method=$2 path=$3
  shift 3
  local auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  curl -s -m 10 --cacert "$work/first.pem" -X "$method" -o "$work/body" -w '%{http_code}' \
    "${auth[@]}" "$@" "$url$path"
}
wait_for 10 "the node serves HTTPS" curl -s -m 1 --cacert "$work/first.pem" -o /dev/null "$url/x"

echo "# HTTPS"
expect "the certificate is the one given" "CN = first-cert" \
  "$(openssl s_client -connect 127.0.0.1:$port </dev/null 2>/dev/null | grep -o 'CN = first-cert' | head -1)"
expect "plain HTTP to the HTTPS port: 400, told to use https" "400 this port serves HTTPS: use https:// URLs" \
  "$(curl -s -m 5 -w '%{http_code}' -o "$work/plain" "http://127.0.0.1:$port/x") $(tr -d '\r\n' < "$work/plain")"
expect "TLS 1.1 is refused" 1 \
  "$(curl -s -m 5 --cacert "$work/first.pem" --tls-max 1.1 -o /dev/null "$url/x"; [ $? -ne 0 ] && echo 1)"

echo "# tokens"
expect "no token: 401" 401 "$(code "" GET /k)"
curl -s -m 5 --cacert "$work/first.pem" -D "$work/h" -o /dev/null "$url/k"
grep -qi '^WWW-Authenticate: Bearer' "$work/h" && pass "401 says WWW-Authenticate: Bearer" ||
  fail "401 without WWW-Authenticate: $(cat "$work/h")"
expect "unknown token: 401" 401 "$(code nope-nope-nope-nope-nope GET /k)"
expect "Basic instead of Bearer: 401" 401 "$(curl -s --cacert "$work/first.pem" -u user:pw -o /dev/null -w '%{http_code}' "$url/k")"
expect "read token reads (404: no such key)" 404 "$(code $r GET /k)"
expect "read token cannot write" 403 "$(code $r PUT /k -d v)"
expect "read token cannot delete" 403 "$(code $r DELETE /k)"
expect "write token writes" 200 "$(code $w PUT /k -d v)"
expect "write token reads" 200 "$(code $w GET /k)"
expect "write token deletes" 200 "$(code $w DELETE /k)"
expect "scoped token writes in its prefix" 200 "$(code $wa PUT /app/one -d 1)"
expect "scoped token cannot write outside it" 403 "$(code $wa PUT /other -d 1)"
expect "scoped token reads in its second grant's prefix" 404 "$(code $wa GET /shared/x)"
expect "scoped token cannot write in its read-only prefix" 403 "$(code $wa PUT /shared/x -d 1)"
expect "scoped token lists its prefix" 200 "$(code $wa GET '/_cluster/keys?prefix=app/')"
expect "scoped token cannot list everything" 403 "$(code $wa GET /_cluster/keys)"
expect "read token lists everything" 200 "$(code $r GET /_cluster/keys)"
expect "members need admin" 403 "$(code $w GET /_cluster/members)"
expect "admin sees members" 200 "$(code $a GET /_cluster/members)"
expect "health needs admin without --http-open-status" 401 "$(code "" GET /_cluster/health)"
expect "admin writes keys too" 200 "$(code $a PUT /adm -d 1)"
expect "a bad target is 401 before 400" 401 "$(code "" GET /%zz)"
expect "with a token the bad target is 400" 400 "$(code $r GET /%zz)"
if grep -q -e "$r" -e "$w" -e "$a" "$work/secure.log"; then fail "a token appears in the log"; else
  pass "no token appears in the log"; fi

echo "# SIGHUP: a new token file and a new certificate, without a restart"
printf '%s read\n%s admin\n' "fresh-token-0123456789" "$a" > "$work/tokens"
cp "$work/second.pem" "$work/first.pem.new"
cp "$work/second.pem" "$work/live.pem"
kill -HUP "${node_pid[secure]}"
wait_for 5 "the token file is reloaded" grep -q 'token file reloaded' "$work/secure.log"
expect "a removed token is refused" 401 "$(code $w GET /k)"
expect "an added token is taken" 404 "$(code fresh-token-0123456789 GET /k)"
# A broken token file keeps the tokens in force.
printf 'short read\n' > "$work/tokens"
kill -HUP "${node_pid[secure]}"
wait_for 5 "a bad token file is refused, named with its line" grep -q 'keeping the current tokens: .*tokens:1: a token must be' "$work/secure.log"
expect "the tokens in force stay" 404 "$(code fresh-token-0123456789 GET /k)"
stop_node secure TERM
expect "the node stops cleanly" 0 $?

echo "# certificate reload, open status endpoints, refused starts"
cp "$work/first.pem" "$work/cert.pem"
cp "$work/first.key" "$work/cert.key"
printf '%s read\n' "$r" > "$work/tokens"
start_node reload 19961 17961 --no-mdns --http-tls-cert "$work/cert.pem" \
  --http-tls-key "$work/cert.key" --http-token-file "$work/tokens" --http-open-status
wait_for 10 "the second node serves HTTPS" curl -s -m 1 --cacert "$work/first.pem" -o /dev/null https://127.0.0.1:19961/_cluster/health
expect "health open with --http-open-status" 200 "$(curl -s --cacert "$work/first.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/health)"
expect "metrics open with --http-open-status" 200 "$(curl -s --cacert "$work/first.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/metrics)"
expect "members still need a token" 401 "$(curl -s --cacert "$work/first.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/members)"
cp "$work/second.pem" "$work/cert.pem"
cp "$work/second.key" "$work/cert.key"
kill -HUP "${node_pid[reload]}"
wait_for 5 "the certificate is reloaded" grep -q 'TLS certificate reloaded: .*second-cert' "$work/reload.log"
expect "new connections get the new certificate" 200 "$(curl -s --cacert "$work/second.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/health)"
expect "the old one no longer verifies" 000 "$(curl -s --cacert "$work/first.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/health)"
cp "$work/first.key" "$work/cert.key"  # a key that does not match the certificate
kill -HUP "${node_pid[reload]}"
wait_for 5 "a mismatched key is refused on reload" grep -q 'keeping the current TLS certificate: .*does not match' "$work/reload.log"
expect "the certificate in force stays" 200 "$(curl -s --cacert "$work/second.pem" -o /dev/null -w '%{http_code}' https://127.0.0.1:19961/_cluster/health)"
stop_node reload TERM

refused() {  # refused DESCRIPTION EXPECTED ARGS...: exit 2 with EXPECTED on stderr
  local what=$1 expected=$2
  shift 2
  timeout 10 "$bin" --no-mdns --data-dir "$work/never" --http 127.0.0.1:19962 --gossip 127.0.0.1:17962 "$@" \
    > /dev/null 2> "$work/err"
  local rc=$?
  [ "$rc" -eq 2 ] && grep -q -- "$expected" "$work/err" && pass "$what: $(cat "$work/err")" ||
    fail "$what: exit $rc, $(cat "$work/err")"
}
refused "a certificate without its key" "go together" --http-tls-cert "$work/cert.pem"
refused "a missing certificate" "cannot use the certificate" --http-tls-cert "$work/none.pem" --http-tls-key "$work/cert.key"
refused "a key that does not match" "does not match" --http-tls-cert "$work/second.pem" --http-tls-key "$work/first.key"
printf 'tok-0123456789abcdef superuser\n' > "$work/bad-tokens"
refused "a token file with a bad right" "bad-tokens:1: the right must be" --http-token-file "$work/bad-tokens"
refused "open status without tokens" "needs --http-token-file" --http-open-status

echo "# a node on a non-loopback address without tokens warns"
"$bin" --node-name open --no-mdns --http 0.0.0.0:19963 --gossip 127.0.0.1:17963 \
  --data-dir "$work/open" > "$work/open.log" 2>&1 &
node_pid[open]=$!
wait_for 10 "the open node serves" curl -sf -m 1 http://127.0.0.1:19963/_cluster/health
expect "it warns once" 1 "$(grep -c 'without --http-token-file' "$work/open.log")"
stop_node open TERM
finish
