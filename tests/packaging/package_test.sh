#!/usr/bin/env bash
# The Debian package, installed for real. tools/package.sh makes the .deb from an existing
# build (never building); its file list and its systemd unit are checked; then apt installs
# it into a fresh Debian 12 root (debootstrap --variant=minbase, plus systemd as on any
# Debian server), which must give the files, the cluster-kv user and group and the enabled
# unit. The installed binary then runs in that root as the cluster-kv user with the
# packaged config file (--config), serves a PUT and a GET from the host (the root shares
# the network), leaves on SIGTERM with exit 0 and keeps its data across a restart.
#
# Needs root (debootstrap, chroot, mounts) and Debian's archive (the mirror of
# /etc/apt/sources.list.d, or CKV_DEBIAN_MIRROR); fails, never skips, without them. The
# fresh root is cached per day as build/package/cache/bookworm-<date>.tar, and the .debs apt
# downloads beside it: debootstrap takes half a minute on a fast mirror, minutes on others. Every mount, process and scratch
# root it made is removed on exit, also on failure.
# Usage: package_test.sh [BUILD_TREE]   (default build/release; ctest passes its own)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "FAILED  package_test.sh needs root (debootstrap, chroot and mounts): run it as root"
  exit 1
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(cd "${1:-$repo/build/release}" && pwd)
bin=$tree/runtime/cluster-kv  # for lib.sh; the test itself runs the installed binary
. "$repo/tests/runtime/lib.sh"
set -eo pipefail  # lib.sh sets only -u
need debootstrap chroot dpkg-deb dpkg-shlibdeps systemd-analyze man tar mount umount

http_port=19940     # the installed node; its restart uses 19941 and 17941
gossip_port=17940
cache=$repo/build/package/cache
root=""             # the scratch Debian root of this run
mounts=()           # what is mounted in it, in mount order
node=""             # the pid of the node running in it

cleanup() {
  set +e
  if [ -n "$node" ]; then kill -9 "$node" 2>/dev/null; wait "$node" 2>/dev/null; fi
  if [ -n "$root" ]; then
    local p
    for p in /proc/[0-9]*; do  # anything else still running in the root (none expected)
      if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
        echo "FAILED  a process was left running in the root: $(tr '\0' ' ' < "$p/cmdline")"
        kill -9 "${p#/proc/}" 2>/dev/null
      fi
    done
  fi
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"
  done
  if [ -n "$root" ] && [ -d "$root" ]; then
    if grep -qF " $root/" /proc/mounts; then  # never delete through a mount (/dev!)
      echo "FAILED  $root is still mounted on; left in place"
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # cleanup runs on these too

# An earlier run that was killed (SIGKILL: no cleanup) may have left its scratch roots,
# with processes running in them and mounts: end those, unmount (deepest first), remove.
for old in "$repo"/build/package/root.* "$repo"/build/package/debootstrap.*; do
  [ -d "$old" ] || continue
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/root" 2>/dev/null)" in
      "$old" | "$old"/*) kill -9 "${p#/proc/}" 2>/dev/null && echo "# ended pid ${p#/proc/}, left in $old" ;;
    esac
  done
  sleep 0.2
  awk -v r="$old/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  if grep -qF " $old/" /proc/mounts; then
    echo "FAILED  $old of an earlier run is still mounted on"
    exit 1
  fi
  rm -rf --one-file-system "$old"
  echo "# removed $old, left by an earlier run"
done

die() { fail "$*"; finish; exit 1; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
mount_in_root() {  # mount_in_root TARGET MOUNT-ARGS...: mounts on $root/TARGET, undone on exit
  local target=$root$1
  shift
  mount "$@" "$target"
  mounts+=("$target")
}

# The Debian mirror apt on this host uses for bookworm (deb822 sources), else Debian's CDN.
debian_mirror() {
  local m=""
  m=$(awk 'BEGIN { RS = "" }
    /(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ {
      if (match($0, /(^|\n)URIs: *[^ \n]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*URIs: */, "", s); print s; exit }
    }' /etc/apt/sources.list.d/*.sources 2>/dev/null) || true
  echo "${CKV_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

