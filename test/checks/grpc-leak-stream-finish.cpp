// RUN: %check_grpc_leak %s grpc-leak-stream-finish %t -- -- %grpc_flags
//
// Client streams that can leave their scope without Finish() (synchronous
// streams), and Finish() reached on a stream the client writes to with no
// WritesDone()/WriteLast() before it (synchronous and asynchronous).

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/generic_stub.h>
#include "demo.grpc.pb.h"

using Clock = std::chrono::system_clock;
static void Bound(grpc::ClientContext &ctx) {
  ctx.set_deadline(Clock::now() + std::chrono::seconds(5));
}

// ===== Reported: not finished on every path ==================================

// A write fails and the upload returns without Finish(): the status that
// says why is lost. The last Finish() has no WritesDone() before it either.
grpc::Status Upload(demo::Demo::Stub &stub, const std::vector<demo::Req> &reqs) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'writer' started by 'ClientStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  // CHECK-MESSAGES: :[[@LINE+6]]:7: note: returns here without calling Finish() on 'writer'
  // CHECK-MESSAGES: :[[@LINE-3]]:22: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  // CHECK-MESSAGES: :[[@LINE+5]]:18: note: Finish() is called here with no WritesDone() or WriteLast() on 'writer' before it on some path
  // CHECK-MESSAGES: :[[@LINE+4]]:3: note: half-close the stream before Finish()
  for (const demo::Req &r : reqs)
    if (!writer->Write(r))
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
  return writer->Finish();
}

// The first matching answer ends the search; that path skips Finish().
bool Find(demo::Demo::Stub &stub, const std::string &name) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Req req;
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reader(stub.ServerStream(&ctx, req));
  // CHECK-MESSAGES: :[[@LINE-1]]:63: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  demo::Resp resp;
  while (reader->Read(&resp))
    if (resp.value() == name)
      return true;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: note: returns here without calling Finish() on 'reader'
  return reader->Finish().ok() && false;
}

// One stream per shard, in a loop; a failed write goes on to the next shard.
void Shards(demo::Demo::Stub &stub, int shards) {
  for (int i = 0; i < shards; ++i) {
    grpc::ClientContext ctx;
    Bound(ctx);
    demo::Resp resp;
    auto writer = stub.ClientStream(&ctx, &resp);
    // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: stream 'writer' started by 'ClientStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
    if (!writer->Write(demo::Req()))
      continue;
    // CHECK-MESSAGES: :[[@LINE-1]]:7: note: goes to the next iteration here without calling Finish() on 'writer'
    writer->WritesDone();
    writer->Finish();
  }
}

// The stream lives in an inner block that ends without Finish().
int Peek(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  int n = 0;
  {
    auto reader = stub.ServerStream(&ctx, demo::Req());
    // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
    demo::Resp resp;
    if (reader->Read(&resp))
      ++n;
  }
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'reader' goes out of scope here without Finish()
  return n;
}

// A second stream replaces the first, which was never finished.
void Twice(demo::Demo::Stub &stub, grpc::ClientContext &a, grpc::ClientContext &b) {
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reader;
  reader = stub.ServerStream(&a, demo::Req());
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  demo::Resp resp;
  reader->Read(&resp);
  reader = stub.ServerStream(&b, demo::Req());
  // CHECK-MESSAGES: :[[@LINE-1]]:10: note: 'reader' is given another stream here before Finish() was called on it
  reader->Finish();
}

// A reference bound to the returned stream: read to the end, status never
// read.
int Drain(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  const auto &reader = stub.ServerStream(&ctx, demo::Req());
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return n;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: returns here without calling Finish() on 'reader'
}

// Through the stub interface (what mocks implement).
void ViaInterface(demo::Demo::StubInterface &stub, bool quick) {
  grpc::ClientContext ctx;
  Bound(ctx);
  std::unique_ptr<grpc::ClientReaderInterface<demo::Resp>> reader =
      stub.ServerStream(&ctx, demo::Req());
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: stream 'reader' started by 'ServerStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  if (quick)
    return;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: note: returns here without calling Finish() on 'reader'
  reader->Finish();
}

// A helper that only writes: it neither finishes nor keeps the stream, so
// the path after it still needs Finish().
static void Pump(grpc::ClientWriter<demo::Req> *writer, int n) {
  for (int i = 0; i < n; ++i)
    writer->Write(demo::Req());
}
void Pumped(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'writer' started by 'ClientStream' can go out of scope without Finish(); its final status is lost and the call is cancelled [grpc-leak-stream-finish]
  Pump(writer.get(), 3);
  writer->WritesDone();
}
// CHECK-MESSAGES: :[[@LINE-1]]:1: note: 'writer' goes out of scope here without Finish()

