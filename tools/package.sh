#!/usr/bin/env bash
# Makes the Debian package build/package/cluster-kv_<version>_<arch>.deb from the Release
# build: the node binary, its systemd unit, the default config file and the man page (the
# install() rules of packaging/CMakeLists.txt), with maintainer scripts that create the
# cluster-kv system user and enable and start the service.
#
#   tools/package.sh             builds build/release first only when its binary is missing
#   tools/package.sh --no-build  never builds: uses build/release as it is (fails if absent)
#   tools/package.sh --build     runs tools/build.sh release first (an incremental build)
#   --tree DIR                   packages another build tree than build/release (never built
#                                here: it must hold the cluster-kv binary already)
#
# Needs dpkg-dev (dpkg-shlibdeps) and cmake. DEBFULLNAME and DEBEMAIL set the Maintainer
# field (default: this repository's git user). Prints the package's path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
umask 022

usage() { echo "usage: tools/package.sh [--no-build|--build] [--tree DIR]" >&2; exit 2; }
build=auto
tree=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=never ;;
    --build) build=always ;;
    --tree) [ $# -ge 2 ] || usage; tree=${2%/}; build=never; shift ;;
    *) usage ;;
  esac
  shift
done

bin=$tree/runtime/cluster-kv
if [ "$build" = always ] || { [ "$build" = auto ] && [ ! -x "$bin" ]; }; then
  tools/build.sh release
fi
if [ ! -x "$bin" ]; then
  echo "package: $bin is missing (build it: tools/build.sh release)" >&2
  exit 1
fi
for c in cmake dpkg-deb dpkg-shlibdeps dpkg; do
  command -v "$c" >/dev/null 2>&1 || { echo "package: needs '$c' (tools/setup.sh installs it)" >&2; exit 1; }
done

# `cmake --install` does not regenerate the build tree: when packaging/CMakeLists.txt is
# newer than the tree's install rules (or the tree predates them), configure it again
# (no compiling; the cache is kept as it is).
rules=$tree/packaging/cmake_install.cmake
if [ ! -f "$rules" ] || [ packaging/CMakeLists.txt -nt "$rules" ]; then
  cmake -S . -B "$tree" > /dev/null
fi

