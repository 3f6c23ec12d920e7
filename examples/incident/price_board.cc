// price-board, as first written on gRPC's callback API: the flagged version.
// grpc-leak-tidy reports two findings in this file (see examples/README.md);
// examples/fixed/price_board.cc is the same service after the fix.
//
// The price board is the inventory front moved to the callback API: it
// answers Inventory.GetItem with the item's price from the catalog backend,
// and Discovery.Ping so that peers and load balancers can tell it is alive.
// With --announce-to it tells a peer that it is up, once, at start-up.

#include <chrono>
#include <csignal>
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

void OnStopSignal(int) { g_stop_requested = 1; }

struct Options {
  int port = 50071;
  std::string backend = "127.0.0.1:50052";
  std::string announce_to;      // A Discovery peer to tell we are up; none if empty.
  int run_seconds = 0;          // 0: run until SIGINT/SIGTERM.
  int backend_timeout_ms = 2000;
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
    } else if (std::strcmp(flag, "--announce-to") == 0) {
      opts->announce_to = value;
      ok = IsLoopback(opts->announce_to);
    } else if (std::strcmp(flag, "--run-seconds") == 0) {
      ok = ParseInt(value, 0, 86400, &opts->run_seconds);
    } else if (std::strcmp(flag, "--backend-timeout-ms") == 0) {
      ok = ParseInt(value, 10, 600000, &opts->backend_timeout_ms);
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

}  // namespace

// GetItem on the callback API: gRPC runs the handler on its own small pool
// of callback threads.
class PriceBoardService final : public inventory::Inventory::CallbackService {
 public:
  PriceBoardService(const std::shared_ptr<grpc::Channel>& catalog,
                    std::chrono::milliseconds backend_timeout)
      : catalog_(inventory::Catalog::NewStub(catalog)),
        backend_timeout_(backend_timeout) {}

  grpc::ServerUnaryReactor* GetItem(grpc::CallbackServerContext* context,
                                    const inventory::ItemRequest* request,
                                    inventory::Item* reply) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (request->sku().empty()) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "sku is required"));
      return reactor;
    }

    // The catalog answers a price query with the current price of each SKU
    // and closes the stream once that snapshot is sent.
    grpc::ClientContext backend_ctx;
    backend_ctx.set_deadline(std::chrono::system_clock::now() + backend_timeout_);
    inventory::PriceQuery query;
    query.add_skus(request->sku());
    auto prices = catalog_->WatchPrices(&backend_ctx, query);
    inventory::PriceUpdate update;
    bool found = false;
    while (prices->Read(&update)) {
      if (update.sku() != request->sku()) continue;
      reply->set_sku(update.sku());
      reply->set_price_cents(update.price_cents());
      found = true;
    }
    grpc::Status status = prices->Finish();

    if (found) {
      reactor->Finish(grpc::Status::OK);
    } else if (!status.ok() &&
               status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "catalog unavailable"));
    } else {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown sku"));
    }
    return reactor;
  }

 private:
  const std::unique_ptr<inventory::Catalog::Stub> catalog_;
  const std::chrono::milliseconds backend_timeout_;
};

// Liveness endpoint: answers at once.
class LivenessService final : public inventory::Discovery::CallbackService {
 public:
  explicit LivenessService(std::string instance) : instance_(std::move(instance)) {}

  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context,
                                 const inventory::PingRequest* /*request*/,
                                 inventory::PingReply* reply) override {
    reply->set_instance(instance_);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string instance_;
};

// Tells a peer that this instance is up. Fire and forget: the answer only
// matters for the log.
void Announce(inventory::Discovery::Stub* peer, const std::string& instance) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(500));
  inventory::PingRequest request;
  request.set_caller(instance);
  inventory::PingReply reply;
  peer->async()->Ping(&ctx, &request, &reply, [](grpc::Status status) {
    if (!status.ok())
      std::cerr << "announce failed: " << status.error_message() << std::endl;
  });
}

namespace {

int Serve(const Options& opts) {
  const std::string listen = "127.0.0.1:" + std::to_string(opts.port);
  PriceBoardService prices(
      grpc::CreateChannel(opts.backend, grpc::InsecureChannelCredentials()),
      std::chrono::milliseconds(opts.backend_timeout_ms));
  LivenessService liveness("price-board@" + listen);

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&prices);
  builder.RegisterService(&liveness);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "could not listen on " << listen << std::endl;
    return 1;
  }
  std::cout << "price-board listening on " << listen << ", catalog at "
            << opts.backend << std::endl;

  std::unique_ptr<inventory::Discovery::Stub> peer;
  if (!opts.announce_to.empty()) {
    peer = inventory::Discovery::NewStub(grpc::CreateChannel(
        opts.announce_to, grpc::InsecureChannelCredentials()));
    Announce(peer.get(), "price-board@" + listen);
  }

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
    std::cout << "price-board shutting down" << std::endl;
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
              << " [--port N] [--backend 127.0.0.1:PORT]"
                 " [--announce-to 127.0.0.1:PORT] [--run-seconds N]"
                 " [--backend-timeout-ms N]\n";
    return 2;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  return Serve(opts);
}
