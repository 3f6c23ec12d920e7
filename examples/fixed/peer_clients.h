// The peer monitor's client helpers, in files of their own as real services
// keep them (peer_clients.cc defines them; peer_monitor.cc calls them).
#ifndef EXAMPLES_PEER_CLIENTS_H
#define EXAMPLES_PEER_CLIENTS_H

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "inventory.grpc.pb.h"

// A Discovery client for the peer at |target|, on the one channel to it that
// the process shares (made on first use, then reused).
std::unique_ptr<inventory::Discovery::Stub> MakePeerClient(const std::string& target);

// A Catalog client for the backend at |target| (made once, by main).
std::unique_ptr<inventory::Catalog::Stub> MakeCatalogClient(const std::string& target);

// Marks |ctx| as the monitor's call and gives it a deadline |timeout| from now.
void PrepareMonitorCall(grpc::ClientContext* ctx, std::chrono::milliseconds timeout);

// Starts the catalog's price feed for |query| on |ctx|.
std::unique_ptr<grpc::ClientReader<inventory::PriceUpdate>> OpenPriceFeed(
    inventory::Catalog::Stub* catalog, grpc::ClientContext* ctx,
    const inventory::PriceQuery& query);

#endif  // EXAMPLES_PEER_CLIENTS_H
