// RUN: %check_grpc_leak -check-suffix=NAMES %s grpc-leak-infinite-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-infinite-deadline.InfiniteDeadlineNames: '^kForever$'}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=LIMIT %s grpc-leak-infinite-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-infinite-deadline.MaxDeadlineSeconds: 3600}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOWAITS %s grpc-leak-infinite-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-infinite-deadline.CheckConnectivityWaits: false, grpc-leak-infinite-deadline.CheckAlarms: false, grpc-leak-infinite-deadline.MaxDeadlineSeconds: 0}}" -- -- %grpc_flags

#include <chrono>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

using Clock = std::chrono::system_clock;

// InfiniteDeadlineNames: a project constant that means "no deadline", whose
// value the check cannot see.
extern const Clock::time_point kForever;
void Named(grpc::ClientContext &ctx) {
  ctx.set_deadline(kForever);
  // CHECK-MESSAGES-NAMES: :[[@LINE-1]]:20: warning: 'set_deadline' is given a deadline that never expires ('kForever'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
}

// MaxDeadlineSeconds: a tighter limit.
void Long(grpc::ClientContext &ctx) {
  ctx.set_deadline(Clock::now() + std::chrono::hours(2));
  // CHECK-MESSAGES-LIMIT: :[[@LINE-1]]:20: warning: 'set_deadline' is given a deadline that never expires (7200 seconds away, more than the limit of 3600); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
}

// CheckConnectivityWaits / CheckAlarms off: only RPC deadlines are checked.
void WaitsAndAlarms(const std::shared_ptr<grpc::Channel> &channel, grpc::CompletionQueue *cq,
                    grpc::ClientContext &ctx) {
  channel->WaitForConnected(Clock::time_point::max());
  // CHECK-MESSAGES-NAMES: :[[@LINE-1]]:29: warning: 'WaitForConnected' is given a deadline that never expires ('time_point::max()'); the wait can block forever [grpc-leak-infinite-deadline]
  // CHECK-MESSAGES-LIMIT: :[[@LINE-2]]:29: warning: 'WaitForConnected' is given a deadline that never expires ('time_point::max()'); the wait can block forever [grpc-leak-infinite-deadline]
  grpc::Alarm alarm;
  alarm.Set(cq, Clock::time_point::max(), nullptr);
  // CHECK-MESSAGES-NAMES: :[[@LINE-1]]:17: warning: 'Set' is given a deadline that never expires ('time_point::max()'); the alarm never fires and its tag stays pending [grpc-leak-infinite-deadline]
  // CHECK-MESSAGES-LIMIT: :[[@LINE-2]]:17: warning: 'Set' is given a deadline that never expires ('time_point::max()'); the alarm never fires and its tag stays pending [grpc-leak-infinite-deadline]
  ctx.set_deadline(Clock::time_point::max());
  // CHECK-MESSAGES-NAMES: :[[@LINE-1]]:20: warning: 'set_deadline' is given a deadline that never expires ('time_point::max()'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  // CHECK-MESSAGES-LIMIT: :[[@LINE-2]]:20: warning: 'set_deadline' is given a deadline that never expires ('time_point::max()'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
  // CHECK-MESSAGES-NOWAITS: :[[@LINE-3]]:20: warning: 'set_deadline' is given a deadline that never expires ('time_point::max()'); a stalled peer can hold the call forever [grpc-leak-infinite-deadline]
}
