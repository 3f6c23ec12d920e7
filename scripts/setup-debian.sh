#!/usr/bin/env bash
# Installs everything grpc-leak-tidy needs to build and test on Debian
# bookworm: Clang/LLVM (22 by default, or the major version given, e.g. 19)
# with the clang-tidy and clangd libraries, lit and FileCheck, gRPC 1.51 with
# protoc and grpc_cpp_plugin, gRPC's .proto files, GoogleTest, Ninja and
# CMake, dpkg-dev (the .deb's library dependencies), and pre-commit, Bazel and
# clang-tidy-22's run-clang-tidy-22 (the CI recipes' tests).
# Usage: scripts/setup-debian.sh [LLVM_MAJOR]
set -euo pipefail
llvm="${1:-22}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

packages=(
  "clang-$llvm" "clang-tidy-$llvm" "clangd-$llvm" "libclang-$llvm-dev" "llvm-$llvm-dev" "llvm-$llvm-tools"
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
  echo "setup-debian: all packages already installed"
  exit 0
fi
echo "setup-debian: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
