#!/usr/bin/env python3
"""Split a compile_commands.json into N shards, one per CI runner.

    shard-compdb.py -p build --shard 2/4                # print shard 2's files
    shard-compdb.py -p build --shard 2/4 --out shard2   # shard2/compile_commands.json
    grpc-leak-tidy -p shard2 ...   or   run-clang-tidy-22 -p shard2 ...

Every source file of the database goes to exactly one shard (K runs from 1 to
N), and the split depends only on the database and N: each runner computes
its own shard and no two runners analyse the same file. All entries of a file
(a database may list one file more than once) stay together.

Balancing (--balance):
  size   (default) the files, largest first, each go to the shard with the
         smallest total size so far (ties: the lower shard). Source size is a
         rough stand-in for analysis time; it keeps one shard from getting
         all the big files.
  count  the files, sorted by path, are dealt out in turn: shard K gets the
         K-th, (K+N)-th, ... file.

--include / --exclude select files first (Python regular expressions,
searched in the absolute path), e.g. --exclude '\\.pb\\.cc$|/third_party/'.

Python 3 standard library only; scripts/grpc-leak-ci.py imports it.
"""

import argparse
import json
import os
import re
import sys


def load_compdb(build_path):
    """The entries of <build_path>/compile_commands.json (or of build_path
    itself, if it names the file), each with its absolute file path in
    '_abs'."""
    path = build_path
    if os.path.isdir(path):
        path = os.path.join(path, "compile_commands.json")
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        raise ValueError("%s: not a compilation database (a JSON list)" % path)
    for entry in entries:
        directory = entry.get("directory", "")
        entry["_abs"] = os.path.normpath(os.path.join(directory, entry["file"]))
    return entries


def select_files(entries, include=None, exclude=None):
    """The distinct absolute files of the entries, in database order, that
    match --include and not --exclude."""
    include_re = re.compile(include) if include else None
    exclude_re = re.compile(exclude) if exclude else None
    seen = set()
    files = []
    for entry in entries:
        name = entry["_abs"]
        if name in seen:
            continue
        seen.add(name)
        if include_re and not include_re.search(name):
            continue
        if exclude_re and exclude_re.search(name):
            continue
        files.append(name)
    return files


def file_size(name):
    try:
        return os.path.getsize(name)
    except OSError:
        return 0


def split(files, count, balance="size"):
    """The files split into `count` lists (shard 1 first): every file in
    exactly one, deterministic for the same files and sizes."""
    shards = [[] for _ in range(count)]
    ordered = sorted(set(files))
    if balance == "count":
        for index, name in enumerate(ordered):
            shards[index % count].append(name)
    elif balance == "size":
        totals = [0] * count
        for name in sorted(ordered, key=lambda n: (-file_size(n), n)):
            target = min(range(count), key=lambda k: (totals[k], k))
            shards[target].append(name)
            totals[target] += file_size(name)
    else:
        raise ValueError("unknown balance %r" % balance)
    return [sorted(shard) for shard in shards]


def parse_shard(text):
    """'K/N' -> (K, N), with 1 <= K <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ValueError("--shard wants K/N, e.g. 2/4, not %r" % text)
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError("--shard %s: K must be between 1 and N" % text)
    return k, n


def shard_files(entries, shard, balance="size", include=None, exclude=None):
    """The files of shard (K, N)."""
    k, n = shard
    return split(select_files(entries, include, exclude), n, balance)[k - 1]


def write_subdb(entries, files, out_dir):
    """Writes out_dir/compile_commands.json with the entries of `files`, in
    database order. Returns its path."""
    wanted = set(files)
    subset = []
    for entry in entries:
        if entry["_abs"] in wanted:
            subset.append({k: v for k, v in entry.items() if k != "_abs"})
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "compile_commands.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(subset, f, indent=2)
        f.write("\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Split a compile_commands.json into N balanced, disjoint shards.",
        epilog="Prints the shard's files, one a line; --out also writes a "
               "compile database of just those files.")
    parser.add_argument("-p", dest="build", default="build",
                        help="build directory holding compile_commands.json, or the file itself (default: build)")
    parser.add_argument("--shard", required=True, metavar="K/N",
                        help="select shard K of N (1-based)")
    parser.add_argument("--balance", choices=["size", "count"], default="size",
                        help="balance shards by total source size (default) or by file count")
    parser.add_argument("--include", metavar="REGEX", help="only files whose path matches")
    parser.add_argument("--exclude", metavar="REGEX", help="leave out files whose path matches")
    parser.add_argument("--out", metavar="DIR",
                        help="write DIR/compile_commands.json with the shard's entries (usable as -p DIR)")
    parser.add_argument("--quiet", action="store_true", help="do not print the files")
    args = parser.parse_args(argv)
    try:
        shard = parse_shard(args.shard)
        entries = load_compdb(args.build)
        files = shard_files(entries, shard, args.balance, args.include, args.exclude)
    except (OSError, ValueError, re.error) as err:
        print("shard-compdb: error: %s" % err, file=sys.stderr)
        return 2
    if args.out:
        write_subdb(entries, files, args.out)
    if not args.quiet:
        for name in files:
            print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
