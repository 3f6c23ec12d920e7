// The peer monitor's client helpers after the fix: one channel per peer for
// the whole process, and a call helper that sets a deadline.
#include "peer_clients.h"

#include <map>
#include <mutex>

namespace {

std::mutex channels_mu;
std::map<std::string, std::shared_ptr<grpc::Channel>> channels;

std::shared_ptr<grpc::Channel> SharedChannel(const std::string& target) {
  std::lock_guard<std::mutex> lock(channels_mu);
  std::shared_ptr<grpc::Channel>& channel = channels[target];
  if (!channel) channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  return channel;
}

}  // namespace

std::unique_ptr<inventory::Discovery::Stub> MakePeerClient(const std::string& target) {
  return inventory::Discovery::NewStub(SharedChannel(target));
}

std::unique_ptr<inventory::Catalog::Stub> MakeCatalogClient(const std::string& target) {
  return inventory::Catalog::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

void PrepareMonitorCall(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) {
  ctx->AddMetadata("x-caller", "peer-monitor");
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

std::unique_ptr<grpc::ClientReader<inventory::PriceUpdate>> OpenPriceFeed(
    inventory::Catalog::Stub* catalog, grpc::ClientContext* ctx,
    const inventory::PriceQuery& query) {
  return catalog->WatchPrices(ctx, query);
}
