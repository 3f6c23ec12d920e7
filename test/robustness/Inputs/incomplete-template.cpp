// Templates over ClientContext that are incomplete: an undefined member of a
// dependent type, an instantiation with a type that lacks it, a template
// whose definition is cut short, and a streaming call with no deadline in an
// instantiation that fails.
#include <chrono>
#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

template <typename Ctx> struct Incomplete;

template <typename Stub, typename Ctx = grpc::ClientContext>
int StreamAll(Stub &stub) {
  Ctx ctx;
  Incomplete<Ctx> tag;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return typename Stub::NoSuchType(n);
}

struct NotAStub {};

int Use(demo::Demo::Stub &stub) {
  NotAStub none;
  return StreamAll(stub) + StreamAll(none) + StreamAll<demo::Demo::Stub, int>(stub);
}

template <typename T>
class Holder {
  grpc::ClientContext ctx_;
  T value_;
public:
  void Start(demo::Demo::Stub &stub) {
    demo::Req req;
    auto stream = stub.ServerStream(&ctx_, req);
    value_.Consume(stream
