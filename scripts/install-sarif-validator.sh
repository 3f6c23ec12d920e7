#!/usr/bin/env bash
# Installs the SARIF SDK's validator (the Sarif.Multitool, from npm) into a
# directory, for the test that validates grpc-leak-tidy --export-sarif output
# (test/tools/sarif-validate.test runs when <build>/sarif-tools holds it).
# Usage: scripts/install-sarif-validator.sh [DIR]   (default: build/sarif-tools)
# Prints the path of the installed sarif-multitool. Exits 0 even when it cannot
# install (no npm, no registry): the validation test is then skipped, and CI
# goes on.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build/sarif-tools}"
tool="$dir/node_modules/.bin/sarif-multitool"

if ! command -v npm > /dev/null 2>&1; then
  echo "install-sarif-validator: npm not found; the SARIF validation test will be skipped" >&2
  exit 0
fi
mkdir -p "$dir" || { echo "install-sarif-validator: cannot create $dir" >&2; exit 0; }
if ! npm install --prefix "$dir" --no-audit --no-fund @microsoft/sarif-multitool >&2; then
  echo "install-sarif-validator: npm install failed; the SARIF validation test will be skipped" >&2
  exit 0
fi
# The package's postinstall step only marks the binary executable; npm may
# skip install scripts, so do it here.
chmod u+x "$dir"/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool 2> /dev/null || true
if [ ! -x "$tool" ]; then
  echo "install-sarif-validator: npm installed no $tool; the SARIF validation test will be skipped" >&2
  exit 0
fi
echo "$tool"
