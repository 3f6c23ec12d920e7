// RUN: %check_grpc_leak %s grpc-leak-core-handle %t -- -- %grpc_flags
//
// C-core handles created in a function must be released, or handed to an
// owner, on every path out of it. Compiled against the real gRPC 1.51 headers.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

// ===== Leaks the check reports ==============================================

// The incident's prober: the error return leaks the channel.
int ProbeEarlyReturn(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: gRPC channel 'channel' from 'grpc_channel_create' is not released with 'grpc_channel_destroy' on every path [grpc-leak-core-handle]
  grpc_channel_credentials_release(creds);
  if (grpc_channel_check_connectivity_state(channel, 0) == GRPC_CHANNEL_SHUTDOWN)
    return -1;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'grpc_channel_destroy' on 'channel'
  grpc_channel_destroy(channel);
  return 0;
}

// Never released at all: the note is at the end of the function.
void NeverDestroyed(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: gRPC channel 'channel' from 'grpc_channel_create' is not released with 'grpc_channel_destroy' on every path [grpc-leak-core-handle]
  grpc_channel_credentials_release(creds);
  printf("connecting to %p\n", static_cast<void *>(channel)); // logging keeps nothing
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: reaches the end of the function without calling 'grpc_channel_destroy' on 'channel'

// Credentials created inline as an argument: grpc_channel_create does not
// take ownership of them, so nobody ever releases them.
void InlineCredentials(const char *target) {
  grpc_channel *channel =
      grpc_channel_create(target, grpc_insecure_credentials_create(), nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:35: warning: the gRPC channel credentials created by 'grpc_insecure_credentials_create' is passed to 'grpc_channel_create', which does not take ownership of it, and is never released with 'grpc_channel_credentials_release' [grpc-leak-core-handle]
  grpc_channel_destroy(channel);
}

// A `continue` skips the release: the next iteration makes another queue.
void QueuePerIteration(int n) {
  for (int i = 0; i < n; ++i) {
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(nullptr);
    // CHECK-NOTES: :[[@LINE-1]]:33: warning: gRPC completion queue 'cq' from 'grpc_completion_queue_create_for_next' is not released with 'grpc_completion_queue_destroy' on every path [grpc-leak-core-handle]
    // CHECK-NOTES: :[[@LINE-2]]:33: note: the next loop iteration creates another completion queue here without calling 'grpc_completion_queue_destroy' on 'cq'
    if (i % 2 == 0)
      continue;
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
  }
}

// A call used as its own batch tag is still owned by this function: passing
// it to the C core as a void* tag is not a transfer of ownership.
int CallUsedAsTag(grpc_channel *channel, grpc_completion_queue *cq) {
  grpc_slice method = grpc_slice_from_static_string("/demo.Demo/Unary");
  gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                       gpr_time_from_seconds(5, GPR_TIMESPAN));
  grpc_call *call = grpc_channel_create_call(channel, nullptr, GRPC_PROPAGATE_DEFAULTS,
                                             cq, method, nullptr, deadline, nullptr);
  // CHECK-NOTES: :[[@LINE-2]]:21: warning: gRPC call 'call' from 'grpc_channel_create_call' is not released with 'grpc_call_unref' on every path [grpc-leak-core-handle]
  grpc_op ops[1] = {};
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  grpc_call_error err = grpc_call_start_batch(call, ops, 1, static_cast<void *>(call), nullptr);
  if (err != GRPC_CALL_OK)
    return -1;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'grpc_call_unref' on 'call'
  grpc_call_unref(call);
  return 0;
}

// A server on the error path of its setup.
int ServerSetup(const char *addr, grpc_completion_queue *cq) {
  grpc_server *server = grpc_server_create(nullptr, nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:25: warning: gRPC server 'server' from 'grpc_server_create' is not released with 'grpc_server_destroy' on every path [grpc-leak-core-handle]
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int port = grpc_server_add_http2_port(server, addr, creds);
  grpc_server_credentials_release(creds);
  if (port == 0)
    return -1;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'grpc_server_destroy' on 'server'
  grpc_server_shutdown_and_notify(server, cq, nullptr);
  grpc_completion_queue_pluck(cq, nullptr, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr);
  grpc_server_destroy(server);
  return port;
}

// The variable is reused before the first handle was released.
void Overwritten(const char *a, const char *b) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(a, creds, nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:27: warning: gRPC channel 'channel' from 'grpc_channel_create' is not released with 'grpc_channel_destroy' on every path [grpc-leak-core-handle]
  channel = grpc_channel_create(b, creds, nullptr);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'channel' is overwritten here without calling 'grpc_channel_destroy' on it first
  grpc_channel_credentials_release(creds);
  grpc_channel_destroy(channel);
}

// Strings the C core allocates for the caller are freed with gpr_free.
void TargetString(grpc_channel *channel) {
  char *target = grpc_channel_get_target(channel);
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: gRPC string 'target' from 'grpc_channel_get_target' is not released with 'gpr_free' on every path [grpc-leak-core-handle]
  printf("%s\n", target);
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: reaches the end of the function without calling 'gpr_free' on 'target'

// Copying a C string into a std::string does not free it.
#include <string>
std::string PeerName(grpc_call *call) {
  char *peer = grpc_call_get_peer(call);
  // CHECK-NOTES: :[[@LINE-1]]:16: warning: gRPC string 'peer' from 'grpc_call_get_peer' is not released with 'gpr_free' on every path [grpc-leak-core-handle]
  std::string name(peer);
  return name;
  // CHECK-NOTES: :[[@LINE-1]]:3: note: returns here without calling 'gpr_free' on 'peer'
}

// Lambdas are analysed as functions of their own.
void InLambda() {
  auto make = [](const char *target) {
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    // CHECK-NOTES: :[[@LINE-1]]:39: warning: gRPC channel credentials 'creds' from 'grpc_insecure_credentials_create' is not released with 'grpc_channel_credentials_release' on every path [grpc-leak-core-handle]
    grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
    return channel;
    // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'grpc_channel_credentials_release' on 'creds'
  };
  grpc_channel_destroy(make("localhost:1"));
}

// Init-style handles: a metadata array leaked on the error path.
int ReadStatus(grpc_call *call, grpc_completion_queue *cq) {
  grpc_metadata_array trailing;
  grpc_metadata_array_init(&trailing);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: gRPC metadata array 'trailing' initialised by 'grpc_metadata_array_init' is not released with 'grpc_metadata_array_destroy' on every path [grpc-leak-core-handle]
  grpc_status_code status;
  grpc_slice details;
  grpc_op ops[1] = {};
  ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[0].data.recv_status_on_client.trailing_metadata = &trailing; // lent, not given
  ops[0].data.recv_status_on_client.status = &status;
  ops[0].data.recv_status_on_client.status_details = &details;
  if (grpc_call_start_batch(call, ops, 1, nullptr, nullptr) != GRPC_CALL_OK)
    return -1;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: returns here without calling 'grpc_metadata_array_destroy' on 'trailing'
  grpc_completion_queue_pluck(cq, nullptr, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr);
  grpc_metadata_array_destroy(&trailing);
  return status;
}

// Slices are values with a reference count.
void SliceLeak(const char *text) {
  grpc_slice copy = grpc_slice_from_copied_string(text);
  // CHECK-NOTES: :[[@LINE-1]]:21: warning: gRPC slice 'copy' from 'grpc_slice_from_copied_string' is not released with 'grpc_slice_unref' on every path [grpc-leak-core-handle]
  grpc_slice view = grpc_slice_from_static_string("static"); // needs no unref
  (void)view;
  printf("%zu\n", GRPC_SLICE_LENGTH(copy));
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: reaches the end of the function without calling 'grpc_slice_unref' on 'copy'

// The shutdown -> drain -> destroy order of a completion queue, and the
// shutdown -> destroy order of a server.
void QueueNotDrained() {
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_destroy(cq);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: gRPC completion queue 'cq' is released with 'grpc_completion_queue_destroy' on a path where it was not drained first [grpc-leak-core-handle]
  // CHECK-NOTES: :[[@LINE-4]]:26: note: 'cq' is declared here; call 'grpc_completion_queue_next' on it before 'grpc_completion_queue_destroy' on every path
}
void QueueNotShutDown(bool early) {
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(nullptr);
  if (!early)
    grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_destroy(cq);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: gRPC completion queue 'cq' is released with 'grpc_completion_queue_destroy' on a path where it was not shut down first [grpc-leak-core-handle]
  // CHECK-NOTES: :[[@LINE-5]]:26: note: 'cq' is declared here; call 'grpc_completion_queue_shutdown' on it before 'grpc_completion_queue_destroy' on every path
}
void ServerNotShutDown() {
  grpc_server *server = grpc_server_create(nullptr, nullptr);
  grpc_server_start(server);
  grpc_server_destroy(server);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: gRPC server 'server' is released with 'grpc_server_destroy' on a path where it was not shut down first [grpc-leak-core-handle]
  // CHECK-NOTES: :[[@LINE-4]]:16: note: 'server' is declared here; call 'grpc_server_shutdown_and_notify' on it before 'grpc_server_destroy' on every path
}

// ===== Not reported ==========================================================

// A server whose port failed to bind is destroyed without a shutdown: it
// never started and has no listener, so gRPC 1.51's Server::Orphan() needs
// none (src/core/lib/surface/server.cc).
int ServeOrFail(const char *address, grpc_completion_queue *cq) {
  grpc_server *server = grpc_server_create(nullptr, nullptr);
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
  int port = grpc_server_add_http2_port(server, address, creds);
  grpc_server_credentials_release(creds);
  if (port == 0) {
    grpc_server_destroy(server);
    return -1;
  }
  grpc_server_register_completion_queue(server, cq, nullptr);
  grpc_server_start(server);
  grpc_server_shutdown_and_notify(server, cq, nullptr);
  grpc_completion_queue_pluck(cq, nullptr, gpr_inf_future(GPR_CLOCK_REALTIME),
                              nullptr);
  grpc_server_destroy(server);
  return port;
}

// The full queue lifecycle, the drain as a helper of this file.
static void Drain(grpc_completion_queue *cq) {
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
}
void QueueLifecycle() {
  grpc_completion_queue *cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_completion_queue_shutdown(cq);
  Drain(cq);
  grpc_completion_queue_destroy(cq);
}

// A byte buffer reader only needs destroying when init succeeded.
#include <grpc/byte_buffer_reader.h>
size_t ReadAll(grpc_byte_buffer *buffer) {
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, buffer))
    return 0;
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  size_t n = GRPC_SLICE_LENGTH(all);
  grpc_slice_unref(all);
  grpc_byte_buffer_reader_destroy(&reader);
  return n;
}


// Released on every path, including both branches.
int ReleasedOnBothBranches(const char *target, bool fast) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  grpc_channel_credentials_release(creds);
  if (fast) {
    grpc_channel_destroy(channel);
    return 1;
  }
  grpc_channel_destroy(channel);
  return 0;
}

// Released as soon as it is made.
#include <grpc/slice_buffer.h>
void PrintPeer(grpc_call *call, grpc_slice_buffer *buffer) {
  gpr_free(grpc_call_get_peer(call));
  grpc_slice_buffer_add(buffer, grpc_slice_from_copied_string("taken"));
}

// Ownership returned to the caller.
grpc_channel *Returned(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  grpc_channel_credentials_release(creds);
  return channel;
}

// Ownership stored in a member, a global, an out-parameter.
grpc_channel *g_channel;
struct Client {
  grpc_channel *channel_ = nullptr;
  void Connect(const char *target, grpc_channel_credentials *creds) {
    grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
    channel_ = channel;
  }
  ~Client() { grpc_channel_destroy(channel_); }
};
void StoredGlobal(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  g_channel = channel;
}
void StoredOut(const char *target, grpc_channel_credentials *creds, grpc_channel **out) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  *out = channel;
}

