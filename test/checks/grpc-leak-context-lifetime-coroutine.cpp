// RUN: %check_grpc_leak %s grpc-leak-context-lifetime %t -- -- -std=c++20 -I%stubs
//
// A coroutine's locals live in its frame across a co_await, which may
// suspend until the call completes (as asio-grpc and similar libraries do):
// not judged, so nothing is reported here.

#include <coroutine>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};

// Resumes the coroutine from the call's completion callback.
struct Completion {
  std::coroutine_handle<> waiter;
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<> h) { waiter = h; }
  void await_resume() {}
};

Task Fetch(demo::Demo::Stub *stub, const demo::Req *req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  Completion done;
  stub->async()->Unary(&ctx, req, resp, [&done](grpc::Status) { done.waiter.resume(); });
  co_await done;
}
