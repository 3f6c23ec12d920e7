#!/usr/bin/env bash
# Installs everything grpc-leak-tidy needs to build and test on Debian
# bookworm: Clang/LLVM (22 by default, or the major version given, e.g. 19)
# with the clang-tidy and clangd libraries, lit and FileCheck, gRPC 1.51 with
# protoc and grpc_cpp_plugin, gRPC's .proto files, GoogleTest, Ninja and
# CMake, dpkg-dev (the .deb's library dependencies), pre-commit, Bazel and
# clang-tidy-22's run-clang-tidy-22 (the CI recipes' tests), Neovim and Emacs
# with Eglot (the editor tests), Chromium with its WebDriver and Selenium (the
# HTML report's browser test), and Node.js with npm, with which it then
# installs the SARIF SDK's validator (scripts/install-sarif-validator.sh).
# Every test needs it all: test/tools/test-setup.test fails if a tool is
# missing.
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
  neovim emacs-nox elpa-eglot
  chromium chromium-driver python3-selenium
)
# Node.js and npm: Debian's packages, unless the commands are there already
# (NodeSource's nodejs package, say, ships npm and conflicts with Debian's).
command -v node > /dev/null 2>&1 || packages+=(nodejs)
command -v npm > /dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-debian: all packages already installed"
else
  echo "setup-debian: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The SARIF validator, from npm, for the user who runs the tests.
validator=$(bash "$(dirname "$0")/install-sarif-validator.sh") || exit 1
echo "setup-debian: SARIF validator: $validator"