// An RAII owner whose deleter releases the handle.
struct ChannelDeleter {
  void operator()(grpc_channel *c) const { grpc_channel_destroy(c); }
};
int OwnedByUniquePtr(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  std::unique_ptr<grpc_channel, ChannelDeleter> channel(
      grpc_channel_create(target, creds, nullptr));
  grpc_channel_credentials_release(creds);
  if (!channel)
    return -1;
  return 0;
}

// Released by a helper of this file, one or two calls down.
static void DestroyChannel(grpc_channel *c) { grpc_channel_destroy(c); }
static void CloseClient(grpc_channel *c) { DestroyChannel(c); }
void ReleasedByHelper(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  CloseClient(channel);
}

// Released through a pointer to the handle by a helper of this file.
static void Close(grpc_channel **slot) {
  grpc_channel_destroy(*slot);
  *slot = nullptr;
}
void ReleasedThroughPointer(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  Close(&channel);
}

// Exception paths are not judged (the CFG does not model unwinding).
#include <stdexcept>
void ThrowsOnError(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  if (grpc_channel_check_connectivity_state(channel, 0) == GRPC_CHANNEL_SHUTDOWN)
    throw std::runtime_error("channel shut down");
  grpc_channel_destroy(channel);
}

// Handed to a function we cannot see into: it may keep it.
void AdoptChannel(grpc_channel *c);
void HandedToUnknown(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  AdoptChannel(channel);
}

