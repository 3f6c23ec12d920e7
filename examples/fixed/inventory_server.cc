// inventory-server after the incident fix: grpc-leak-tidy reports nothing here.
// examples/incident/inventory_server.cc is the version it flagged; the two
// files differ only in the discovery poller, GetItem and ProbeBackendHealth.
//
// The inventory front service answers GetItem by asking the catalog backend
// for the item's price, pings its peers' Discovery endpoint in the background,
// and probes the catalog once at start-up.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>

#include "inventory.grpc.pb.h"

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int) { g_stop_requested = 1; }

struct Options {
  int port = 50051;
  std::string backend = "127.0.0.1:50052";
  std::vector<std::string> peers;  // Discovery targets; the backend if empty.
  int run_seconds = 0;             // 0: run until SIGINT/SIGTERM.
  int discovery_interval_ms = 1000;
  int require_backend = 0;         // 1: exit at start-up if the catalog is down.
};

// This example only ever talks to the local machine.
bool IsLoopback(const std::string& address) {
  return address.rfind("127.0.0.1:", 0) == 0;
}

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
    } else if (std::strcmp(flag, "--backend") == 0) {
      opts->backend = value;
      ok = IsLoopback(opts->backend);
    } else if (std::strcmp(flag, "--peer") == 0) {
      opts->peers.emplace_back(value);
      ok = IsLoopback(opts->peers.back());
    } else if (std::strcmp(flag, "--run-seconds") == 0) {
      ok = ParseInt(value, 0, 86400, &opts->run_seconds);
    } else if (std::strcmp(flag, "--discovery-interval-ms") == 0) {
      ok = ParseInt(value, 10, 600000, &opts->discovery_interval_ms);
    } else if (std::strcmp(flag, "--require-backend") == 0) {
      ok = ParseInt(value, 0, 1, &opts->require_backend);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return false;
    }
    if (!ok) {
      std::cerr << "bad value for " << flag << ": " << value << "\n";
      return false;
    }
  }
  if (opts->peers.empty()) opts->peers.push_back(opts->backend);
  return true;
}

}  // namespace

// Keeps track of which peers answer their Discovery endpoint.
class DiscoveryPoller {
 public:
  DiscoveryPoller(std::vector<std::string> targets, std::string instance,
                  std::chrono::milliseconds interval)
      : targets_(std::move(targets)),
        instance_(std::move(instance)),
        interval_(interval) {}

  void Run() {
    while (running_.load()) {
      PollOnce();
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, interval_, [this] { return !running_.load(); });
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.store(false);
    }
    wake_.notify_all();
  }

 private:
  void PollOnce();
  void Record(const std::string& target, bool up, const std::string& detail);

  const std::vector<std::string> targets_;
  const std::string instance_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> running_{true};
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, bool> up_;  // Last known state per target.
  // One Discovery client per target, created on first use and kept for the
  // life of the poller.
  std::map<std::string, std::unique_ptr<inventory::Discovery::Stub>> stubs_;
};

void DiscoveryPoller::PollOnce() {
  for (const auto& target : targets_) {
    auto it = stubs_.find(target);
    if (it == stubs_.end()) {
      it = stubs_.emplace(target, inventory::Discovery::NewStub(grpc::CreateChannel(
                                      target, grpc::InsecureChannelCredentials())))
               .first;
    }

    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(500));
    inventory::PingRequest req;
    req.set_caller(instance_);
    inventory::PingReply reply;
    grpc::Status status = it->second->Ping(&ctx, req, &reply);
    Record(target, status.ok(),
           status.ok() ? reply.instance() : status.error_message());
  }
}

void DiscoveryPoller::Record(const std::string& target, bool up,
                             const std::string& detail) {
  auto it = up_.find(target);
  if (it != up_.end() && it->second == up) return;
  up_[target] = up;
  std::cout << "discovery: " << target << " is " << (up ? "up" : "down")
            << " (" << detail << ")" << std::endl;
}

// Every call to the catalog gets the same budget.
static void SetBackendDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

class InventoryServiceImpl final : public inventory::Inventory::Service {
 public:
  explicit InventoryServiceImpl(const std::string& backend)
      : catalog_(inventory::Catalog::NewStub(
            grpc::CreateChannel(backend, grpc::InsecureChannelCredentials()))) {}

