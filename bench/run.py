#!/usr/bin/env python3
"""Speed and memory of the grpc-leak checks, measured (never a timed test).

One run interleaves, for every input, repeated runs of the same
grpc-leak-tidy binary with
  (a) only a trivial built-in check (misc-unused-alias-decls): the cost of
      parsing the file, and
  (b) every grpc-leak-* check,
and prints, per input: the median wall time of each with its spread
(min..max), the ratio b/a, the peak RSS of each, and the checks' own time
from clang-tidy's --enable-check-profile. Inputs: the example service, a
TU over gRPC's own C++ headers and generated stubs, and generated files of
growing size (many functions; one long function with many branches and
loops; deep nesting), whose check times give the growth exponent.

With --baseline CHECKS, configuration (a) runs those checks instead (for
example every grpc-leak-* check but the ones being measured: the added cost
of those); --real-only skips the generated files.

Usage: bench/run.py [--build BUILD] [--reps N] [--quick] [--baseline CHECKS]
                    [--real-only]
"""
import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRIVIAL = "-*,misc-unused-alias-decls"
OURS = "-*,grpc-leak-*"

PRELUDE = """#include <chrono>
#include <memory>
#include <string>
#include <vector>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
using Clock = std::chrono::system_clock;
"""


def many_functions(n):
    """n functions, each a small realistic client/handle lifecycle."""
    out = [PRELUDE]
    for i in range(n):
        out.append(f"""
int Work{i}(demo::Demo::Stub &stub, const std::vector<std::string> &targets, bool flag) {{
  grpc::ClientContext ctx;
  if (flag) ctx.set_deadline(Clock::now() + std::chrono::seconds({i % 7 + 1}));
  auto stream = stub.Bidi(&ctx);
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create("127.0.0.1:1", creds, nullptr);
  grpc_channel_credentials_release(creds);
  int n = 0;
  for (const auto &t : targets) {{
    auto c = grpc::CreateChannel(t, grpc::InsecureChannelCredentials());
    n += c->GetState(false);
  }}
  if (n > {i}) {{ grpc_channel_destroy(ch); return n; }}
  grpc_channel_destroy(ch);
  return stream->Finish().ok() ? 0 : 1;
}}""")
    return "\n".join(out)


def long_function(m):
    """One function with m branch/loop statements between a context, a
    handle and the RPC: large CFGs for the path searches."""
    body = []
    for i in range(m):
        k = i % 4
        if k == 0:
            body.append(f"  if (x % {i + 2} == 0) {{ x += {i}; }} else {{ x -= 1; }}")
        elif k == 1:
            body.append(f"  for (int j{i} = 0; j{i} < x % 5; ++j{i}) {{ x ^= j{i}; if (x == {i}) break; }}")
        elif k == 2:
            body.append(f"  while (x > {i * 3 + 100}) {{ x /= 2; if (x == 7) continue; }}")
        else:
            body.append(f"  switch (x % 3) {{ case 0: x += 2; break; case 1: x *= 3; break; default: break; }}")
    return PRELUDE + """
int Long(demo::Demo::Stub &stub, int x) {
  grpc::ClientContext ctx;
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create("127.0.0.1:1", creds, nullptr);
""" + "\n".join(body) + """
  if (x == 42) ctx.set_deadline(Clock::now() + std::chrono::seconds(1));
  auto stream = stub.Bidi(&ctx);
  grpc_channel_credentials_release(creds);
  grpc_channel_destroy(ch);
  return stream->Finish().ok() ? x : -x;
}
"""


def deep_nesting(d):
    """A handle acquired at the top, released d levels deep."""
    opens = "".join(f"{'  ' * (i + 1)}if (v[{i}] > 0) {{ for (int i{i} = 0; i{i} < v[{i}]; ++i{i}) {{\n"
                    for i in range(d))
    closes = "".join(f"{'  ' * (d - i)}}} }}\n" for i in range(d))
    return PRELUDE + f"""
void Deep(const std::vector<int> &v) {{
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(nullptr);
{opens}{'  ' * (d + 1)}grpc_completion_queue_shutdown(cq);
{closes}  grpc_completion_queue_destroy(cq);
}}
"""


def package_tu():
    return PRELUDE + """#include <grpcpp/alarm.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/server_builder.h>
#include "grpc/health/v1/health.grpc.pb.h"
int Check(grpc::health::v1::Health::Stub &health) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Clock::now() + std::chrono::seconds(1));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  return health.Check(&ctx, req, &resp).ok();
}
"""


def measure(tidy, checks, args):
    """Runs once, returning wall, peak RSS in KiB, checks' own seconds."""
    cmd = [tidy, f"-checks={checks}", "--enable-check-profile"] + args
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    # communicate() reaped the child; its rusage went to RUSAGE_CHILDREN.
    return wall, out.decode(errors="replace") + err.decode(errors="replace")


