#!/usr/bin/env bash
# Installs the Debian package on a FRESH Debian bookworm system — a minimal
# chroot made with debootstrap, holding nothing of this machine's packages —
# and runs the installed grpc-leak-tidy there: proof that the package's
# dependencies are complete. Downloads a few hundred MB from the Debian
# mirror, so it is not part of CI (which runs scripts/test-deb.sh on the build
# machine instead). Needs root and the debootstrap package.
# Usage: scripts/test-deb-fresh.sh DEB [CHROOT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deb="$(readlink -f "$1")"
chroot_dir="${2:-/tmp/grpc-leak-fresh-root}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ "$(id -u)" -eq 0 ] || { echo "test-deb-fresh: needs root" >&2; exit 2; }

if [ ! -x "$chroot_dir/usr/bin/apt-get" ]; then
  echo "test-deb-fresh: debootstrap bookworm into $chroot_dir"
  debootstrap --variant=minbase bookworm "$chroot_dir" "$mirror" > "$chroot_dir.debootstrap.log" 2>&1
fi
cp /etc/apt/sources.list.d/*.sources "$chroot_dir/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$chroot_dir/proc" && mount -t proc proc "$chroot_dir/proc"
trap 'umount "$chroot_dir/proc" || true' EXIT

cp "$deb" "$chroot_dir/tmp/grpc-leak-tidy.deb"
cp "$root/test/tools/Inputs/leak.cpp" "$chroot_dir/tmp/leak.cpp"
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -q > /dev/null
before=$(in_root dpkg-query -W -f='.\n' | wc -l)
# The package and what it Recommends (clang-tidy-22 for the plugin, the gRPC
# headers the analysed code includes): a user's `apt install`.
in_root apt-get install -y -q /tmp/grpc-leak-tidy.deb > "$chroot_dir.install.log" 2>&1 \
  || { tail -20 "$chroot_dir.install.log" >&2; exit 1; }
after=$(in_root dpkg-query -W -f='.\n' | wc -l)
echo "test-deb-fresh: installed with $((after - before)) packages (fresh system had $before)"

in_root sh -c 'cd /tmp && grpc-leak-tidy leak.cpp -- -std=c++17' > "$chroot_dir.tidy.log" 2>&1 || true
in_root sh -c 'cd /tmp && clang-tidy-22 --load=/usr/lib/grpc-leak-tidy/grpc-leak-tidy-plugin.so --checks=-*,grpc-leak-* leak.cpp -- -std=c++17' > "$chroot_dir.plugin.log" 2>&1 || true
in_root grpc-leak-clangd --version > "$chroot_dir.clangd.log" 2>&1 || true
grep 'warning:' "$chroot_dir.tidy.log" || true
tidy=$(grep -c 'warning: .*\[grpc-leak-core-handle\]' "$chroot_dir.tidy.log" || true)
plugin=$(grep -c 'warning: .*\[grpc-leak-core-handle\]' "$chroot_dir.plugin.log" || true)
clangd=$(grep -c 'clangd version' "$chroot_dir.clangd.log" || true)
echo "test-deb-fresh: grpc-leak-tidy findings: $tidy, plugin findings: $plugin, clangd runs: $clangd"
[ "$tidy" -eq 1 ] && [ "$plugin" -eq 1 ] && [ "$clangd" -eq 1 ] || { echo "test-deb-fresh: FAILED" >&2; exit 1; }
echo "test-deb-fresh: passed"
