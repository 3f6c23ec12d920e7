#!/bin/bash
# One grpc-leak-tidy run of the Bazel aspect (grpc_leak_tidy.bzl) over one
# source file, with the target's compile flags.
#
#   run_grpc_leak_tidy.sh TIDY REPORT FAIL CHECKS CONFIG SOURCE SUMMARY [KNOWN...] -- FLAGS...
#
# Writes clang-tidy's output to REPORT, and the source's summary to SUMMARY
# (docs/summaries.md), reading the summaries KNOWN (of the target's deps).
# Exits 1, printing the report, when the source does not compile, or when
# FAIL is 1 and there are findings.
set -u
tidy=$1 report=$2 fail=$3 checks=$4 config=$5 source=$6 summary=$7
shift 7
known=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  known+=("$1")
  shift
done
[ "${1:-}" = "--" ] && shift

# The summaries hold paths relative to the execution root (sandboxes
# differ): absolute in this one while grpc-leak-tidy reads them, which
# checks them against the sources (inputs of this action too).
summaries=$(mktemp -d)
trap 'rm -rf "$summaries"' EXIT
n=0
for file in "${known[@]}"; do
  n=$((n + 1))
  sed "s|\"file\": \"|\"file\": \"$PWD/|g" "$file" > "$summaries/known-$n.json"
done
export GRPC_LEAK_SUMMARIES_DIR=$summaries

args=(--quiet)
[ -n "$checks" ] && args+=("--checks=$checks")
[ -n "$config" ] && args+=("--config-file=$config")

# Paths in the report relative to the execution root (the workspace), not
# to this action's sandbox, so that the report is the same in every run.
"$tidy" "${args[@]}" "$source" -- "$@" 2>&1 |
  awk -v p="$PWD/" '{ while ((i = index($0, p)) > 0) $0 = substr($0, 1, i - 1) substr($0, i + length(p)); print }' > "$report"
code=${PIPESTATUS[0]}

# This source's summary, the file grpc-leak-tidy added; an empty one if it
# wrote none (compiler errors).
written=""
for file in "$summaries"/*.json; do
  [ -e "$file" ] || continue
  case "$file" in */known-*.json) continue ;; esac
  written=$file
done
if [ -n "$written" ]; then
  sed "s|\"$PWD/|\"|g" "$written" > "$summary"
else
  printf '{"version": 1, "file": "%s", "hash": "", "functions": []}\n' "$source" > "$summary"
fi

if [ "$code" -ne 0 ]; then
  echo "grpc-leak-tidy: $source could not be analysed (exit $code):" >&2
  cat "$report" >&2
  exit 1
fi
if [ "$fail" = "1" ] && grep -q ': warning: .* \[[^]]*\]$' "$report"; then
  cat "$report" >&2
  echo "grpc-leak-tidy: findings in $source (report: $report)" >&2
  exit 1
fi
exit 0