version=$(sed -n 's/^project([^)]*VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt | head -n 1)
version=${version:-0.1.0}
arch=$(dpkg --print-architecture)
out=build/package
stage=$out/staging
deb=$out/cluster-kv_${version}_${arch}.deb
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

DESTDIR=$here/$stage cmake --install "$tree" --prefix /usr --strip > /dev/null
gzip -9n "$stage/usr/share/man/man1/cluster-kv.1"  # Debian ships man pages compressed
for f in usr/bin/cluster-kv usr/lib/systemd/system/cluster-kv.service \
  etc/cluster-kv/cluster-kv.conf usr/share/man/man1/cluster-kv.1.gz; do
  [ -f "$stage/$f" ] || { echo "package: the install did not make /$f" >&2; exit 1; }
done

# The shared libraries' packages, as dpkg-shlibdeps finds them from the binary's NEEDED
# entries; it wants a debian/control to read, so it runs in a scratch directory with one.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian"
printf 'Source: cluster-kv\n\nPackage: cluster-kv\nArchitecture: any\n' > "$scratch/debian/control"
shlibs=$(cd "$scratch" && dpkg-shlibdeps -O "$here/$stage/usr/bin/cluster-kv" 2> "$scratch/warnings") || {
  cat "$scratch/warnings" >&2
  exit 1
}
shlibs=$(sed -n 's/^shlibs:Depends=//p' <<< "$shlibs")
[ -n "$shlibs" ] || { echo "package: dpkg-shlibdeps found no libraries" >&2; exit 1; }
# adduser: the postinst makes the system user with it. procps: /bin/kill, the unit's
# ExecReload.
depends="$shlibs, adduser, procps"

maintainer="${DEBFULLNAME:-$(git config user.name 2>/dev/null || echo cluster-kv maintainers)}"
maintainer="$maintainer <${DEBEMAIL:-$(git config user.email 2>/dev/null || echo cluster-kv@localhost)}>"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

cat > "$stage/DEBIAN/control" <<EOF
Package: cluster-kv
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: avahi-daemon
Section: database
Priority: optional
Description: distributed key-value store node, used over HTTP
 cluster-kv runs one node of a cluster. Nodes find each other by mDNS or by
 --join and gossip their membership; any node answers reads, writes and
 deletes of keys over plain HTTP (curl). Values are kept in RocksDB on the
 nodes that wrote or read them, and survive restarts.
 .
 This package runs the node as the systemd service cluster-kv.service, as
 the cluster-kv user, configured by /etc/cluster-kv/cluster-kv.conf, with its
 data in /var/lib/cluster-kv.
EOF

echo /etc/cluster-kv/cluster-kv.conf > "$stage/DEBIAN/conffiles"
(cd "$stage" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

cat > "$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# cluster-kv postinst (made by tools/package.sh).
set -e

if [ "$1" = configure ]; then
  # The system user and group the service runs as. Its home is the data directory, which
  # systemd makes (StateDirectory=) at the first start; nobody logs in as it.
  if ! getent group cluster-kv > /dev/null; then
    addgroup --system --quiet cluster-kv
  fi
  if ! getent passwd cluster-kv > /dev/null; then
    adduser --system --quiet --ingroup cluster-kv --home /var/lib/cluster-kv --no-create-home \
      --shell /usr/sbin/nologin --comment "cluster-kv node" cluster-kv
  fi
fi

# The service is enabled and started, as Debian's own servers are (redis-server,
# postgresql): the default config serves HTTP on 127.0.0.1 only, so a fresh install is
# a working single node reachable from this host alone. Enabling is only links under
# /etc/systemd/system, so it is done even where systemd is not running (a chroot, an
# image being built); an administrator's `systemctl disable` is kept across upgrades
# (deb-systemd-helper remembers it). Starting needs a running systemd; on an upgrade it
# is a restart, which is a graceful leave and rejoin of the cluster.
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-remove ]; then
  if command -v deb-systemd-helper > /dev/null; then
    if deb-systemd-helper --quiet was-enabled cluster-kv.service; then
      deb-systemd-helper enable cluster-kv.service > /dev/null || true
    else
      deb-systemd-helper update-state cluster-kv.service > /dev/null || true
    fi
  fi
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload > /dev/null || true
    if [ -n "$2" ]; then action=restart; else action=start; fi
    # deb-systemd-invoke honours policy-rc.d, and starts only an enabled unit.
    deb-systemd-invoke "$action" cluster-kv.service > /dev/null || true
  fi
fi
EOF

cat > "$stage/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# cluster-kv prerm (made by tools/package.sh): on removal the node leaves the cluster
# (SIGTERM) before its files go. On an upgrade it keeps running until the postinst
# restarts it with the new binary.
set -e

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  deb-systemd-invoke stop cluster-kv.service > /dev/null || true
fi
EOF

cat > "$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# cluster-kv postrm (made by tools/package.sh).
#
# Remove keeps the config file and the data. Purge deletes the config file (dpkg does)
# and /etc/cluster-kv when nothing else is left in it, and forgets whether the service
# was enabled. It keeps, as Debian does for its databases' data, the data directory
# /var/lib/cluster-kv and the cluster-kv user and group (which own that data, and whose
# ids must not be reused while it exists). To delete them too:
#   rm -rf /var/lib/cluster-kv; deluser --system cluster-kv   (the group goes with it)
set -e

if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload > /dev/null || true
fi
if [ "$1" = purge ]; then
  if command -v deb-systemd-helper > /dev/null; then
    deb-systemd-helper purge cluster-kv.service > /dev/null || true
  fi
  rmdir /etc/cluster-kv 2> /dev/null || true
fi
EOF
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

rm -f "$deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" > /dev/null
echo "package: $(du -k "$deb" | cut -f1) KiB; Depends: $depends" >&2
echo "$deb"
