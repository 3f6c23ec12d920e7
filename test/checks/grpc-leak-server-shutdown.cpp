// RUN: %check_grpc_leak %s grpc-leak-server-shutdown %t \
// RUN:   -config="{CheckOptions: {grpc-leak-server-shutdown.CheckShutdownDeadline: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=DEADLINE --fix-notes %s grpc-leak-server-shutdown %t.deadline \
// RUN:   -config="{CheckOptions: {grpc-leak-server-shutdown.CheckSignalHandlers: false}}" -- -- %grpc_flags
// RUN: clang++-22 -fsyntax-only %grpc_flags %t.deadline.cpp
//
// A started grpc::Server that reaches the end of its owner's life without
// Shutdown(); gRPC shutdown or blocking calls made from a signal handler;
// Shutdown() with no deadline (and its fix-it; on by default, turned off by
// CheckShutdownDeadline: false in the first run).

#include <chrono>
#include <csignal>
#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using Clock = std::chrono::system_clock;

// ===== Reported ==============================================================

// The dry-run path returns with the server still running.
int Serve(demo::Demo::Service *service, bool dry_run) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  auto server = builder.BuildAndStart();
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: gRPC server 'server' started here is destroyed without Shutdown() on some path; ~Server() then shuts it down with no deadline, waiting for every in-flight call [grpc-leak-server-shutdown]
  // CHECK-MESSAGES-DEADLINE: :[[@LINE-2]]:25: warning: gRPC server 'server' started here is destroyed without Shutdown() on some path; ~Server() then shuts it down with no deadline, waiting for every in-flight call [grpc-leak-server-shutdown]
  if (dry_run)
    return 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: note: returns here without calling Shutdown() on 'server'
  server->Wait(); // returns only after another thread shut it down
  return 0;
}

// A member no method shuts down.
class Host {
public:
  void Start(demo::Demo::Service *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
    // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: gRPC server 'server_' is started here but no method of its class shuts it down; ~Server() will then shut it down with no deadline, waiting for every in-flight call [grpc-leak-server-shutdown]
    // CHECK-MESSAGES-DEADLINE: :[[@LINE-2]]:23: warning: gRPC server 'server_' is started here but no method of its class shuts it down; ~Server() will then shut it down with no deadline, waiting for every in-flight call [grpc-leak-server-shutdown]
  }

private:
  std::unique_ptr<grpc::Server> server_;
  // CHECK-MESSAGES: :[[@LINE-1]]:33: note: 'server_' is declared here; call Shutdown() on it, with a deadline, in the destructor or a stop method
};

// Shutdown from a signal handler, directly or through a helper.
std::unique_ptr<grpc::Server> g_server;
static void StopServer() {
  g_server->Shutdown(Clock::now() + std::chrono::seconds(1));
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'Shutdown' is called from signal handler 'OnTerm'; it blocks and is not async-signal-safe: set a flag or write to a pipe in the handler, and shut down from a normal thread [grpc-leak-server-shutdown]
}
void OnTerm(int) { StopServer(); }
void InstallHandlers() {
  std::signal(SIGTERM, OnTerm);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'OnTerm' is installed as a signal handler here
}

// ===== Not reported ==========================================================

// Shut down, with a deadline, on every path.
void ServeAndStop(demo::Demo::Service *service, bool fast) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (fast) {
    server->Shutdown(Clock::now());
    return;
  }
  server->Shutdown(Clock::now() + std::chrono::seconds(10));
}

// Start-up error handling right after BuildAndStart(): not judged.
int StartOrFail(demo::Demo::Service *service) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0)
    return 1;
  server->Wait();
  return 0;
}

// Returned or stored: the new owner's concern.
std::unique_ptr<grpc::Server> StartServer(demo::Demo::Service *service) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  return builder.BuildAndStart();
}
void StartGlobal(demo::Demo::Service *service) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  auto server = builder.BuildAndStart();
  g_server = std::move(server);
}
// Returned by name: `return server;` moves it out to the caller.
std::unique_ptr<grpc::Server> StartNamed(demo::Demo::Service *service) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  auto server = builder.BuildAndStart();
  if (!server)
    return nullptr;
  return server;
}
std::unique_ptr<grpc::ServerInterface> StartAsInterface(demo::Demo::Service *service) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  auto server = builder.BuildAndStart();
  return server;
}

// A member shut down by a stop method, and one by the destructor.
class StoppedHost {
public:
  void Start(grpc::ServerBuilder &builder) { server_ = builder.BuildAndStart(); }
  void Stop() { server_->Shutdown(Clock::now() + std::chrono::seconds(5)); }

private:
  std::unique_ptr<grpc::Server> server_;
};
class DestructedHost {
public:
  void Start(grpc::ServerBuilder &builder) { server_ = builder.BuildAndStart(); }
  ~DestructedHost() { server_->Shutdown(Clock::now() + std::chrono::seconds(5)); }

private:
  std::unique_ptr<grpc::Server> server_;
};

// Registered by address, reaching a blocking call two calls down.
static void Drain(grpc::CompletionQueue &cq) {
  void *tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
    // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: 'Next' is called from signal handler 'OnHup'; it blocks and is not async-signal-safe: set a flag or write to a pipe in the handler, and shut down from a normal thread [grpc-leak-server-shutdown]
    // CHECK-MESSAGES: :[[@LINE+8]]:3: note: 'OnHup' is installed as a signal handler here
  }
}
grpc::CompletionQueue g_queue;
static void Quiesce() { Drain(g_queue); }
void OnHup(int) { Quiesce(); }
void InstallHup() {
  struct sigaction action = {};
  action.sa_handler = &OnHup;
  sigaction(SIGHUP, &action, nullptr);
}

// A signal handler that only sets a flag.
volatile std::sig_atomic_t g_stop = 0;
void OnInt(int) { g_stop = 1; }
void InstallFlagHandler() {
  struct sigaction action = {};
  action.sa_handler = OnInt;
  sigaction(SIGINT, &action, nullptr);
}

// CheckShutdownDeadline (off by default): Shutdown() with no deadline.
void StopNow(grpc::Server &server) {
  server.Shutdown();
  // CHECK-MESSAGES-DEADLINE: :[[@LINE-1]]:10: warning: Shutdown() without a deadline waits for every in-flight call to finish, however long it takes; pass a deadline after which pending calls are cancelled [grpc-leak-server-shutdown]
  // CHECK-MESSAGES-DEADLINE: :[[@LINE-2]]:19: note: pass a 10 s deadline to Shutdown(){{$}}
  // CHECK-FIXES-DEADLINE: {{^}}  server.Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));{{$}}
}
