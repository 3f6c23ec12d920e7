#!/usr/bin/env bash
# Installs the SARIF SDK's validator (the Sarif.Multitool, from npm) for the
# tests that validate grpc-leak-tidy's SARIF logs (test/tools/sarif-validate.test,
# ci-sarif-validate.test). scripts/setup-debian.sh runs it.
# Usage: scripts/install-sarif-validator.sh [DIR]
#   DIR defaults to ${XDG_DATA_HOME:-~/.local/share}/grpc-leak-tidy/sarif-tools,
#   where test/lit.cfg.py looks for it (then in <build>/sarif-tools; or set
#   GRPCLEAK_SARIF_MULTITOOL to the sarif-multitool to use).
# Prints the path of the installed sarif-multitool. Does nothing if it is
# there already. Exits 1, saying why, if it cannot install it (no npm, no
# registry): the tests that need it would not run.
set -uo pipefail
version="5.7.0"
dir="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/grpc-leak-tidy/sarif-tools}"
tool="$dir/node_modules/.bin/sarif-multitool"

if [ -x "$tool" ] && [ -f "$dir/.version-$version" ]; then
  echo "$tool"
  exit 0
fi
if ! command -v npm > /dev/null 2>&1; then
  echo "install-sarif-validator: npm not found (Debian packages npm and nodejs)" >&2
  exit 1
fi
mkdir -p "$dir" || { echo "install-sarif-validator: cannot create $dir" >&2; exit 1; }
if ! npm install --prefix "$dir" --no-audit --no-fund "@microsoft/sarif-multitool@$version" >&2; then
  echo "install-sarif-validator: npm install @microsoft/sarif-multitool@$version failed" >&2
  exit 1
fi
# The package's postinstall step only marks the binary executable; npm may
# skip install scripts, so do it here.
chmod u+x "$dir"/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool 2> /dev/null || true
if [ ! -x "$tool" ]; then
  echo "install-sarif-validator: npm installed no $tool" >&2
  exit 1
fi
touch "$dir/.version-$version"
echo "$tool"
