#!/usr/bin/env bash
# Builds and tests grpc-leak-tidy against LLVM/Clang 19 instead of the default
# 22, in build-llvm19/: installs the LLVM 19 packages (and the rest
# scripts/setup-debian.sh installs), configures with
# -DGRPCLEAK_LLVM_VERSION=19, builds, runs the `check` target and prints
# `check-llvm19: N passed, M failed`. Exits with check's status.
# Usage: scripts/ci-llvm19.sh   (JOBS=N to set the build's parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh 19
exec bash scripts/build-and-check.sh build-llvm19 check-llvm19 -DGRPCLEAK_LLVM_VERSION=19
