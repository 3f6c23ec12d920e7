#!/usr/bin/env bash
# Installs everything grpc-leak-tidy needs to build and test on Debian
# bookworm (with the LLVM 22 packages available from the configured apt
# sources): Clang/LLVM 22 with clang-tidy and clangd libraries, lit and
# FileCheck, gRPC 1.51 with protoc and grpc_cpp_plugin, gRPC's .proto files,
# GoogleTest, Ninja and CMake, dpkg-dev (the .deb's library dependencies),
# and pre-commit and Bazel (the CI recipes' tests).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

packages=(
  clang-22 clang-tidy-22 clangd-22 libclang-22-dev llvm-22-dev llvm-22-tools
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
