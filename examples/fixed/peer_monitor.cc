// peer-monitor after the fix (examples/incident/peer_monitor.cc is the
// flagged version): the clients come from peer_clients.cc, which shares one
// channel per peer, and the price feed gets a deadline from its helper.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "peer_clients.h"

namespace {

struct Options {
  int port = 50081;
  std::string backend = "127.0.0.1:50052";
  std::vector<std::string> peers;
  int run_seconds = 5;
};

class MonitorService final : public inventory::Discovery::Service {
 public:
  grpc::Status Ping(grpc::ServerContext* /*context*/, const inventory::PingRequest* request,
                    inventory::PingReply* reply) override {
    reply->set_instance("peer-monitor");
    if (request->caller().rfind("127.0.0.1:", 0) != 0) return grpc::Status::OK;
    // Ping the caller back, on the channel the process keeps for it.
    auto peer = MakePeerClient(request->caller());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    inventory::PingRequest back;
    back.set_caller("peer-monitor");
    inventory::PingReply answer;
    peer->Ping(&ctx, back, &answer);
    return grpc::Status::OK;
  }
};

int PollPeers(const std::vector<std::string>& peers) {
  int up = 0;
  for (const std::string& target : peers) {
    auto peer = MakePeerClient(target);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    inventory::PingRequest request;
    request.set_caller("peer-monitor");
    inventory::PingReply reply;
    if (peer->Ping(&ctx, request, &reply).ok()) ++up;
  }
  return up;
}

int CountPrices(inventory::Catalog::Stub* catalog) {
  grpc::ClientContext ctx;
  PrepareMonitorCall(&ctx, std::chrono::seconds(2));
  inventory::PriceQuery query;
  auto feed = OpenPriceFeed(catalog, &ctx, query);
  inventory::PriceUpdate update;
  int prices = 0;
  while (feed->Read(&update)) ++prices;
  return feed->Finish().ok() ? prices : -1;
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      opts->port = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--backend") == 0) {
      opts->backend = argv[i + 1];
    } else if (std::strcmp(argv[i], "--peer") == 0) {
      opts->peers.push_back(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--run-seconds") == 0) {
      opts->run_seconds = std::atoi(argv[i + 1]);
    } else {
      return false;
    }
  }
  return opts->port > 0 && opts->run_seconds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " [--port N] [--backend 127.0.0.1:PORT] [--peer 127.0.0.1:PORT]..."
                 " [--run-seconds N]\n";
    return 2;
  }
  MonitorService service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(opts.port),
                           grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  auto catalog = MakeCatalogClient(opts.backend);
  for (int round = 0; round < opts.run_seconds; ++round) {
    std::cout << "round " << round << ": " << PollPeers(opts.peers) << " peers up, "
              << CountPrices(catalog.get()) << " prices" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
