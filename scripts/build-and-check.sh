#!/usr/bin/env bash
# Configures, builds and tests grpc-leak-tidy in one build directory, and
# prints a one-line summary `<label>: N passed, M failed`. Exits with the
# status of the `check` target. Used by .ci/run (LLVM 22) and
# scripts/ci-llvm19.sh. Extra arguments go to CMake's configure step.
# Usage: scripts/build-and-check.sh BUILD_DIR LABEL [CMAKE_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
build="$1"
label="$2"
shift 2

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" "-j${JOBS:-2}"
mkdir -p "$build/logs"
set +e
cmake --build "$build" --target check 2>&1 | tee "$build/logs/check.log"
status=${PIPESTATUS[0]}
set -e

# lit runs twice (grpc-leak-tidy, then the plugin in stock clang-tidy).
passed=$(awk -F: '/^ +Passed *:/ {s+=$2} END {print s+0}' "$build/logs/check.log")
failed=$(awk -F: '/^ +(Failed|Unresolved|Timed Out) *:/ {s+=$2} END {print s+0}' "$build/logs/check.log")
echo "${label}: ${passed} passed, ${failed} failed"
exit "$status"