// A null handle holds nothing to release.
int NullChecked(grpc_channel *channel, grpc_completion_queue *cq) {
  grpc_slice method = grpc_slice_from_static_string("/demo.Demo/Unary");
  grpc_call *call = grpc_channel_create_call(channel, nullptr, GRPC_PROPAGATE_DEFAULTS, cq,
                                             method, nullptr,
                                             gpr_inf_future(GPR_CLOCK_REALTIME), nullptr);
  if (call == nullptr)
    return -1;
  grpc_call_unref(call);
  return 0;
}
int NullCheckedNegated(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  if (!channel)
    return -1;
  grpc_channel_destroy(channel);
  return 0;
}

// A path that aborts does not leak.
void AbortsOnError(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  if (grpc_channel_check_connectivity_state(channel, 0) == GRPC_CHANNEL_SHUTDOWN)
    abort();
  grpc_channel_destroy(channel);
}

// The classic C cleanup block.
int GotoCleanup(const char *target, grpc_channel_credentials *creds) {
  int rc = 0;
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr);
  if (grpc_channel_check_connectivity_state(channel, 0) == GRPC_CHANNEL_SHUTDOWN) {
    rc = -1;
    goto cleanup;
  }
  rc = 1;
cleanup:
  grpc_channel_destroy(channel);
  return rc;
}

// Assigned rather than initialised, released on every path.
void AssignedThenReleased(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel;
  channel = grpc_channel_create(target, creds, nullptr);
  grpc_channel_destroy(channel);
}

// Process-lifetime singletons are never released by design.
grpc_channel *Singleton(grpc_channel_credentials *creds) {
  static grpc_channel *channel = grpc_channel_create("localhost:1", creds, nullptr);
  return channel;
}

// The user's own judgement wins.
void Suppressed(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create(target, creds, nullptr); // NOLINT(grpc-leak-core-handle)
  (void)channel;
}
