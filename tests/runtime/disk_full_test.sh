#!/usr/bin/env bash
# A full disk is a condition, not a crash: one node with its data directory on a small
# tmpfs that this test mounts (and unmounts, also on failure). Checks:
#   a. POSTs of 200 KB values are acknowledged until the filesystem is full, then answered
#      507 with a body that says why; the node stays up, /_cluster/health says "degraded";
#   b. every value acknowledged before is still served, all along;
#   c. once space is freed (a ballast file the test made is removed), writes are accepted
#      again without a restart, and health is "ok";
#   d. a node restarted on the full disk starts and serves what it holds.
# Needs root (mount) and util-linux; fails (never skips) without them.
# Usage: disk_full_test.sh path/to/cluster-kv
bin=$1
. "$(dirname "$0")/lib.sh"
need mount umount dd df
[ "$(id -u)" = 0 ] || { echo "MISSING: this test mounts a tmpfs and needs root"; exit 1; }

mnt="$work/small-disk"
mkdir -p "$mnt"
mount -t tmpfs -o size=32m tmpfs "$mnt" || { echo "MISSING: cannot mount a tmpfs at $mnt"; exit 1; }
trap 'stop_all_nodes; umount "$mnt" 2>/dev/null; rm -rf "$work"' EXIT

port=19960
gossip=19961
data="$mnt/node"
start_on_small_disk() {  # the node's data directory is on the tmpfs
  ckv_start "$bin" a $port $gossip "$work/a.log" --data-dir "$data" --log-level debug \
    --min-free-disk-mb 2
  node_pid[a]=$ckv_pid
}
start_on_small_disk
ckv_wait_healthy $port 20 || fail "the node never became healthy"

head -c 200000 /dev/urandom > "$work/value"
# Ballast: all but 4 MiB of what is free, so that the node fills the rest quickly (it keeps
# 2 MiB free) and the test can give space back by removing it.
avail_kib=$(df --output=avail -k "$mnt" | tail -1)
dd if=/dev/zero of="$mnt/ballast" bs=1k count=$((avail_kib - 4096)) status=none

echo "# a. writes until the disk is full"
acked=0 refused=0 other=0
for i in $(seq 1 200); do
  code=$(curl -s -m 10 -o "$work/post.body" -w '%{http_code}' -X POST \
    --data-binary @"$work/value" "http://127.0.0.1:$port/k$i")
  case $code in
    200) acked=$((acked + 1)); echo "k$i" >> "$work/acked" ;;
    507) refused=$((refused + 1)); cp "$work/post.body" "$work/507.body" ;;
    *) other=$((other + 1)); echo "k$i: $code $(cat "$work/post.body")" >> "$work/other" ;;
  esac
  [ "$refused" -ge 5 ] && break
done
echo "  acknowledged $acked, refused (507) $refused, other $other"
[ "$acked" -ge 3 ] && pass "writes were acknowledged before the disk filled" \
  || fail "only $acked writes acknowledged before the disk filled"
[ "$refused" -ge 5 ] && pass "a full disk answers 507" \
  || fail "no 507 after $acked acknowledged writes (other answers: $(head -3 "$work/other" 2>/dev/null))"
grep -qi "space" "$work/507.body" 2>/dev/null && pass "the 507 says why: $(head -c 160 "$work/507.body")" \
  || fail "the 507 body does not say why: $(cat "$work/507.body" 2>/dev/null)"
kill -0 "${node_pid[a]}" 2>/dev/null && pass "the node is still running" || fail "the node died on a full disk"
health=$(http GET "$port" /_cluster/health)
[[ $health == 200*'"degraded"'* ]] && pass "health says degraded" || fail "health: $health"
grep -c "the store refuses writes" "$work/a.log" | grep -qx 1 \
  && pass "the transition is logged once" || fail "the transition was logged $(grep -c "the store refuses writes" "$work/a.log") times"

check_acked_readable() {  # every acknowledged value reads back whole
  local bad=0 k
  while read -r k; do
    code=$(curl -s -m 10 -o "$work/got" -w '%{http_code}' "http://127.0.0.1:$port/$k")
    if [ "$code" != 200 ] || ! cmp -s "$work/got" "$work/value"; then
      bad=$((bad + 1))
      echo "$k: $code $(head -c 100 "$work/got")" >> "$work/unreadable"
    fi
  done < "$work/acked"
  echo $bad
}
echo "# b. reads are served while the disk is full"
bad=$(check_acked_readable)
[ "$bad" = 0 ] && pass "all $acked acknowledged values read back" || fail "$bad acknowledged values did not read back"

echo "# c. space comes back"
rm -f "$mnt/ballast"
ok=0
for _ in $(seq 1 20); do
  code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/value" \
    "http://127.0.0.1:$port/after")
  [ "$code" = 200 ] && { ok=1; break; }
  sleep 0.5
done
[ "$ok" = 1 ] && pass "writes are accepted again without a restart" || fail "writes still refused after space was freed ($code)"
health=$(http GET "$port" /_cluster/health)
[[ $health == 200*'"ok"'* ]] && pass "health is ok again" || fail "health after recovery: $health"
echo after >> "$work/acked"
cp "$work/value" "$work/value.after"

echo "# d. a restart on a full disk"
dd if=/dev/zero of="$mnt/ballast" bs=64k status=none 2>/dev/null  # fills whatever is left
stop_node a KILL
start_on_small_disk
if ckv_wait_healthy $port 20; then
  pass "the node restarted on a full disk"
  bad=$(check_acked_readable)
  [ "$bad" = 0 ] && pass "and serves every acknowledged value" \
    || fail "$bad acknowledged values did not read back after the restart: $(cat "$work/unreadable")"
  code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$port/more")
  [ "$code" = 507 ] && pass "and refuses writes with 507" || fail "a write on the full disk after the restart answered $code"
else
  fail "the node did not come up on a full disk: $(tail -3 "$work/a.log")"
fi
finish
