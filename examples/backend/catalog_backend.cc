// catalog-backend: the backend that the inventory example servers talk to.
//
// Catalog.WatchPrices behaves like a real watch: it sends the current price of
// each requested SKU and then keeps the stream open for changes (none ever come
// here) until the client cancels, the server stops, or --hold-seconds elapse.
// Against it, a client that waits for the stream to end without a deadline
// stays blocked for the whole hold time. Discovery.Ping always answers.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "inventory.grpc.pb.h"

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;
std::atomic<bool> g_stopping{false};

void OnStopSignal(int) { g_stop_requested = 1; }

struct Options {
  int port = 50052;
  int run_seconds = 0;    // 0: run until SIGINT/SIGTERM.
  int hold_seconds = 30;  // Upper bound on how long a watch stays open.
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
    if (std::strcmp(flag, "--port") == 0) {
      ok = ParseInt(value, 1, 65535, &opts->port);
    } else if (std::strcmp(flag, "--run-seconds") == 0) {
      ok = ParseInt(value, 0, 86400, &opts->run_seconds);
    } else if (std::strcmp(flag, "--hold-seconds") == 0) {
      ok = ParseInt(value, 0, 3600, &opts->hold_seconds);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return false;
    }
    if (!ok) {
      std::cerr << "bad value for " << flag << ": " << value << "\n";
      return false;
    }
  }
  return true;
}

// Stable made-up price per SKU.
int64_t PriceFor(const std::string& sku) {
  int64_t cents = 0;
  for (unsigned char c : sku) cents = (cents * 31 + c) % 100000;
  return 99 + cents;
}

class CatalogServiceImpl final : public inventory::Catalog::Service {
 public:
  explicit CatalogServiceImpl(std::chrono::seconds hold) : hold_(hold) {}

  grpc::Status WatchPrices(grpc::ServerContext* context,
                           const inventory::PriceQuery* query,
                           grpc::ServerWriter<inventory::PriceUpdate>* writer) override {
    for (const std::string& sku : query->skus()) {
      inventory::PriceUpdate update;
      update.set_sku(sku);
      update.set_price_cents(PriceFor(sku));
      if (!writer->Write(update)) return grpc::Status::CANCELLED;
    }

    // Keep watching. Prices never change in this example, so nothing else is
    // sent; the stream ends when the client goes away or the hold bound hits.
    const auto step = std::chrono::milliseconds(100);
    std::chrono::milliseconds waited(0);
    while (!context->IsCancelled() && !g_stopping.load() && waited < hold_) {
      std::this_thread::sleep_for(step);
      waited += step;
    }
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }

 private:
  const std::chrono::milliseconds hold_;
};

class DiscoveryServiceImpl final : public inventory::Discovery::Service {
 public:
  explicit DiscoveryServiceImpl(std::string instance) : instance_(std::move(instance)) {}

  grpc::Status Ping(grpc::ServerContext* /*context*/,
                    const inventory::PingRequest* /*request*/,
                    inventory::PingReply* reply) override {
    reply->set_instance(instance_);
    return grpc::Status::OK;
  }

 private:
  const std::string instance_;
};

int Serve(const Options& opts) {
  const std::string listen = "127.0.0.1:" + std::to_string(opts.port);
  CatalogServiceImpl catalog(std::chrono::seconds(opts.hold_seconds));
  DiscoveryServiceImpl discovery("catalog@" + listen);

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&catalog);
  builder.RegisterService(&discovery);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "could not listen on " << listen << std::endl;
    return 1;
  }
  std::cout << "catalog-backend listening on " << listen << std::endl;

  std::thread stopper([&server, &opts] {
    const auto start = std::chrono::steady_clock::now();
    while (!g_stop_requested &&
           (opts.run_seconds == 0 ||
            std::chrono::steady_clock::now() - start <
                std::chrono::seconds(opts.run_seconds))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cout << "catalog-backend shutting down" << std::endl;
    g_stopping.store(true);  // Ends open watches.
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  });

  server->Wait();
  stopper.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " [--port N] [--run-seconds N] [--hold-seconds N]\n";
    return 2;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  return Serve(opts);
}
