// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-core-handle %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=WRAPPER %s grpc-leak-core-handle %t \
// RUN:   -config="{CheckOptions: {grpc-leak-core-handle.ReleaseFunctions: '^Recycle$'}}" -- -- %grpc_flags
//
// ReleaseFunctions names the team's own release wrappers whose bodies the
// check cannot see as releasing (here: one that only hands the channel to a
// pool through a function-like macro the check does not model).

#include <grpc/grpc.h>

#define POOL_PUT(c) ((void)(c))
static void Recycle(grpc_channel *c) { POOL_PUT(c); }

void UsesWrapper(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:27: warning: gRPC channel 'channel' from 'grpc_channel_create' is not released with 'grpc_channel_destroy' on every path [grpc-leak-core-handle]
  Recycle(channel);
}
// CHECK-NOTES-DEFAULT: :[[@LINE-1]]:1: note: reaches the end of the function without calling 'grpc_channel_destroy' on 'channel'
