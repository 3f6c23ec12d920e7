// RUN: %check_grpc_leak %s grpc-leak-server-shutdown,grpc-leak-cq-shutdown %t -- -- %grpc_flags
//
// Servers in the shapes real gRPC C++ code gives them (docs/real-code.md):
// a framework's server singleton created with `new` and never deleted, so
// that the only Shutdown(), in its destructor, never runs; and a server
// split over a base class (the server) and a derived class (its queue),
// whose destructors run derived first. Real gRPC 1.51 headers and stubs.

#include <chrono>
#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

static std::chrono::system_clock::time_point In(int s) {
  return std::chrono::system_clock::now() + std::chrono::seconds(s);
}

// ===== Reported ==============================================================

// A leaky singleton: the destructor that shuts the server down never runs.
class RpcServer {
public:
  static RpcServer *Instance();
  void Start(grpc::Service *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
    // CHECK-NOTES: :[[@LINE-1]]:23: warning: gRPC server 'server_' is started here and shut down only by the destructor of 'RpcServer', which never runs: the object is never deleted [grpc-leak-server-shutdown]
    // CHECK-NOTES: :[[@LINE+15]]:18: note: 'RpcServer' is created here and kept by a global pointer that nothing deletes; shut the server down from a stop method called at exit
  }

private:
  RpcServer() = default;
  ~RpcServer() { server_->Shutdown(In(1)); }
  std::unique_ptr<grpc::Server> server_;
};

namespace {
RpcServer *g_instance = nullptr;
} // namespace

RpcServer *RpcServer::Instance() {
  if (!g_instance)
    g_instance = new RpcServer();
  return g_instance;
}

// The server lives in a base class, its queue in the derived one; the
// derived destructor shuts the queue down, and the base destructor, which
// runs after it, shuts the server down.
class ServerBase {
public:
  virtual ~ServerBase() { server_->Shutdown(In(1)); }

protected:
  std::unique_ptr<grpc::Server> server_;
};

class AsyncServer : public ServerBase {
public:
  void Run(demo::Demo::AsyncService *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
  }
  ~AsyncServer() override {
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: completion queue 'cq_' is shut down before the server that uses it; shut the server down first, then the queue, then drain it [grpc-leak-cq-shutdown]
    // CHECK-NOTES: :[[@LINE-17]]:36: note: the server is shut down here, after its queue, by a base class's destructor, which runs after this one
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
};

// ===== Not reported ==========================================================

// A singleton deleted by an explicit teardown function.
class Registry {
public:
  void Start(grpc::Service *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
  }
  ~Registry() { server_->Shutdown(In(1)); }

private:
  std::unique_ptr<grpc::Server> server_;
};

Registry *g_registry = new Registry();
void TearDownRegistry() { delete g_registry; }

// A global owned by a smart pointer: its destructor runs at exit.
class Frontend {
public:
  void Start(grpc::Service *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    server_ = builder.BuildAndStart();
  }
  ~Frontend() { server_->Shutdown(In(1)); }

private:
  std::unique_ptr<grpc::Server> server_;
};

std::unique_ptr<Frontend> g_frontend = std::make_unique<Frontend>();

// The derived destructor shuts the server down itself before the queue.
class OrderedServer : public ServerBase {
public:
  ~OrderedServer() override {
    server_->Shutdown(In(1));
    cq_->Shutdown();
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
};
