// RUN: %check_grpc_leak %s grpc-leak-infinite-deadline %t -- -- %grpc_flags
//
// Deadlines that never expire, given to an RPC, a connectivity wait or an
// alarm. Real gRPC 1.51 headers.

#include <chrono>
#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// ===== Reported ==============================================================

void RpcDeadlines(demo::Demo::Stub &stub) {
  grpc::ClientContext a;
  a.set_deadline(Clock::time_point::max());
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'set_deadline' is given a deadline that never expires ('time_point::max()'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc::ClientContext b;
  b.set_deadline(gpr_inf_future(GPR_CLOCK_REALTIME));
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'set_deadline' is given a deadline that never expires ('gpr_inf_future'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc::ClientContext c;
  c.set_deadline(Clock::now() + std::chrono::hours(24 * 365 * 10));
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'set_deadline' is given a deadline that never expires (315360000 seconds away, more than the limit of 31536000); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc::ClientContext d;
  d.set_deadline(Clock::now() + 87600h);
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'set_deadline' is given a deadline that never expires (315360000 seconds away, more than the limit of 31536000); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc::ClientContext f;
  f.set_deadline(87600h + Clock::now());
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'set_deadline' is given a deadline that never expires (315360000 seconds away, more than the limit of 31536000); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc::ClientContext e;
  e.set_deadline(gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                              gpr_time_from_hours(24 * 365 * 2, GPR_TIMESPAN)));
  // CHECK-MESSAGES: :[[@LINE-2]]:18: warning: 'set_deadline' is given a deadline that never expires (63072000 seconds away, more than the limit of 31536000); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
}

// Through a constant (one hop).
constexpr auto kNoDeadline = Clock::time_point::max();
void ThroughConstant(grpc::ClientContext &ctx) {
  ctx.set_deadline(kNoDeadline);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: 'set_deadline' is given a deadline that never expires ('kNoDeadline', which is 'time_point::max()'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
}

// Connectivity waits.
bool Waits(const std::shared_ptr<grpc::Channel> &channel, grpc::CompletionQueue *cq) {
  channel->NotifyOnStateChange(channel->GetState(true), Clock::time_point::max(), cq,
                               nullptr);
  // CHECK-MESSAGES: :[[@LINE-2]]:57: warning: 'NotifyOnStateChange' is given a deadline that never expires ('time_point::max()'); the wait can block forever [grpc-leak-infinite-deadline]
  channel->WaitForStateChange(GRPC_CHANNEL_IDLE, gpr_inf_future(GPR_CLOCK_MONOTONIC));
  // CHECK-MESSAGES: :[[@LINE-1]]:50: warning: 'WaitForStateChange' is given a deadline that never expires ('gpr_inf_future'); the wait can block forever [grpc-leak-infinite-deadline]
  return channel->WaitForConnected(gpr_inf_future(GPR_CLOCK_MONOTONIC));
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: 'WaitForConnected' is given a deadline that never expires ('gpr_inf_future'); the wait can block forever [grpc-leak-infinite-deadline]
}

// The C core: a call's deadline, a connectivity watch.
void Core(grpc_channel *channel, grpc_completion_queue *cq) {
  grpc_slice method = grpc_slice_from_static_string("/demo.Demo/Bidi");
  grpc_call *call = grpc_channel_create_call(channel, nullptr, GRPC_PROPAGATE_DEFAULTS, cq,
                                             method, nullptr,
                                             gpr_inf_future(GPR_CLOCK_REALTIME), nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:46: warning: 'grpc_channel_create_call' is given a deadline that never expires ('gpr_inf_future'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  grpc_call_unref(call);
  grpc_channel_watch_connectivity_state(channel, GRPC_CHANNEL_IDLE,
                                        gpr_inf_future(GPR_CLOCK_MONOTONIC), cq, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:41: warning: 'grpc_channel_watch_connectivity_state' is given a deadline that never expires ('gpr_inf_future'); the wait can block forever [grpc-leak-infinite-deadline]
}

// Alarms.
void Alarms(grpc::CompletionQueue *cq) {
  grpc::Alarm alarm;
  alarm.Set(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'Set' is given a deadline that never expires ('gpr_inf_future'); the alarm never fires and its tag stays pending [grpc-leak-infinite-deadline]
  grpc::Alarm other(cq, Clock::time_point::max(), nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'Alarm' is given a deadline that never expires ('time_point::max()'); the alarm never fires and its tag stays pending [grpc-leak-infinite-deadline]
}

// ===== Not reported ==========================================================

void Finite(demo::Demo::Stub &stub, const std::shared_ptr<grpc::Channel> &channel,
            grpc::CompletionQueue *cq, Clock::time_point computed) {
  grpc::ClientContext a;
  a.set_deadline(Clock::now() + std::chrono::seconds(30));
  grpc::ClientContext b;
  b.set_deadline(Clock::now() + 24h); // long, but within the limit
  grpc::ClientContext c;
  c.set_deadline(computed); // computed at run time: assumed finite
  channel->WaitForConnected(Clock::now() + 5s);
  grpc::Alarm alarm;
  alarm.Set(cq, Clock::now() + 100ms, nullptr);
}

// Draining a completion queue waits for ever by design (the queue is shut
// down first); only the calls listed in the docs take a deadline to judge.
void Drain(grpc_completion_queue *cq, grpc::CompletionQueue &cpp) {
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), nullptr).type !=
         GRPC_QUEUE_SHUTDOWN) {
  }
  void *tag;
  bool ok;
  cpp.AsyncNext(&tag, &ok, gpr_inf_future(GPR_CLOCK_REALTIME));
}

// The user's own judgement wins.
void WatchForever(grpc::ClientContext &ctx) {
  ctx.set_deadline(Clock::time_point::max()); // NOLINT(grpc-leak-infinite-deadline)
}
