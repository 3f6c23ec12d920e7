// Macros that expand to a stub call and to grpc_channel_create, used in
// well-formed code, in broken code and with the wrong arguments.
#include <chrono>
#include <memory>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

#define MAKE_CHANNEL(target, creds) grpc_channel_create((target), (creds), nullptr)
#define START_STREAM(stub, ctx, req) (stub).ServerStream(&(ctx), (req))
#define UNARY(stub, ctx, req, resp) (stub).Unary(&(ctx), (req), &(resp))
#define HALF_CALL(stub) (stub).Unary(
#define LEAK_IT(name, target, creds) \
  grpc_channel *name = MAKE_CHANNEL(target, creds); (void)name

// Well-formed: the macro's leak is reported.
void MacroLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *macro_ch = MAKE_CHANNEL(target, creds);
  (void)macro_ch;
}

// Well-formed: a leak declared entirely by a macro.
void WholeMacroLeak(const char *target, grpc_channel_credentials *creds) {
  LEAK_IT(hidden, target, creds);
}

// Wrong arguments to the macros.
void MacroWrongArgs(demo::Demo::Stub &stub, const char *target) {
  grpc_channel *wrong = MAKE_CHANNEL(target, 42);
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = START_STREAM(stub, ctx, 7);
  (void)wrong;
}

// A macro that leaves a call unfinished.
int MacroHalfCall(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status s = HALF_CALL(stub) &ctx, req, &resp);
  grpc::Status t = HALF_CALL(stub) &ctx, req;
  return s.ok() ? 0 : 1;
}

// Well-formed: a unary call through a macro needs no deadline check here,
// and the stream started through a macro has a deadline.
int MacroStreamWithDeadline(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  demo::Req req;
  demo::Resp resp;
  auto reader = START_STREAM(stub, ctx, req);
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

#define UNTERMINATED(x) grpc_channel_create(x,
