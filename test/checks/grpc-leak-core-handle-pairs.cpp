// RUN: %check_grpc_leak %s grpc-leak-core-handle %t \
// RUN:   -config="{CheckOptions: {grpc-leak-core-handle.AcquireReleasePairs: 'pool_get_channel=pool_put_channel;session_open@1=session_close'}}" -- -- %grpc_flags
// RUN: %grpc_leak_tidy -checks='-*,grpc-leak-core-handle' \
// RUN:   -config="{CheckOptions: {grpc-leak-core-handle.AcquireReleasePairs: 'pool_get=pool_put;broken'}}" \
// RUN:   %s -- %grpc_flags 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: invalid item 'broken' in option 'grpc-leak-core-handle.AcquireReleasePairs'; expected 'acquire[@arg]=release[@arg]'
//
// AcquireReleasePairs teaches the check a team's own C-style acquire and
// release functions, returned (`get=put`) or initialised through an argument
// (`open@1=close`).

#include <grpc/grpc.h>

extern "C" {
grpc_channel *pool_get_channel(const char *target);
void pool_put_channel(grpc_channel *channel);
struct session { int fd; };
int session_open(const char *name, session *out);
void session_close(session *s);
}

void UsePool(bool fail) {
  grpc_channel *channel = pool_get_channel("backend:1");
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: gRPC handle 'channel' from 'pool_get_channel' is not released with 'pool_put_channel' on every path [grpc-leak-core-handle]
  if (fail)
    return;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'pool_put_channel' on 'channel'
  pool_put_channel(channel);
}

void UseSession() {
  session s;
  session_open("audit", &s);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: gRPC handle 's' initialised by 'session_open' is not released with 'session_close' on every path [grpc-leak-core-handle]
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: reaches the end of the function without calling 'session_close' on 's'
