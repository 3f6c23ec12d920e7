// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-stream-finish %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOUNFINISHED %s grpc-leak-stream-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-finish.CheckUnfinished: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOHALFCLOSE %s grpc-leak-stream-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-finish.RequireWritesDone: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=SYNCONLY %s grpc-leak-stream-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-finish.CheckAsyncStreams: false}}" -- -- %grpc_flags
//
// Each option turns one rule off; the others keep reporting.

#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// (a): a return skips Finish(). Reported unless CheckUnfinished is off.
bool FirstOnly(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto reader = stub.ServerStream(ctx, demo::Req());
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:22: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  // CHECK-MESSAGES-NOHALFCLOSE: :[[@LINE-2]]:22: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  // CHECK-MESSAGES-SYNCONLY: :[[@LINE-3]]:22: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  demo::Resp resp;
  return reader->Read(&resp);
}

// (b), synchronous: reported unless RequireWritesDone is off.
grpc::Status NoHalfClose(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto stream = stub.Bidi(ctx);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:22: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  // CHECK-MESSAGES-NOUNFINISHED: :[[@LINE-2]]:22: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  // CHECK-MESSAGES-SYNCONLY: :[[@LINE-3]]:22: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  stream->Write(demo::Req());
  return stream->Finish();
}

// (b), asynchronous: reported unless RequireWritesDone or CheckAsyncStreams
// is off. (a) never applies to asynchronous streams.
void AsyncNoHalfClose(demo::Demo::Stub &stub, grpc::ClientContext *ctx,
                      grpc::CompletionQueue *cq, grpc::Status *status) {
  auto stream = stub.AsyncClientStream(ctx, nullptr, cq, nullptr);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:22: warning: stream 'stream' started by 'AsyncClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  // CHECK-MESSAGES-NOUNFINISHED: :[[@LINE-2]]:22: warning: stream 'stream' started by 'AsyncClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  stream->Write(demo::Req(), nullptr);
  stream->Finish(status, nullptr);
}
