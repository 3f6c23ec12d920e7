// load-client: bounded GetItem load for the soak run (examples/soak/soak.py).
//
// N threads share one channel to an inventory server on 127.0.0.1 and each
// sends GetItem calls with a client deadline, one after the other, until the
// stop time or the total request budget is reached. It prints one summary line
// with the outcome counts. soak.py compiles it at run time, so the examples'
// CMakeLists.txt needs no new target.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "inventory.grpc.pb.h"

namespace {

struct Options {
  std::string target;
  int threads = 4;
  int seconds = 10;
  int deadline_ms = 1000;
  long max_requests = 100000;
};

bool ParseLong(const char* text, long min, long max, long* out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  *out = value;
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
    long n = 0;
    bool ok = true;
    if (std::strcmp(flag, "--target") == 0) {
      opts->target = value;
      // Only ever the local machine.
      ok = opts->target.rfind("127.0.0.1:", 0) == 0;
    } else if (std::strcmp(flag, "--threads") == 0) {
      ok = ParseLong(value, 1, 64, &n);
      opts->threads = static_cast<int>(n);
    } else if (std::strcmp(flag, "--seconds") == 0) {
      ok = ParseLong(value, 1, 3600, &n);
      opts->seconds = static_cast<int>(n);
    } else if (std::strcmp(flag, "--deadline-ms") == 0) {
      ok = ParseLong(value, 10, 60000, &n);
      opts->deadline_ms = static_cast<int>(n);
    } else if (std::strcmp(flag, "--max-requests") == 0) {
      ok = ParseLong(value, 1, 10000000, &opts->max_requests);
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

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " --target 127.0.0.1:PORT [--threads N] [--seconds N]"
                 " [--deadline-ms N] [--max-requests N]\n";
    return 2;
  }

  auto channel = grpc::CreateChannel(opts.target, grpc::InsecureChannelCredentials());
  auto stub = inventory::Inventory::NewStub(channel);
  const auto stop_at =
      std::chrono::steady_clock::now() + std::chrono::seconds(opts.seconds);

  std::atomic<long> issued{0}, ok{0}, deadline{0}, other{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < opts.threads; ++t) {
    workers.emplace_back([&, t] {
      long seq = 0;
      while (std::chrono::steady_clock::now() < stop_at &&
             issued.fetch_add(1) < opts.max_requests) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(opts.deadline_ms));
        inventory::ItemRequest req;
        req.set_sku("sku-" + std::to_string(t) + "-" + std::to_string(seq++ % 50));
        inventory::Item reply;
        grpc::Status status = stub->GetItem(&ctx, req, &reply);
        if (status.ok()) {
          ok.fetch_add(1);
        } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
          deadline.fetch_add(1);
        } else {
          other.fetch_add(1);
          // Do not spin if the server is not there (yet or any more).
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  for (auto& w : workers) w.join();

  std::cout << "load-client: sent=" << (ok + deadline + other) << " ok=" << ok
            << " deadline_exceeded=" << deadline << " other=" << other << std::endl;
  return 0;
}