// ===== Reported: Finish() without WritesDone() ===============================

// A proxy forwards every message, reads the answers, and finishes: the
// server reads until the client half-closes, so Read() never ends.
grpc::Status Forward(demo::Demo::Stub &stub, const std::vector<demo::Req> &in,
                     std::vector<demo::Resp> *out) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto stream = stub.Bidi(&ctx);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  for (const demo::Req &r : in)
    stream->Write(r);
  demo::Resp resp;
  while (stream->Read(&resp))
    out->push_back(resp);
  grpc::Status status = stream->Finish();
  // CHECK-MESSAGES: :[[@LINE-1]]:33: note: Finish() is called here with no WritesDone() or WriteLast() on 'stream' before it on some path
  // CHECK-MESSAGES: :[[@LINE-2]]:3: note: half-close the stream before Finish()
  return status;
}

// Half-closed on one branch only.
grpc::Status MaybeClosed(demo::Demo::Stub &stub, bool batch) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  writer->Write(demo::Req());
  if (batch)
    writer->WritesDone();
  return writer->Finish();
  // CHECK-MESSAGES: :[[@LINE-1]]:18: note: Finish() is called here with no WritesDone() or WriteLast() on 'writer' before it on some path
}

// Asynchronous bidi stream, driven on one queue in one function.
bool AsyncChat(demo::Demo::Stub &stub, grpc::CompletionQueue &cq) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto stream = stub.PrepareAsyncBidi(&ctx, &cq);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'stream' started by 'PrepareAsyncBidi' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  void *tag;
  bool ok;
  stream->StartCall(reinterpret_cast<void *>(1));
  cq.Next(&tag, &ok);
  demo::Req req;
  stream->Write(req, reinterpret_cast<void *>(2));
  cq.Next(&tag, &ok);
  grpc::Status status;
  stream->Finish(&status, reinterpret_cast<void *>(3));
  // CHECK-MESSAGES: :[[@LINE-1]]:11: note: Finish() is called here with no WritesDone() or WriteLast() on 'stream' before it on some path
  cq.Next(&tag, &ok);
  return status.ok();
}

// An asynchronous upload kept in a member, finished in another method; no
// method of the class half-closes it.
class Uploader {
public:
  Uploader(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    Bound(ctx_);
    writer_ = stub->PrepareAsyncClientStream(&ctx_, &resp_, cq);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: stream 'writer_' started by 'PrepareAsyncClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
    writer_->StartCall(this);
  }
  void Send(const demo::Req &req) { writer_->Write(req, this); }
  void Close() { writer_->Finish(&status_, this); }
  // CHECK-MESSAGES: :[[@LINE-1]]:27: note: Finish() is called here, and no method of the class calls WritesDone() or WriteLast() on 'writer_'

private:
  grpc::ClientContext ctx_;
  demo::Resp resp_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncWriter<demo::Req>> writer_;
};

// Through the interface types of a mockable stub.
grpc::Status ViaWriterInterface(demo::Demo::StubInterface &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  std::unique_ptr<grpc::ClientWriterInterface<demo::Req>> writer =
      stub.ClientStream(&ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); Finish() then waits for the server to end the call, which a server that reads until the client half-closes never does [grpc-leak-stream-finish]
  writer->Write(demo::Req());
  return writer->Finish();
  // CHECK-MESSAGES: :[[@LINE-1]]:18: note: Finish() is called here with no WritesDone() or WriteLast() on 'writer' before it on some path
  // CHECK-MESSAGES: :[[@LINE-2]]:3: note: half-close the stream before Finish()
}

// ===== Not reported ==========================================================

// Half-closed with WriteLast() (Write + WritesDone in one).
grpc::Status LastWrite(demo::Demo::Stub &stub, const demo::Req &req) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  writer->WriteLast(req, grpc::WriteOptions());
  return writer->Finish();
}

// Finished on every path, the broken write included.
grpc::Status Careful(demo::Demo::Stub &stub, const std::vector<demo::Req> &reqs) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  for (const demo::Req &r : reqs)
    if (!writer->Write(r))
      break;
  writer->WritesDone();
  return writer->Finish();
}

