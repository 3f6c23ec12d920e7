#!/usr/bin/env bash
# Builds the Debian package from a build directory, installs it with apt
# (which resolves its dependencies), and runs the installed
# /usr/bin/grpc-leak-tidy over the installed copy of the example service,
# outside the source and build trees; then removes the package again.
# Needs root or sudo. Usage: scripts/test-deb.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test-deb: needs root or sudo" >&2; exit 2; }
  SUDO="sudo"
fi
if dpkg-query -W -f='${Status}' grpc-leak-tidy 2>/dev/null | grep -q "install ok installed"; then
  echo "test-deb: a grpc-leak-tidy package is already installed; not touching it" >&2
  exit 2
fi

rm -f "$build"/grpc-leak-tidy_*.deb
(cd "$build" && cpack -G DEB > "$build/cpack.log")
deb="$(ls "$build"/grpc-leak-tidy_*.deb)"
echo "test-deb: built $(basename "$deb"): $(stat -c %s "$deb") bytes," \
     "installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo "test-deb: Depends: $(dpkg-deb -f "$deb" Depends)"

work="$(mktemp -d)"
cleanup() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q grpc-leak-tidy > "$work/remove.log" 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$deb" > "$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; echo "test-deb: apt-get install failed" >&2; exit 1; }
echo "test-deb: installed: $(command -v grpc-leak-tidy)"

# What a user of the package does: build the example's generated headers from
# the installed copy, then analyse it. Nothing of the source tree is used.
cp -r /usr/share/doc/grpc-leak-tidy/examples "$work/example"
cd "$work"
cmake -S example -B example-build -G Ninja > cmake.log
cmake --build example-build --target inventory-proto > build.log
/usr/bin/grpc-leak-tidy -p example-build example/incident/inventory_server.cc 2>/dev/null > incident.txt || true
/usr/bin/grpc-leak-tidy -p example-build example/fixed/inventory_server.cc 2>/dev/null > fixed.txt || true
cat incident.txt

found=$(grep -c 'warning: .*\[grpc-leak-' incident.txt || true)
clean=$(grep -c 'warning: .*\[grpc-leak-' fixed.txt || true)
checks=$(grep -o '\[grpc-leak-[a-z-]*\]' incident.txt | sort -u | tr -d '[]' | tr '\n' ' ')
echo "test-deb: incident version: $found findings ($checks); fixed version: $clean"
if [ "$found" -ne 6 ] || [ "$clean" -ne 0 ]; then
  echo "test-deb: FAILED: expected 6 findings in the incident version and 0 in the fixed one" >&2
  exit 1
fi
echo "test-deb: passed"
