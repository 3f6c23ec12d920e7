// Stream and reactor protocols in a file that does not compile: the
// statements that finish or half-close may be the ones the parser dropped,
// so nothing here is judged but the complete local stream at the end.
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// The only Finish() of the class is in a method with an error.
class Broken final : public grpc::ServerWriteReactor<demo::Resp> {
public:
  Broken() { StartWrite(&resp_); }
  void OnWriteDone(bool ok) override {
    if (!ok)
      Finish(grpc::Status::CANCELLED;
  }
  void OnDone() override { delete this; }

private:
  demo::Resp resp_;
};
class Service final : public demo::Demo::CallbackService {
  grpc::ServerWriteReactor<demo::Resp> *
  ServerStream(grpc::CallbackServerContext *, const demo::Req *) override {
    return new Broken();
  }
};

// A member stream whose WritesDone() is in a method the parser dropped a
// statement of.
class Upload {
public:
  void Start(demo::Demo::Stub &stub) { writer_ = stub.ClientStream(&ctx_, &resp_); }
  void Close() {
    writer_->WritesDone(;
  }
  void Done() { writer_->Finish(); }

private:
  grpc::ClientContext ctx_;
  demo::Resp resp_;
  std::unique_ptr<grpc::ClientWriter<demo::Req>> writer_;
};

// Complete, and wrong: still reported.
void Lost(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto reader = stub.ServerStream(ctx, demo::Req());
  demo::Resp resp;
  reader->Read(&resp);
}
