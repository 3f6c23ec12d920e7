// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-reactor-finish %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NODEFAULT %s grpc-leak-reactor-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-reactor-finish.CheckDefaultReactor: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOCLASSES %s grpc-leak-reactor-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-reactor-finish.CheckReactorClasses: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NONOTOK %s grpc-leak-reactor-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-reactor-finish.CheckNotOkPaths: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOSTART %s grpc-leak-reactor-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-reactor-finish.CheckClientStartCall: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOHOLDS %s grpc-leak-reactor-finish %t \
// RUN:   -config="{CheckOptions: {grpc-leak-reactor-finish.CheckHolds: false}}" -- -- %grpc_flags
//
// Each option turns one rule off; the others keep reporting. Findings are
// in source order, except that the class-level ones (all but DefaultReactor)
// come at the end of the file's analysis.

#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

class Handlers final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *, demo::Resp *) override {
    return context->DefaultReactor();
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOCLASSES: :[[@LINE-2]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NONOTOK: :[[@LINE-3]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOSTART: :[[@LINE-4]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOHOLDS: :[[@LINE-5]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; {{.*}} [grpc-leak-reactor-finish]
  }
  grpc::ServerWriteReactor<demo::Resp> *
  ServerStream(grpc::CallbackServerContext *, const demo::Req *) override;
  grpc::ServerReadReactor<demo::Req> *ClientStream(grpc::CallbackServerContext *,
                                                   demo::Resp *) override;
};

class Silent final : public grpc::ServerWriteReactor<demo::Resp> {
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:7: warning: server reactor 'Silent' never calls Finish() or StartWriteAndFinish(); {{.*}} [grpc-leak-reactor-finish]
  // CHECK-MESSAGES-NODEFAULT: :[[@LINE-2]]:7: warning: server reactor 'Silent' never calls Finish() or StartWriteAndFinish(); {{.*}} [grpc-leak-reactor-finish]
  // CHECK-MESSAGES-NONOTOK: :[[@LINE-3]]:7: warning: server reactor 'Silent' never calls Finish() or StartWriteAndFinish(); {{.*}} [grpc-leak-reactor-finish]
  // CHECK-MESSAGES-NOSTART: :[[@LINE-4]]:7: warning: server reactor 'Silent' never calls Finish() or StartWriteAndFinish(); {{.*}} [grpc-leak-reactor-finish]
  // CHECK-MESSAGES-NOHOLDS: :[[@LINE-5]]:7: warning: server reactor 'Silent' never calls Finish() or StartWriteAndFinish(); {{.*}} [grpc-leak-reactor-finish]
public:
  void OnDone() override { delete this; }
};
grpc::ServerWriteReactor<demo::Resp> *
Handlers::ServerStream(grpc::CallbackServerContext *, const demo::Req *) {
  return new Silent();
}

class Collector final : public grpc::ServerReadReactor<demo::Req> {
public:
  Collector() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok)
      return;
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NODEFAULT: :[[@LINE-2]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOCLASSES: :[[@LINE-3]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOSTART: :[[@LINE-4]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOHOLDS: :[[@LINE-5]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), {{.*}} [grpc-leak-reactor-finish]
    if (req_.name() == "last")
      Finish(grpc::Status::OK);
    else
      StartRead(&req_);
  }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
};
grpc::ServerReadReactor<demo::Req> *
Handlers::ClientStream(grpc::CallbackServerContext *, demo::Resp *) {
  return new Collector();
}

class Unstarted final : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {
public:
  explicit Unstarted(demo::Demo::Stub *stub) {
    stub->async()->Bidi(&ctx_, this);
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:20: warning: client reactor 'Unstarted' is given to 'Bidi' but nothing calls StartCall() on it; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NODEFAULT: :[[@LINE-2]]:20: warning: client reactor 'Unstarted' is given to 'Bidi' but nothing calls StartCall() on it; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOCLASSES: :[[@LINE-3]]:20: warning: client reactor 'Unstarted' is given to 'Bidi' but nothing calls StartCall() on it; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NONOTOK: :[[@LINE-4]]:20: warning: client reactor 'Unstarted' is given to 'Bidi' but nothing calls StartCall() on it; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOHOLDS: :[[@LINE-5]]:20: warning: client reactor 'Unstarted' is given to 'Bidi' but nothing calls StartCall() on it; {{.*}} [grpc-leak-reactor-finish]
  }

private:
  grpc::ClientContext ctx_;
};

class Held final : public grpc::ClientReadReactor<demo::Resp> {
public:
  explicit Held(demo::Demo::Stub *stub) {
    stub->async()->ServerStream(&ctx_, &req_, this);
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:20: warning: client reactor 'Held' is given to 'ServerStream' and adds a hold that nothing removes; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NODEFAULT: :[[@LINE-2]]:20: warning: client reactor 'Held' is given to 'ServerStream' and adds a hold that nothing removes; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOCLASSES: :[[@LINE-3]]:20: warning: client reactor 'Held' is given to 'ServerStream' and adds a hold that nothing removes; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NONOTOK: :[[@LINE-4]]:20: warning: client reactor 'Held' is given to 'ServerStream' and adds a hold that nothing removes; {{.*}} [grpc-leak-reactor-finish]
    // CHECK-MESSAGES-NOSTART: :[[@LINE-5]]:20: warning: client reactor 'Held' is given to 'ServerStream' and adds a hold that nothing removes; {{.*}} [grpc-leak-reactor-finish]
    AddMultipleHolds(2);
    StartCall();
  }

private:
  grpc::ClientContext ctx_;
  demo::Req req_;
};
