// The peer monitor's client helpers: the flagged version. Nothing is wrong in
// this file on its own; what its callers in peer_monitor.cc do with these
// helpers is (examples/README.md, "The peer monitor").
#include "peer_clients.h"

std::unique_ptr<inventory::Discovery::Stub> MakePeerClient(const std::string& target) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  return inventory::Discovery::NewStub(channel);
}

std::unique_ptr<inventory::Catalog::Stub> MakeCatalogClient(const std::string& target) {
  return inventory::Catalog::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

void TagMonitorCall(grpc::ClientContext* ctx) { ctx->AddMetadata("x-caller", "peer-monitor"); }

std::unique_ptr<grpc::ClientReader<inventory::PriceUpdate>> OpenPriceFeed(
    inventory::Catalog::Stub* catalog, grpc::ClientContext* ctx,
    const inventory::PriceQuery& query) {
  return catalog->WatchPrices(ctx, query);
}
