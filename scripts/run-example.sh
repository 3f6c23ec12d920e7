#!/usr/bin/env bash
# The main job: grpc-leak-tidy over the example service (the incident's
# version, then the fixed one), through the build's compile database.
# Usage: scripts/run-example.sh [BUILD_DIR]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
tidy="$build/bin/grpc-leak-tidy"
[ -x "$tidy" ] || { echo "run-example: $tidy not built; run: cmake --build $build" >&2; exit 2; }
# Each program's files, in the order they are analysed: the peer monitor's
# helpers' file (peer_clients.cc) comes before the file that calls them, so
# that its summary (docs/summaries.md) is there when it is needed; the price
# board is the same service on gRPC's callback API.
for version in incident fixed; do
  for file in inventory_server.cc stock_sync.cc peer_clients.cc peer_monitor.cc; do
    echo "== grpc-leak-tidy on examples/$version/$file"
    # Only our own diagnostics and their notes; clang-tidy's progress lines go.
    "$tidy" -p "$build" "$root/examples/$version/$file" 2>/dev/null
    echo
  done
done
for version in incident fixed; do
  echo "== grpc-leak-tidy on examples/$version/price_board.cc"
  "$tidy" -p "$build" "$root/examples/$version/price_board.cc" 2>/dev/null
  echo
done
