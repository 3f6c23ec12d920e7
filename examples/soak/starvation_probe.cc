// starvation-probe: how long an unrelated RPC waits while a callback server's
// handlers are blocked (examples/soak/starvation.py).
//
// It sends one Discovery.Ping at a time to a price-board server on 127.0.0.1,
// every --interval-ms, and records each call's latency. For the first
// --idle-seconds nothing else happens; then --blockers threads each send
// GetItem calls one after the other (the handler that may block) for
// --load-seconds, while the pings go on. Every ping has a --ping-deadline-ms
// deadline. It prints one CSV line per ping (phase,t_ms,latency_ms,code) and
// then one summary line per phase. Everything is bounded by time.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "inventory.grpc.pb.h"

namespace {

struct Options {
  std::string target;
  int blockers = 8;
  int idle_seconds = 3;
  int load_seconds = 10;
  int interval_ms = 50;
  int ping_deadline_ms = 5000;
  int item_deadline_ms = 10000;
};

bool ParseInt(const char* text, int min, int max, int* out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  *out = static_cast<int>(value);
  return true;
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << flag << "\n";
      return false;
    }
    const char* value = argv[++i];
    bool ok = true;
    if (std::strcmp(flag, "--target") == 0) {
      opts->target = value;
      ok = opts->target.rfind("127.0.0.1:", 0) == 0;  // the local machine only
    } else if (std::strcmp(flag, "--blockers") == 0) {
      ok = ParseInt(value, 0, 64, &opts->blockers);
    } else if (std::strcmp(flag, "--idle-seconds") == 0) {
      ok = ParseInt(value, 1, 600, &opts->idle_seconds);
    } else if (std::strcmp(flag, "--load-seconds") == 0) {
      ok = ParseInt(value, 1, 600, &opts->load_seconds);
    } else if (std::strcmp(flag, "--interval-ms") == 0) {
      ok = ParseInt(value, 1, 10000, &opts->interval_ms);
    } else if (std::strcmp(flag, "--ping-deadline-ms") == 0) {
      ok = ParseInt(value, 10, 60000, &opts->ping_deadline_ms);
    } else if (std::strcmp(flag, "--item-deadline-ms") == 0) {
      ok = ParseInt(value, 10, 60000, &opts->item_deadline_ms);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return false;
    }
    if (!ok) {
      std::cerr << "bad value for " << flag << ": " << value << "\n";
      return false;
    }
  }
  if (opts->target.empty()) {
    std::cerr << "--target 127.0.0.1:PORT is required\n";
    return false;
  }
  return true;
}

struct Sample {
  double t_ms;
  double latency_ms;
  int code;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void Summarize(const char* phase, const std::vector<Sample>& samples) {
  std::vector<double> latencies;
  int failed = 0;
  for (const Sample& s : samples) {
    latencies.push_back(s.latency_ms);
    if (s.code != 0) ++failed;
  }
  std::cout << std::fixed << std::setprecision(1) << "summary," << phase
            << ",pings=" << samples.size() << ",failed=" << failed
            << ",p50_ms=" << Percentile(latencies, 0.5)
            << ",p90_ms=" << Percentile(latencies, 0.9)
            << ",p99_ms=" << Percentile(latencies, 0.99)
            << ",max_ms=" << Percentile(latencies, 1.0) << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " --target 127.0.0.1:PORT [--blockers N] [--idle-seconds N]"
                 " [--load-seconds N] [--interval-ms N] [--ping-deadline-ms N]"
                 " [--item-deadline-ms N]\n";
    return 2;
  }
  // Separate channels: the probe must not queue behind the GetItem calls on
  // the client side.
  auto probe_channel = grpc::CreateChannel(opts.target, grpc::InsecureChannelCredentials());
  grpc::ChannelArguments args;
  args.SetInt("grpc.probe_channel_unshared", 1);  // a channel (and connection) of its own
  auto load_channel = grpc::CreateCustomChannel(
      opts.target, grpc::InsecureChannelCredentials(), args);
  auto discovery = inventory::Discovery::NewStub(probe_channel);
  auto inventory_stub = inventory::Inventory::NewStub(load_channel);

  const auto start = std::chrono::steady_clock::now();
  const auto load_at = start + std::chrono::seconds(opts.idle_seconds);
  const auto stop_at = load_at + std::chrono::seconds(opts.load_seconds);

  std::atomic<bool> loading{false};
  std::atomic<long> items{0};
  std::vector<std::thread> blockers;

  std::vector<Sample> idle, load;
  std::cout << "phase,t_ms,latency_ms,code" << std::endl;
  while (std::chrono::steady_clock::now() < stop_at) {
    auto now = std::chrono::steady_clock::now();
    if (!loading && now >= load_at) {
      loading = true;
      for (int b = 0; b < opts.blockers; ++b) {
        blockers.emplace_back([&, b] {
          int seq = 0;
          while (std::chrono::steady_clock::now() < stop_at) {
            grpc::ClientContext ctx;
            ctx.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(opts.item_deadline_ms));
            inventory::ItemRequest req;
            req.set_sku("sku-" + std::to_string(b) + "-" + std::to_string(seq++));
            inventory::Item reply;
            grpc::Status status = inventory_stub->GetItem(&ctx, req, &reply);
            items.fetch_add(1);
            if (!status.ok() &&
                status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
                status.error_code() != grpc::StatusCode::NOT_FOUND)
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        });
      }
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(opts.ping_deadline_ms));
    inventory::PingRequest req;
    req.set_caller("starvation-probe");
    inventory::PingReply reply;
    auto sent = std::chrono::steady_clock::now();
    grpc::Status status = discovery->Ping(&ctx, req, &reply);
    auto done = std::chrono::steady_clock::now();
    Sample s{std::chrono::duration<double, std::milli>(sent - start).count(),
             std::chrono::duration<double, std::milli>(done - sent).count(),
             static_cast<int>(status.error_code())};
    (loading ? load : idle).push_back(s);
    std::cout << std::fixed << std::setprecision(1) << (loading ? "load" : "idle")
              << "," << s.t_ms << "," << s.latency_ms << "," << s.code << std::endl;
    std::this_thread::sleep_until(sent + std::chrono::milliseconds(opts.interval_ms));
  }
  for (auto& t : blockers) t.join();
  Summarize("idle", idle);
  Summarize("load", load);
  std::cout << "getitem_calls=" << items << std::endl;
  return 0;
}
