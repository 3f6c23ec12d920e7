// The project's client helpers, declared here and defined in clients.cc:
// the shape real services take (a factory and helpers in files of their
// own, called from the server's file).
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// Builds a client for the backend at `target`: a new channel on each call.
std::unique_ptr<demo::Demo::Stub> MakeBackendClient(const std::string &target);
// Gives `ctx` a deadline `timeout` from now.
void WithDeadline(grpc::ClientContext *ctx, std::chrono::milliseconds timeout);
// Adds the trace header: gives no deadline.
void TagCall(grpc::ClientContext *ctx);
// Starts the backend's ServerStream on `ctx` (no deadline of its own).
std::unique_ptr<grpc::ClientReader<demo::Resp>>
OpenFeed(demo::Demo::Stub *stub, grpc::ClientContext *ctx, const demo::Req &req);
// Destroys a C-core channel.
void CloseCoreChannel(grpc_channel *channel);
// Prints a C-core channel's target; keeps nothing.
void DescribeCoreChannel(grpc_channel *channel);
// Shuts a completion queue down and drains it.
void StopQueue(grpc::CompletionQueue *cq);
// Reads a feed to its end; does not finish it.
int DrainFeed(grpc::ClientReader<demo::Resp> *feed);
// Reads a feed to its end and finishes it.
bool ConsumeFeed(grpc::ClientReader<demo::Resp> *feed);
// Waits until the backend answers a ping (a synchronous call).
bool AwaitBackend(demo::Demo::Stub *stub);
