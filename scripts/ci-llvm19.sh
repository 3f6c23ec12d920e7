#!/usr/bin/env bash
# Builds and tests grpc-leak-tidy against LLVM/Clang 19 instead of the default
# 22, in build-llvm19/: installs what is missing of the LLVM 19 packages and
# of the rest scripts/setup-debian.sh installs (gRPC, GoogleTest, ...; of
# LLVM 22 only clang-tidy-22, see below), configures with
# -DGRPCLEAK_LLVM_VERSION=19, builds, runs the `check` target and prints a
# one-line summary like .ci/run. Exits with check's status.
# Usage: scripts/ci-llvm19.sh   (JOBS=N to set the build's parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

# Debian bookworm's LLVM 19 (lit comes with llvm-19-tools, as
# /usr/lib/llvm-19/build/utils/lit/lit.py), clang-tidy-22 for run-clang-tidy-22
# (the CI recipes' tests run it, as docs/ci/github-actions.yml does, with the
# LLVM 19 grpc-leak-tidy as its clang-tidy), then scripts/setup-debian.sh's
# list without its other LLVM 22 packages.
packages=(
  clang-19 clang-tidy-19 clangd-19 libclang-19-dev llvm-19-dev llvm-19-tools
  clang-tidy-22
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libgtest-dev cmake ninja-build python3
  dpkg-dev pre-commit bazel-bootstrap
  gnuplot-nox iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "ci-llvm19: all packages already installed"
else
  echo "ci-llvm19: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=build-llvm19
jobs=("-j${JOBS:-2}")
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGRPCLEAK_LLVM_VERSION=19
cmake --build "$build" "${jobs[@]}"
# The SARIF SDK's validator (npm), for the SARIF test; skipped if npm is absent.
bash scripts/install-sarif-validator.sh "$build/sarif-tools" || true
mkdir -p "$build/logs"
set +e
cmake --build "$build" --target check 2>&1 | tee "$build/logs/check.log"
status=${PIPESTATUS[0]}
set -e

# lit runs twice (grpc-leak-tidy, then the plugin in stock clang-tidy-19).
passed=$(awk -F: '/^ +Passed *:/ {s+=$2} END {print s+0}' "$build/logs/check.log")
failed=$(awk -F: '/^ +(Failed|Unresolved|Timed Out) *:/ {s+=$2} END {print s+0}' "$build/logs/check.log")
echo "check-llvm19: ${passed} passed, ${failed} failed"
exit "$status"