def peak_rss_kib(tidy, checks, args):
    """Peak RSS of one run, via wait4 (a separate run, not timed)."""
    cmd = [tidy, f"-checks={checks}"] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss


def profile_seconds(text):
    total = 0.0
    for line in text.splitlines():
        if "grpc-leak-" not in line:
            continue
        nums = re.findall(r"([0-9]+\.[0-9]+)\s*\(", line)
        if nums:
            total += float(nums[-1])  # the wall-time column
    return total


def fmt(values):
    return f"{statistics.median(values):7.3f} ({min(values):.3f}..{max(values):.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer sizes and reps")
    ap.add_argument("--baseline", default=TRIVIAL,
                    help="checks of configuration (a) (default: %s)" % TRIVIAL)
    ap.add_argument("--real-only", action="store_true",
                    help="only the example and the headers + stubs TU")
    opts = ap.parse_args()
    baseline = opts.baseline
    tidy = os.path.join(opts.build, "bin", "grpc-leak-tidy")
    stubs = os.path.join(opts.build, "test", "stubs")
    if not os.path.exists(tidy):
        sys.exit(f"bench: {tidy} not built")
    reps = 2 if opts.quick else opts.reps
    flags = ["--", "-std=c++17", f"-I{stubs}"]
    work = tempfile.mkdtemp(prefix="grpc-leak-bench-")

    inputs = []  # (name, args, size or None, family)
    for version in ("incident", "fixed"):
        for source in ("inventory_server.cc", "stock_sync.cc"):
            name = f"example/{version}" + ("" if source == "inventory_server.cc"
                                           else "/stock_sync")
            inputs.append((name,
                           ["-p", opts.build,
                            os.path.join(ROOT, "examples", version, source)],
                           None, "real"))
    path = os.path.join(work, "package.cpp")
    open(path, "w").write(package_tu())
    inputs.append(("grpcpp headers + stubs", [path] + flags, None, "real"))
    sizes = {"functions": [25, 50, 100, 200], "long-function": [100, 200, 400, 800],
             "nesting": [25, 50, 100, 200]}
    if opts.quick:
        sizes = {k: v[:2] for k, v in sizes.items()}
    if opts.real_only:
        sizes = {}
    makers = {"functions": many_functions, "long-function": long_function,
              "nesting": deep_nesting}
    for family, ns in sizes.items():
        for n in ns:
            path = os.path.join(work, f"{family}-{n}.cpp")
            open(path, "w").write(makers[family](n))
            inputs.append((f"{family} n={n}", [path] + flags, n, family))

    print(f"grpc-leak-tidy: {tidy}")
    print(f"machine: {os.cpu_count()} cores; {reps} interleaved runs per configuration")
    print(f"(a) -checks={baseline}   (b) -checks={OURS}\n")
    header = (f"{'input':26} {'(a) s':>24} {'(b) all s':>24} {'b/a':>14} {'checks s':>9} "
              f"{'b-a checks s':>13} {'RSS a/b MiB':>14}")
    print(header)
    print("-" * len(header))
    growth = {}
    for name, args, size, family in inputs:
        a_times, b_times, ours, theirs = [], [], [], []
        for _ in range(reps):  # interleaved: a, b, a, b, ...
            wall, text = measure(tidy, baseline, args)
            a_times.append(wall)
            theirs.append(profile_seconds(text))
            wall, text = measure(tidy, OURS, args)
            b_times.append(wall)
            ours.append(profile_seconds(text))
        ratios = [b / a for a, b in zip(a_times, b_times)]
        rss_a = peak_rss_kib(tidy, baseline, args) / 1024
        rss_b = peak_rss_kib(tidy, OURS, args) / 1024
        print(f"{name:26} {fmt(a_times):>24} {fmt(b_times):>24} "
              f"{statistics.median(ratios):6.3f} ({min(ratios):.2f}..{max(ratios):.2f})"
              f" {statistics.median(ours):9.4f}"
              f" {statistics.median(ours) - statistics.median(theirs):13.4f}"
              f" {rss_a:6.0f}/{rss_b:<6.0f}")
        if size:
            growth.setdefault(family, []).append((size, statistics.median(ours)))

    if not growth:
        return 0
    print("\nGrowth of the checks' own time (from --enable-check-profile):")
    for family, points in growth.items():
        pts = [(n, t) for n, t in points if t > 0]
        if len(pts) >= 2:
            xs = [math.log(n) for n, _ in pts]
            ys = [math.log(t) for _, t in pts]
            mx, my = statistics.mean(xs), statistics.mean(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / \
                sum((x - mx) ** 2 for x in xs)
        else:
            slope = float("nan")
        curve = ", ".join(f"n={n}: {t * 1000:.1f} ms" for n, t in points)
        print(f"  {family:14} exponent {slope:5.2f}   {curve}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