// A server-streaming reader needs no half-close.
int ReadAll(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto reader = stub.ServerStream(&ctx, demo::Req());
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

// Finished by a helper of this file.
static grpc::Status CloseAndFinish(grpc::ClientWriter<demo::Req> *writer) {
  writer->WritesDone();
  return writer->Finish();
}
grpc::Status ByHelper(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  writer->Write(demo::Req());
  return CloseAndFinish(writer.get());
}

// Drained and finished by a helper that takes the stream over.
void DrainAndFinish(std::unique_ptr<grpc::ClientReader<demo::Resp>> reader);
void Handed(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto reader = stub.ServerStream(ctx, demo::Req());
  DrainAndFinish(std::move(reader));
}

// A guard whose destructor half-closes and finishes.
class StreamGuard {
public:
  explicit StreamGuard(grpc::ClientReaderWriter<demo::Req, demo::Resp> *s) : s_(s) {}
  ~StreamGuard() {
    s_->WritesDone();
    s_->Finish();
  }

private:
  grpc::ClientReaderWriter<demo::Req, demo::Resp> *s_;
};
bool Guarded(demo::Demo::Stub &stub, bool fail) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto stream = stub.Bidi(&ctx);
  StreamGuard guard(stream.get());
  if (fail)
    return false;
  return stream->Write(demo::Req());
}

// Kept in a member: finished in another method, or in the destructor.
class Watcher {
public:
  void Start(demo::Demo::Stub &stub) { reader_ = stub.ServerStream(&ctx_, demo::Req()); }
  ~Watcher() {
    ctx_.TryCancel();
    reader_->Finish();
  }

private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reader_;
};
class Feeds {
public:
  void Add(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
    auto reader = stub.ServerStream(ctx, demo::Req());
    pending_.push_back(std::move(reader));
  }

private:
  std::vector<std::unique_ptr<grpc::ClientReader<demo::Resp>>> pending_;
};

// A member stream half-closed by a stop method on the caller's thread and
// finished by the reader thread once the server ends the stream.
class Streamer {
public:
  void Start(demo::Demo::Stub &stub) {
    Bound(ctx_);
    stream_ = stub.Bidi(&ctx_);
    reader_ = std::thread([this] {
      demo::Resp resp;
      while (stream_->Read(&resp)) {
      }
      status_ = stream_->Finish();
    });
  }
  void Stop() {
    stream_->WritesDone();
    reader_.join();
  }

private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
  std::thread reader_;
  grpc::Status status_;
};

// Returned to the caller.
std::unique_ptr<grpc::ClientReader<demo::Resp>> Open(demo::Demo::Stub &stub,
                                                     grpc::ClientContext *ctx) {
  auto reader = stub.ServerStream(ctx, demo::Req());
  return reader;
}

// Cancelled, then finished (status CANCELLED): no half-close needed.
grpc::Status Abandon(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto stream = stub.Bidi(&ctx);
  stream->Write(demo::Req());
  ctx.TryCancel();
  return stream->Finish();
}

// Half-closed by a writer thread, finished after joining it.
grpc::Status Threaded(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  std::shared_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream(stub.Bidi(&ctx));
  std::thread writer([stream] {
    stream->Write(demo::Req());
    stream->WritesDone();
  });
  demo::Resp resp;
  while (stream->Read(&resp)) {
  }
  writer.join();
  return stream->Finish();
}

// Paths that throw or end the process are not judged; a null check is no
// path with a stream.
grpc::Status Strict(demo::Demo::Stub &stub, bool must) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto reader = stub.ServerStream(&ctx, demo::Req());
  if (!reader)
    return grpc::Status::CANCELLED;
  demo::Resp resp;
  if (!reader->Read(&resp)) {
    if (must)
      throw std::runtime_error("empty");
    std::abort();
  }
  return reader->Finish();
}

// A generic stub carries any method kind (a server-streaming one needs no
// half-close): not judged.
void Generic(grpc::GenericStub &stub, grpc::CompletionQueue &cq) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto call = stub.PrepareCall(&ctx, "/demo.Demo/ServerStream", &cq);
  call->StartCall(nullptr);
  grpc::Status status;
  call->Finish(&status, nullptr);
}

// NOLINT silences a finding on the start.
void Silenced(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Bound(ctx);
  auto reader = stub.ServerStream(&ctx, demo::Req()); // NOLINT(grpc-leak-stream-finish)
  demo::Resp resp;
  reader->Read(&resp);
}