  grpc::Status GetItem(grpc::ServerContext* context,
                       const inventory::ItemRequest* request,
                       inventory::Item* reply) override {
    if (request->sku().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "sku is required");
    }

    // The catalog answers a price query with the current price of each SKU,
    // then keeps the stream open to push later changes. We only need the
    // snapshot, and a stalled catalog must not hold this handler thread: the
    // deadline bounds the whole call.
    grpc::ClientContext backend_ctx;
    SetBackendDeadline(backend_ctx);
    inventory::PriceQuery query;
    query.add_skus(request->sku());

    auto reader = catalog_->WatchPrices(&backend_ctx, query);
    inventory::PriceUpdate update;
    bool found = false;
    while (reader->Read(&update)) {
      if (update.sku() != request->sku()) continue;
      reply->set_sku(update.sku());
      reply->set_price_cents(update.price_cents());
      found = true;
    }
    grpc::Status status = reader->Finish();

    // Running into the deadline after the snapshot arrived is the normal end.
    if (found) return grpc::Status::OK;
    if (!status.ok()) {
      std::cerr << "GetItem(" << request->sku() << ") for " << context->peer()
                << ": catalog failed: " << status.error_message() << std::endl;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "catalog unavailable");
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown sku");
  }

 private:
  std::unique_ptr<inventory::Catalog::Stub> catalog_;
};

// Start-up check with the C core API: is the catalog address usable at all?
// A fresh channel starts IDLE; try_to_connect asks it to start connecting.
bool ProbeBackendHealth(const std::string& target) {
  grpc_channel_credentials* creds = grpc_insecure_credentials_create();
  grpc_channel* channel = grpc_channel_create(target.c_str(), creds, nullptr);
  grpc_channel_credentials_release(creds);

  grpc_connectivity_state state = grpc_channel_check_connectivity_state(channel, 1);
  if (state == GRPC_CHANNEL_SHUTDOWN || state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    grpc_channel_destroy(channel);
    return false;
  }
  // Give a connection attempt up to 500 ms to leave IDLE/CONNECTING.
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_channel_watch_connectivity_state(
      channel, state,
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(500, GPR_TIMESPAN)),
      cq, nullptr);
  grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), nullptr);
  state = grpc_channel_check_connectivity_state(channel, 0);
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), nullptr)
             .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  grpc_channel_destroy(channel);
  return state != GRPC_CHANNEL_SHUTDOWN && state != GRPC_CHANNEL_TRANSIENT_FAILURE;
}

namespace {

int Serve(const Options& opts) {
  const std::string listen = "127.0.0.1:" + std::to_string(opts.port);
  InventoryServiceImpl service(opts.backend);

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "could not listen on " << listen << std::endl;
    return 1;
  }
  std::cout << "inventory-server listening on " << listen << ", catalog at "
            << opts.backend << std::endl;

  if (!ProbeBackendHealth(opts.backend)) {
    std::cerr << "warning: catalog " << opts.backend << " is not reachable"
              << std::endl;
    if (opts.require_backend) {
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      return 2;
    }
  }

  DiscoveryPoller poller(opts.peers, "inventory@" + listen,
                         std::chrono::milliseconds(opts.discovery_interval_ms));
  std::thread poller_thread([&poller] { poller.Run(); });


  // Stops the server on SIGINT/SIGTERM or when --run-seconds elapsed. The
  // signal handler only sets a flag; gRPC is never called from it.
  std::thread stopper([&server, &opts] {
    const auto start = std::chrono::steady_clock::now();
    while (!g_stop_requested &&
           (opts.run_seconds == 0 ||
            std::chrono::steady_clock::now() - start <
                std::chrono::seconds(opts.run_seconds))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cout << "inventory-server shutting down" << std::endl;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  });

  server->Wait();
  stopper.join();
  poller.Stop();
  poller_thread.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " [--port N] [--backend 127.0.0.1:PORT] [--peer 127.0.0.1:PORT]..."
                 " [--run-seconds N] [--discovery-interval-ms N]"
               " [--require-backend 0|1]\n";
    return 2;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);

  grpc_init();
  int rc = Serve(opts);
  grpc_shutdown();
  return rc;
}