echo "# the package"
deb=$("$repo/tools/package.sh" --tree "$tree" 2> "$work/package.log" | tail -n 1) ||
  { cat "$work/package.log"; die "tools/package.sh failed"; }
[ -f "$deb" ] || deb=$repo/$deb
[ -f "$deb" ] || die "tools/package.sh printed no package path: '$deb'"
pass "tools/package.sh made $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -c "$deb" | awk '{ print $NF }' > "$work/contents"
for f in ./usr/bin/cluster-kv ./usr/lib/systemd/system/cluster-kv.service \
  ./etc/cluster-kv/cluster-kv.conf ./usr/share/man/man1/cluster-kv.1.gz; do
  grep -qxF "$f" "$work/contents" && pass "the package holds ${f#.}" || fail "the package lacks ${f#.}"
done
dpkg-deb -f "$deb" Depends | grep -q 'libboost-program-options' &&
  pass "Depends from dpkg-shlibdeps: $(dpkg-deb -f "$deb" Depends)" ||
  fail "Depends lacks the shared libraries: '$(dpkg-deb -f "$deb" Depends)'"
dpkg-deb -I "$deb" conffiles 2> /dev/null | grep -qxF /etc/cluster-kv/cluster-kv.conf &&
  pass "the config file is a conffile" || fail "the config file is not listed in conffiles"
# The man page as man renders it, with groff's warnings shown.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/cluster-kv.1.gz > "$work/cluster-kv.1.gz"
LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$work/cluster-kv.1.gz" 2> "$work/man.err" > /dev/null
[ ! -s "$work/man.err" ] && pass "the man page renders without warnings" ||
  fail "the man page: $(head -c 300 "$work/man.err")"

echo "# a fresh Debian 12 root"
mkdir -p "$cache"
tarball=$cache/bookworm-$(date +%Y%m%d).tar
if [ ! -f "$tarball" ]; then  # a new day: a new root, and the .debs cached with the old one go
  rm -rf "$cache"/bookworm-*.tar "$cache"/bookworm-*.tar.part "$cache/archives"
  root=$(mktemp -d "$repo/build/package/debootstrap.XXXXXX")
  mirror=$(debian_mirror)
  started=$(date +%s)
  if ! debootstrap --variant=minbase --include=systemd bookworm "$root" "$mirror" \
    > "$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log"
    die "debootstrap of bookworm from $mirror failed"
  fi
  pass "debootstrap --variant=minbase --include=systemd bookworm from $mirror: $(($(date +%s) - started)) s"
  tar -C "$root" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf --one-file-system "$root"
  root=""
fi
started=$(date +%s)
root=$(mktemp -d "$repo/build/package/root.XXXXXX")
tar -C "$root" --numeric-owner -xf "$tarball"
chmod 755 "$root"  # its / (mktemp's 0700, kept in the tarball), for the cluster-kv user too
pass "root unpacked from $(basename "$tarball") ($(($(date +%s) - started)) s)"

mount_in_root /proc -t proc proc
mount_in_root /dev --bind /dev
mount_in_root /dev/pts --bind /dev/pts
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"  # apt fetches the dependencies
# Nothing may start services in the root (the maintainer scripts ask invoke-rc.d and
# deb-systemd-invoke, which ask this; and no systemd runs there anyway).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$cache/archives"
find "$cache/archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +

echo "# apt install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
started=$(date +%s)
if ! in_root DEBIAN_FRONTEND=noninteractive sh -c \
  "apt-get update -q && cd /tmp && apt-get install -y -q ./$(basename "$deb")" > "$work/apt.log" 2>&1; then
  tail -n 30 "$work/apt.log"
  die "apt-get install of the package failed"
fi
pass "apt-get update and install ($(($(date +%s) - started)) s, $(grep -c '^Setting up' "$work/apt.log") packages set up)"
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache/archives/" {} +

expect "dpkg status" "install ok installed" "$(in_root dpkg-query -W -f='${Status}' cluster-kv)"
for f in /usr/bin/cluster-kv /usr/lib/systemd/system/cluster-kv.service \
  /etc/cluster-kv/cluster-kv.conf /usr/share/man/man1/cluster-kv.1.gz; do
  [ -f "$root$f" ] && pass "installed: $f" || fail "not installed: $f"
