#!/usr/bin/env bash
# The cluster-kv command line: --help, bad flags, unusable addresses and data directories
# (one line on stderr, exit code 2), and backup/restore of a data directory.
# Usage: cli_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"

"$bin" --help > "$work/help" 2>&1
expect "--help exits 0" 0 $?
for flag in --node-name --cluster --http --gossip --advertise --join --data-dir --mdns --no-mdns \
  --query-timeout --sync --log-level --restore-from --encrypt-key --keyring-file \
  --http-max-connections --http-read-timeout --record-cache-mb; do
  grep -q -- "$flag" "$work/help" && pass "--help documents $flag" || fail "--help lacks $flag"
done

# usage_error DESCRIPTION ARGS...: exit code 2 and exactly one line on stderr
usage_error() {
  local what=$1
  shift
  timeout 10 "$bin" "$@" > /dev/null 2> "$work/err"
  local rc=$?
  local lines=$(wc -l < "$work/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ]; then
    pass "$what: exit 2, '$(cat "$work/err")'"
  else
    fail "$what: exit $rc with $lines lines: $(head -c 300 "$work/err")"
  fi
}
usage_error "unknown flag" --frobnicate
usage_error "bad http address" --http 1.2.3:80 --data-dir "$work/d1"
usage_error "bad port" --gossip 127.0.0.1:70000 --data-dir "$work/d1"
usage_error "bad log level" --log-level loud --data-dir "$work/d1"
usage_error "bad query timeout" --query-timeout soon --data-dir "$work/d1"
usage_error "unresolvable join" --join no-such-host.invalid:7946 --data-dir "$work/d1" --no-mdns
usage_error "no HTTP connections allowed" --http-max-connections 0 --data-dir "$work/k" --no-mdns
usage_error "an HTTP read timeout too short to send a request" --http-read-timeout 10ms --data-dir "$work/k" --no-mdns
usage_error "a record cache larger than 64 GiB" --record-cache-mb 70000 --data-dir "$work/k" --no-mdns
usage_error "a record cache size that is not a number" --record-cache-mb lots --data-dir "$work/k" --no-mdns
usage_error "a key that is not 32 bytes" --encrypt-key c2hvcnQ= --data-dir "$work/k" --no-mdns
usage_error "a key that is not base64" --encrypt-key 'not base64!' --data-dir "$work/k" --no-mdns
key=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
printf '%s\n' "$key" > "$work/keyring"
usage_error "both --encrypt-key and --keyring-file" --encrypt-key "$key" --keyring-file "$work/keyring" --data-dir "$work/k" --no-mdns
usage_error "a missing keyring file" --keyring-file "$work/no-such-keyring" --data-dir "$work/k" --no-mdns
printf '# keys\n%s\nAAAA\n' "$key" > "$work/bad-keyring"
usage_error "a tag that is not KEY=VALUE" --tag oops --data-dir "$work/k" --no-mdns
usage_error "a tag key with a blank" --tag "a b=1" --data-dir "$work/k" --no-mdns
usage_error "a tag given twice" --tag a=1 --tag a=2 --data-dir "$work/k" --no-mdns
usage_error "an empty token file path" --http-token-file= --data-dir "$work/k" --no-mdns
usage_error "an empty certificate path" --http-tls-cert= --http-tls-key= --data-dir "$work/k" --no-mdns
usage_error "a tag in the node's own namespace" --tag ckv.keys=x --data-dir "$work/k" --no-mdns
usage_error "a keyring file with a bad line" --keyring-file "$work/bad-keyring" --data-dir "$work/k" --no-mdns
[ ! -e "$work/k" ] && pass "no data directory was created by the refused starts" ||
  fail "a refused start created its data directory"
touch "$work/file"
usage_error "data dir under a file" --data-dir "$work/file/sub" --no-mdns --gossip 127.0.0.1:17990 --http 127.0.0.1:19990
usage_error "http address not on this host" --http 203.0.113.77:9876 --data-dir "$work/d2" --no-mdns --gossip 127.0.0.1:17991
# A port another node holds.
start_node holder 19992 17992 --no-mdns
wait_for 10 "holder serves" curl -sf -m 1 http://127.0.0.1:19992/_cluster/health
usage_error "gossip port in use" --gossip 127.0.0.1:17992 --http 127.0.0.1:19993 --data-dir "$work/d3" --no-mdns
usage_error "http port in use" --gossip 127.0.0.1:17993 --http 127.0.0.1:19992 --data-dir "$work/d4" --no-mdns
usage_error "data dir of a running node" --gossip 127.0.0.1:17994 --http 127.0.0.1:19994 --data-dir "$work/holder" --no-mdns

echo "# --version and --config"
"$bin" --version > "$work/version" 2>&1
expect "--version exits 0" 0 $?
grep -Eq '^cluster-kv [0-9]+\.[0-9]+\.[0-9]+ \(.+, .+ build\)$' "$work/version" &&
  pass "--version names version and build: $(cat "$work/version")" ||
  fail "--version printed: $(cat "$work/version")"
# config_error DESCRIPTION EXPECTED-PREFIX FILE-TEXT [FLAGS...]: exit 2, the line named
config_error() {
  local what=$1 expected=$2 text=$3
  shift 3
  printf '%b' "$text" > "$work/bad.conf"
  timeout 10 "$bin" --config "$work/bad.conf" "$@" > /dev/null 2> "$work/err"
  local rc=$?
  if [ "$rc" -eq 2 ] && grep -qF -- "$expected" "$work/err"; then
    pass "$what: '$(cat "$work/err")'"
  else
    fail "$what: exit $rc: $(head -c 300 "$work/err") (wanted '$expected')"
  fi
}
config_error "unknown setting" "bad.conf:2: unknown setting 'frobnicate'" "# c\nfrobnicate = 1\n"
config_error "bad value checked after parsing" "bad.conf:3: --tombstone-ttl: bad duration" \
  "no-mdns = true\ndata-dir = $work/k\ntombstone-ttl = soon\n"
config_error "value of the wrong type" "bad.conf:1: the argument ('lots')" "record-cache-mb = lots\n"
config_error "switch not true/false" "bad.conf:1: 'sync' is a switch" "sync = yes\n"
config_error "a setting given twice" "bad.conf:2: 'http' is already set at" "http = :1\nhttp = :2\n"
config_error "a line without =" "bad.conf:1: expected 'name = value'" "http\n"
usage_error "a missing config file" --config "$work/no-such.conf"
# Flags override the file: the file's HTTP port is taken by nobody, the flag's is used.
cat > "$work/node.conf" << CONF
# a node from a config file
node-name = configured
http = 127.0.0.1:19989
gossip = 127.0.0.1:17989
mdns = false
data-dir = $work/configured
CONF
"$bin" --config "$work/node.conf" --http 127.0.0.1:19988 > "$work/configured.log" 2>&1 &
node_pid[configured]=$!
wait_for 10 "the configured node serves on the flag's port" curl -sf -m 1 http://127.0.0.1:19988/_cluster/health
expect "it took its name from the file" configured \
  "$(curl -s http://127.0.0.1:19988/_cluster/health | jq -r .node)"
expect "the file's HTTP port is not used" 000 "$(curl -s -o /dev/null -w '%{http_code}' -m 1 http://127.0.0.1:19989/ || true)"
stop_node configured TERM

echo "# a node that cannot reach its peers yet holds reads instead of answering 404"
start_node lonely 19997 17997 --no-mdns --join 127.0.0.1:17998
wait_for 10 "lonely answers HTTP" curl -s -m 1 -o /dev/null http://127.0.0.1:19997/_cluster/health
expect "health is 503 while joining" 503 "$(status GET 19997 /_cluster/health)"
t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -m 10 http://127.0.0.1:19997/some-key)
awk -v t="${t#* }" 'BEGIN { exit !(t >= 3.0) }' && pass "a read waits for the join (answered '$t')" ||
  fail "a read while joining was answered at once: '$t'"
stop_node lonely TERM

echo "# backup and restore"
expect "POST on holder" "200 " "$(http POST 19992 /saved -d precious)"
"$bin" backup --data-dir "$work/holder" --to "$work/backup" > "$work/out" 2>&1
expect "backup of a running node's data exits 0" 0 $?
stop_node holder TERM
usage_error "restore over existing data" --restore-from "$work/backup" --data-dir "$work/holder" --no-mdns --gossip 127.0.0.1:17995 --http 127.0.0.1:19995
usage_error "backup without --to" backup --data-dir "$work/holder"
start_node restored 19996 17996 --no-mdns --restore-from "$work/backup"
wait_for 10 "restored node serves" curl -sf -m 1 http://127.0.0.1:19996/_cluster/health
expect "restored node has the value" "200 precious" "$(http GET 19996 /saved)"
stop_node restored INT
expect "SIGINT exits 0" 0 $?

finish
