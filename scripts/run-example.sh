#!/usr/bin/env bash
# The main job: grpc-leak-tidy over the example service (the incident's
# version, then the fixed one), through the build's compile database.
# Usage: scripts/run-example.sh [BUILD_DIR]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
tidy="$build/bin/grpc-leak-tidy"
[ -x "$tidy" ] || { echo "run-example: $tidy not built; run: cmake --build $build" >&2; exit 2; }
for version in incident fixed; do
  for file in inventory_server.cc stock_sync.cc; do
    echo "== grpc-leak-tidy on examples/$version/$file"
    # Only our own diagnostics and their notes; clang-tidy's progress lines go.
    "$tidy" -p "$build" "$root/examples/$version/$file" 2>/dev/null
    echo
  done
done
# The peer monitor, one program in two files: its helpers' file first, so
# that its summary (docs/summaries.md) is there when peer_monitor.cc, which
# calls them, is analysed.
for version in incident fixed; do
  for file in peer_clients.cc peer_monitor.cc; do
    echo "== grpc-leak-tidy on examples/$version/$file"
    "$tidy" -p "$build" "$root/examples/$version/$file" 2>/dev/null
    echo
  done
done
# The same service on gRPC's callback API (examples/*/price_board.cc).
for version in incident fixed; do
  echo "== grpc-leak-tidy on examples/$version/price_board.cc"
  "$tidy" -p "$build" "$root/examples/$version/price_board.cc" 2>/dev/null
  echo
done