done
[ -x "$root/usr/bin/cluster-kv" ] && pass "the binary is executable" || fail "the binary is not executable"
user=$(in_root getent passwd cluster-kv) || true
group=$(in_root getent group cluster-kv) || true
[ -n "$user" ] && pass "user: $user" || die "the postinst made no cluster-kv user"
[ -n "$group" ] && pass "group: $group" || fail "the postinst made no cluster-kv group"
uid=$(cut -d: -f3 <<< "$user")
gid=$(cut -d: -f3 <<< "$group")
expect "the user's primary group is cluster-kv" "$gid" "$(cut -d: -f4 <<< "$user")"
expect "the user's home is the data directory" /var/lib/cluster-kv "$(cut -d: -f6 <<< "$user")"
expect "the user cannot log in" /usr/sbin/nologin "$(cut -d: -f7 <<< "$user")"
[ "$uid" -lt 1000 ] && pass "a system user (uid $uid)" || fail "not a system user: uid $uid"
[ -L "$root/etc/systemd/system/multi-user.target.wants/cluster-kv.service" ] &&
  pass "the unit is enabled (multi-user.target.wants)" || fail "the unit was not enabled"
# The same package again: the upgrade path of the maintainer scripts (prerm upgrade,
# postinst configure <old version>), which must find the user there and keep the unit enabled.
in_root dpkg -i "/tmp/$(basename "$deb")" > "$work/reinstall.log" 2>&1 &&
  pass "dpkg -i over the installed package (an upgrade)" || fail "reinstalling the package failed"
expect "still one cluster-kv user" 1 "$(grep -c '^cluster-kv:' "$root/etc/passwd")"
[ -L "$root/etc/systemd/system/multi-user.target.wants/cluster-kv.service" ] &&
  pass "the unit is still enabled" || fail "the upgrade disabled the unit"

# The unit, checked by systemd against this root: its binaries exist there (ExecStart,
# ExecReload's /bin/kill), its directives and dependencies resolve. (--man=no: the
# Documentation= page is looked up with the host's man; it is checked above.)
if systemd-analyze verify --root="$root" --man=no cluster-kv.service > "$work/verify.log" 2>&1 &&
  [ ! -s "$work/verify.log" ]; then
  pass "systemd-analyze verify --root: no complaints"
else
  fail "systemd-analyze verify: $(cat "$work/verify.log")"
fi
# ... and it does look into the root: a copy with a missing binary and a bad key fails.
sed -e 's|^ExecStart=/usr/bin/cluster-kv|ExecStart=/usr/bin/no-such-binary|' \
  -e 's|^ProtectHome=yes|ProtectHome=perhaps|' \
  "$root/usr/lib/systemd/system/cluster-kv.service" > "$root/etc/systemd/system/ckv-broken.service"
systemd-analyze verify --root="$root" --man=no ckv-broken.service > "$work/verify-broken.out" 2>&1 || true
grep -q 'no-such-binary' "$work/verify-broken.out" && grep -q 'perhaps' "$work/verify-broken.out" &&
  pass "systemd-analyze verify --root catches a unit broken in that root" ||
  fail "verify did not catch a broken copy: $(cat "$work/verify-broken.out")"
rm "$root/etc/systemd/system/ckv-broken.service"

echo "# the installed node, run as the cluster-kv user"
expect "--version names the package's version" "cluster-kv $version" \
  "$(in_root /usr/bin/cluster-kv --version | cut -d' ' -f1-2)"
# The packaged config file names every setting the binary has (commented out or not).
missing=""
for flag in $(in_root /usr/bin/cluster-kv --help | grep -o '^  --[a-z-]*' | cut -c5-); do
  case "$flag" in help | version | config | no-mdns | restore-from) continue ;; esac
  grep -qE "^#?$flag = " "$root/etc/cluster-kv/cluster-kv.conf" || missing="$missing $flag"
done
expect "the config file lists every flag of --help" "" "$missing"
# The data directory as systemd's StateDirectory=cluster-kv (mode 0700) makes it.
in_root install -d -o cluster-kv -g cluster-kv -m 0700 /var/lib/cluster-kv ||
  die "could not make /var/lib/cluster-kv"
start_installed() {  # start_installed HTTP_PORT GOSSIP_PORT: the node in the root, as the unit does
  chroot --userspec="$uid:$gid" --groups="$gid" "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    /usr/bin/cluster-kv --config /etc/cluster-kv/cluster-kv.conf \
    --http "127.0.0.1:$1" --gossip "127.0.0.1:$2" --no-mdns >> "$work/installed.log" 2>&1 &
  node=$!
}
stop_installed() {  # stop_installed: SIGTERM, and its exit status once it ended (15 s at most)
  kill -TERM "$node"
  local i rc=0
  for i in $(seq 150); do kill -0 "$node" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$node" 2> /dev/null; then
    fail "the node did not end within 15 s of SIGTERM"
    kill -9 "$node"
  fi
  wait "$node" || rc=$?
  node=""
  return "$rc"
}

start_installed $http_port $gossip_port
wait_for 20 "the installed node answers /_cluster/health" \
  curl -sf -m 1 "http://127.0.0.1:$http_port/_cluster/health" || die "the installed node did not start"
expect "it runs as cluster-kv:cluster-kv" "$uid $gid" \
  "$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u, g }' "/proc/$node/status")"
grep -q "data in /var/lib/cluster-kv" "$work/installed.log" &&
  pass "the config file's data-dir is used" || fail "the node's data is not in /var/lib/cluster-kv"
expect "PUT a key" "200 " "$(http PUT $http_port /packaged -d 'installed by apt')"
expect "GET it back" "200 installed by apt" "$(http GET $http_port /packaged)"
others=$(find "$root/var/lib/cluster-kv" ! -user "$uid" | wc -l)
expect "every file in the data directory belongs to cluster-kv" 0 "$others"
kill -HUP "$node"  # what `systemctl reload` sends: without a keyring it changes nothing
sleep 0.5
expect "the node still serves after SIGHUP" 200 "$(status GET $http_port /_cluster/health)"
rc=0
stop_installed || rc=$?
expect "SIGTERM: the node leaves and exits 0" 0 "$rc"
grep -q "left the cluster" "$work/installed.log" && pass "it left the cluster gracefully" ||
  fail "no graceful leave in its log"

start_installed $((http_port + 1)) $((gossip_port + 1))
wait_for 20 "the node starts again on the same data" \
  curl -sf -m 1 "http://127.0.0.1:$((http_port + 1))/_cluster/health" || die "the node did not start again"
expect "the key survived the restart" "200 installed by apt" "$(http GET $((http_port + 1)) /packaged)"
rc=0
stop_installed || rc=$?
expect "SIGTERM again: exit 0" 0 "$rc"

echo "# remove, then purge"
in_root dpkg -r cluster-kv > "$work/remove.log" 2>&1 && pass "dpkg -r" || fail "dpkg -r failed"
[ ! -e "$root/usr/bin/cluster-kv" ] && [ -f "$root/etc/cluster-kv/cluster-kv.conf" ] &&
  [ -d "$root/var/lib/cluster-kv" ] && pass "remove: the binary is gone, config and data are kept" ||
  fail "remove: binary, config or data not as documented"
in_root dpkg -P cluster-kv > "$work/purge.log" 2>&1 && pass "dpkg -P" || fail "dpkg -P failed"
[ ! -e "$root/etc/cluster-kv" ] && pass "purge: /etc/cluster-kv is gone" ||
  fail "purge left $(ls -A "$root/etc/cluster-kv")"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/cluster-kv.service" ] &&
  pass "purge: the unit's enablement is forgotten" || fail "purge left the unit enabled"
[ -n "$(find "$root/var/lib/cluster-kv" -type f)" ] && in_root getent passwd cluster-kv > /dev/null &&
  pass "purge: the data and the cluster-kv user are kept" || fail "purge: data or user removed"

finish
