//===- ContextLifetimeTest.cpp - lib/ContextLifetime ----------------------===//
//
// Locals that an async or callback RPC outlives, contexts given to two RPCs,
// and async call members declared before their context. One function (or
// class) per case, named after the answer; the tests run the analysis on the
// RPC start of each case and assert the concrete result: which object, how
// its life ends (the return, or the end of its scope), which second start.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ContextLifetime.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "gtest/gtest.h"
#include <algorithm>

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

class ForgetCaches {
public:
  explicit ForgetCaches(ASTContext &Ctx) : Ctx(Ctx) {}
  ~ForgetCaches() {
    FlowCache::clear(Ctx);
    TuIndex::clear(Ctx);
    clearParentIndex(Ctx);
  }

private:
  ASTContext &Ctx;
};

/// The RPC starts made in function \p Fn, in source order.
std::vector<RpcStart> startsIn(ASTContext &Ctx, llvm::StringRef Fn) {
  std::vector<RpcStart> Starts;
  for (const BoundNodes &N :
       match(cxxMemberCallExpr(hasAncestor(functionDecl(hasName(Fn))))
                 .bind("c"),
             Ctx))
    if (std::optional<RpcStart> Start =
            classifyRpcStart(N.getNodeAs<CallExpr>("c")))
      Starts.push_back(*Start);
  std::sort(Starts.begin(), Starts.end(), [&](const RpcStart &A, const RpcStart &B) {
    return Ctx.getSourceManager().isBeforeInTranslationUnit(
        A.Call->getBeginLoc(), B.Call->getBeginLoc());
  });
  return Starts;
}

const FunctionFlow *flowOf(ASTContext &Ctx, const RpcStart &Start) {
  const FunctionDecl *Fn = enclosingCallable(*Start.Call, Ctx);
  return Fn ? FlowCache::get(*Fn, Ctx) : nullptr;
}

const char *const Header = R"cpp(
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
void Log(const char *);
void WaitForAll();
)cpp";

const char *const LocalSnippet = R"cpp(
struct Call {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
};

void returns_early(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  stub->async()->Unary(&ctx, &req, &resp, [](grpc::Status) {});
}

void waits_on_future(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  std::promise<grpc::Status> done;
  stub->async()->Unary(&ctx, &req, &resp,
                       [&done](grpc::Status s) { done.set_value(s); });
  done.get_future().get();
}

void waits_on_flag(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  stub->async()->Unary(&ctx, &req, &resp, [&](grpc::Status) {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  while (!finished)
    cv.wait(lock);
}

bool returns_on_error(demo::Demo::Stub *stub, bool fail) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  std::promise<void> done;
  stub->async()->Unary(&ctx, &req, &resp, [&](grpc::Status) { done.set_value(); });
  if (fail)
    return false;
  done.get_future().wait();
  return true;
}

void heap_call(demo::Demo::Stub *stub) {
  auto *call = new Call;
  stub->async()->Unary(&call->ctx, &call->req, &call->resp,
                       [call](grpc::Status) { delete call; });
}

void shared_owner_kept(demo::Demo::Stub *stub, demo::Req *req, demo::Resp *resp) {
  auto ctx = std::make_shared<grpc::ClientContext>();
  stub->async()->Unary(ctx.get(), req, resp, [ctx](grpc::Status) {});
}

void unique_owner_dropped(demo::Demo::Stub *stub, demo::Req *req, demo::Resp *resp) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  stub->async()->Unary(ctx.get(), req, resp, [](grpc::Status) {});
}

void per_iteration(demo::Demo::Stub *stub, std::vector<demo::Req> &reqs) {
  std::vector<demo::Resp> resps(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    grpc::ClientContext ctx;
    stub->async()->Unary(&ctx, &reqs[i], &resps[i], [](grpc::Status) {});
  }
  WaitForAll();
}

void official_async(demo::Demo::Stub *stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub->PrepareAsyncUnary(&ctx, req, &cq);
  rpc->StartCall();
  rpc->Finish(&resp, &status, (void *)1);
  void *tag;
  bool ok = false;
  cq.Next(&tag, &ok);
}

class Client {
public:
  void fire_and_forget(const demo::Req &req) {
    grpc::ClientContext ctx;
    auto rpc = stub_->AsyncUnary(&ctx, req, &cq_);
    rpc->Finish(&resp_, &status_, this);
  }
  void status_on_stack(Call *call) {
    grpc::Status status;
    auto rpc = stub_->AsyncUnary(&call->ctx, call->req, &cq_);
    rpc->Finish(&call->resp, &status, call);
  }
  void polls_other_queue(const demo::Req &req, grpc::CompletionQueue &other) {
    grpc::ClientContext ctx;
    auto rpc = stub_->AsyncUnary(&ctx, req, &cq_);
    rpc->Finish(&resp_, &status_, this);
    void *tag;
    bool ok;
    other.Next(&tag, &ok);
  }

private:
  std::unique_ptr<demo::Demo::Stub> stub_;
  grpc::CompletionQueue cq_;
  demo::Resp resp_;
  grpc::Status status_;
};

void logs_then_returns(demo::Demo::Stub *stub, demo::Req *req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  stub->async()->Unary(&ctx, req, resp, [](grpc::Status) {});
  Log("started");
}

void user_wait(demo::Demo::Stub *stub, demo::Req *req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  stub->async()->Unary(&ctx, req, resp, [](grpc::Status) {});
  AwaitAll();
}

class Reader : public grpc::ClientReadReactor<demo::Resp> {
 public:
  Reader(demo::Demo::Stub *stub) {
    stub->async()->ServerStream(&ctx_, &req_, this);
    StartRead(&resp_);
    StartCall();
  }
  void OnDone(const grpc::Status &s) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_one();
  }
  void Await() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

class KeepAlive {
 public:
  KeepAlive(demo::Demo::Stub *stub) : stream_(stub->AsyncBidi(&ctx_, &cq_, this)) {}
  void stop_without_tag() {
    grpc::Status status;
    stream_->Finish(&status, this);
    cq_.Shutdown();
  }
  void stop_and_drain() {
    grpc::Status status;
    stream_->Finish(&status, this);
    void *tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
 private:
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
};

void reactor_awaited(demo::Demo::Stub *stub) {
  Reader reader(stub);
  reader.Await();
}
void reactor_dropped(demo::Demo::Stub *stub) {
  Reader reader(stub);
}
)cpp";

TEST(ContextLifetimeTest, LocalsAnRpcOutlives) {
  auto AST = test::parse(std::string(Header) + "void AwaitAll();\n" + LocalSnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ContextLifetimeAnalysis Analysis(Ctx, LifetimeOptions{});
  auto Judge = [&](llvm::StringRef Fn) -> std::optional<ShortLivedObject> {
    std::vector<RpcStart> Starts = startsIn(Ctx, Fn);
    EXPECT_EQ(Starts.size(), 1u) << Fn.str();
    if (Starts.size() != 1)
      return std::nullopt;
    const FunctionFlow *Flow = flowOf(Ctx, Starts[0]);
    EXPECT_TRUE(Flow) << Fn.str();
    return Flow ? Analysis.findShortLived(Starts[0], *Flow) : std::nullopt;
  };

  // The context (reported first) dies at the end of the function.
  std::optional<ShortLivedObject> Found = Judge("returns_early");
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->What, ShortLivedObject::Role::Context);
  EXPECT_EQ(Found->Object->getName(), "ctx");
  EXPECT_FALSE(Found->ExitReturn);
  EXPECT_FALSE(Found->ScopeEnd.isValid());

  // Waiting on a future, or on a flag guarding a condition variable wait.
  EXPECT_FALSE(Judge("waits_on_future"));
  EXPECT_FALSE(Judge("waits_on_flag"));

  // The error path returns before the wait: that return is the witness.
  Found = Judge("returns_on_error");
  ASSERT_TRUE(Found);
  ASSERT_TRUE(Found->ExitReturn);
  EXPECT_TRUE(llvm::isa<CXXBoolLiteralExpr>(
      Found->ExitReturn->getRetValue()->IgnoreImplicit()));

  // Heap objects freed by the completion; a shared owner the callback keeps.
  EXPECT_FALSE(Judge("heap_call"));
  EXPECT_FALSE(Judge("shared_owner_kept"));
  Found = Judge("unique_owner_dropped");
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->Object->getName(), "ctx");

  // Declared in the loop body: destroyed at the end of each iteration, even
  // though the function waits after the loop.
  Found = Judge("per_iteration");
  ASSERT_TRUE(Found);
  EXPECT_TRUE(Found->ScopeEnd.isValid());
  EXPECT_FALSE(Found->ExitReturn);

  // The official async client: Next on the call's queue.
  EXPECT_FALSE(Judge("official_async"));

  // A member queue polled elsewhere: the local context dies on return.
  Found = Judge("fire_and_forget");
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->What, ShortLivedObject::Role::Context);
  // The context is on the heap, but Finish writes into a local Status.
  Found = Judge("status_on_stack");
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->What, ShortLivedObject::Role::Pointee);
  EXPECT_EQ(Found->Object->getName(), "status");
  EXPECT_EQ(llvm::cast<CXXMemberCallExpr>(Found->HandedAt)
                ->getMethodDecl()
                ->getName(),
            "Finish");
  // Polling another queue does not complete this call.
  EXPECT_TRUE(Judge("polls_other_queue"));

  // A function of another file may wait (Log is declared, not defined: it
  // counts too, precision first); one the user names does.
  EXPECT_FALSE(Judge("logs_then_returns"));
  EXPECT_FALSE(Judge("user_wait"));
}

TEST(ContextLifetimeTest, WaitFunctionsAndReactors) {
  auto AST = test::parse(std::string(Header) +
                         "inline void AwaitAll() {}\n" + LocalSnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  std::vector<RpcStart> Starts = startsIn(Ctx, "user_wait");
  ASSERT_EQ(Starts.size(), 1u);
  const FunctionFlow *Flow = flowOf(Ctx, Starts[0]);
  ASSERT_TRUE(Flow);
  // AwaitAll's body is seen, and does not wait...
  EXPECT_TRUE(ContextLifetimeAnalysis(Ctx, LifetimeOptions{})
                  .findShortLived(Starts[0], *Flow));
  // ...unless the user says it does.
  llvm::Regex Waits("^AwaitAll$");
  LifetimeOptions Opts;
  Opts.WaitFunctions = &Waits;
  EXPECT_FALSE(ContextLifetimeAnalysis(Ctx, Opts).findShortLived(Starts[0], *Flow));

  // A client reactor on the stack whose constructor starts its call.
  ContextLifetimeAnalysis Analysis(Ctx, LifetimeOptions{});
  auto Reactor = [&](llvm::StringRef Fn) -> std::optional<ShortLivedObject> {
    auto Vars = match(varDecl(hasName("reader"),
                              hasAncestor(functionDecl(hasName(Fn))))
                          .bind("v"),
                      Ctx);
    EXPECT_EQ(Vars.size(), 1u);
    const auto *Var = Vars[0].getNodeAs<VarDecl>("v");
    const FunctionDecl *Owner =
        llvm::cast<FunctionDecl>(Var->getParentFunctionOrMethod());
    const FunctionFlow *F = FlowCache::get(*Owner, Ctx);
    return F ? Analysis.findShortLivedReactor(*Var, *F) : std::nullopt;
  };
  // Finish on a stream started elsewhere (the constructor), into a local.
  auto Output = [&](llvm::StringRef Fn) -> std::optional<ShortLivedObject> {
    auto Calls = match(cxxMemberCallExpr(callee(cxxMethodDecl(hasName("Finish"))),
                                         hasAncestor(functionDecl(hasName(Fn))))
                           .bind("c"),
                       Ctx);
    EXPECT_EQ(Calls.size(), 1u) << Fn.str();
    const auto *Op = Calls[0].getNodeAs<CallExpr>("c");
    const FunctionFlow *F = FlowCache::get(*enclosingCallable(*Op, Ctx), Ctx);
    return F ? Analysis.findShortLivedOutput(*Op, *F) : std::nullopt;
  };
  std::optional<ShortLivedObject> Status = Output("stop_without_tag");
  ASSERT_TRUE(Status);
  EXPECT_EQ(Status->Object->getName(), "status");
  EXPECT_FALSE(Status->Start);
  EXPECT_FALSE(Output("stop_and_drain"));
  // A call started in the same function is left to findShortLived.
  EXPECT_FALSE(Output("status_on_stack"));

  EXPECT_FALSE(Reactor("reactor_awaited"));
  std::optional<ShortLivedObject> Found = Reactor("reactor_dropped");
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->What, ShortLivedObject::Role::Reactor);
  EXPECT_TRUE(llvm::isa<CXXConstructExpr>(Found->HandedAt));
}

const char *const ReuseSnippet = R"cpp(
void reused_in_loop(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  for (int i = 0; i < 3; ++i) {
    demo::Req req;
    demo::Resp resp;
    stub.Unary(&ctx, req, &resp);
  }
}
void retried(demo::Demo::Stub &stub, const demo::Req &req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  grpc::Status status = stub.Unary(&ctx, req, resp);
  if (!status.ok())
    status = stub.Unary(&ctx, req, resp);
}
void fresh_per_iteration(demo::Demo::Stub &stub) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    demo::Req req;
    demo::Resp resp;
    stub.Unary(&ctx, req, &resp);
  }
}
void recreated(demo::Demo::Stub &stub) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  for (int i = 0; i < 3; ++i) {
    demo::Req req;
    demo::Resp resp;
    stub.Unary(ctx.get(), req, &resp);
    ctx = std::make_unique<grpc::ClientContext>();
  }
}
void either_or(demo::Demo::Stub &stub, bool stream) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  if (stream)
    stub.ServerStream(&ctx, req);
  else
    stub.Unary(&ctx, req, &resp);
}
void contexts_in_a_vector(demo::Demo::Stub &stub) {
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    demo::Req req;
    demo::Resp resp;
    stub.Unary(contexts.back().get(), req, &resp);
  }
}
struct Pending { grpc::ClientContext ctx; demo::Req req; demo::Resp resp; };
void heap_per_call(demo::Demo::Stub &stub, int n) {
  for (int i = 0; i < n; ++i) {
    auto *p = new Pending;
    stub.async()->Unary(&p->ctx, &p->req, &p->resp,
                        [p](grpc::Status) { delete p; });
  }
}
class Streamer {
 public:
  void Twice() {
    demo::Req req;
    reader_ = stub_->ServerStream(&ctx_, req);
    reader_ = stub_->ServerStream(&ctx_, req);
  }
 private:
  std::unique_ptr<demo::Demo::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reader_;
};
)cpp";

TEST(ContextLifetimeTest, Reuse) {
  auto AST = test::parse(std::string(Header) + ReuseSnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ContextLifetimeAnalysis Analysis(Ctx, LifetimeOptions{});
  auto Reuse = [&](llvm::StringRef Fn, unsigned Index) -> std::optional<ContextReuse> {
    std::vector<RpcStart> Starts = startsIn(Ctx, Fn);
    EXPECT_GT(Starts.size(), Index) << Fn.str();
    if (Starts.size() <= Index)
      return std::nullopt;
    const FunctionFlow *Flow = flowOf(Ctx, Starts[Index]);
    return Flow ? Analysis.findReuse(Starts[Index], *Flow) : std::nullopt;
  };

  std::optional<ContextReuse> Found = Reuse("reused_in_loop", 0);
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->Second.Call, Found->First); // the loop comes round
  EXPECT_EQ(Found->Context->getName(), "ctx");
  EXPECT_FALSE(Found->IsMember);

  Found = Reuse("retried", 0);
  ASSERT_TRUE(Found);
  EXPECT_EQ(Found->Second.Call, startsIn(Ctx, "retried")[1].Call);
  EXPECT_FALSE(Reuse("retried", 1));

  EXPECT_FALSE(Reuse("fresh_per_iteration", 0));
  EXPECT_FALSE(Reuse("recreated", 0));
  EXPECT_FALSE(Reuse("either_or", 0));
  EXPECT_FALSE(Reuse("either_or", 1));
  EXPECT_FALSE(Reuse("contexts_in_a_vector", 0));
  EXPECT_FALSE(Reuse("heap_per_call", 0));

  Found = Reuse("Twice", 0);
  ASSERT_TRUE(Found);
  EXPECT_TRUE(Found->IsMember);
  EXPECT_EQ(Found->Context->getName(), "ctx_");
}

const char *const MemberSnippet = R"cpp(
class BadOrder {
 public:
  BadOrder(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncBidi(&ctx_, cq);
  }
 private:
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};
class BadUnaryInit {
 public:
  BadUnaryInit(demo::Demo::Stub *stub, const demo::Req &req, grpc::CompletionQueue *cq)
      : reader_(stub->AsyncUnary(&ctx_, req, cq)) {}
 private:
  std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> reader_;
  grpc::ClientContext ctx_;
};
class GoodOrder {
 public:
  GoodOrder(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncBidi(&ctx_, cq);
  }
 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
};
class SyncStream {
 public:
  SyncStream(demo::Demo::Stub *stub) { stream_ = stub->Bidi(&ctx_); }
 private:
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};
class ResetFirst {
 public:
  ResetFirst(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncBidi(&ctx_, cq);
  }
  ~ResetFirst() { stream_.reset(); }
 private:
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};
)cpp";

TEST(ContextLifetimeTest, MemberOrder) {
  auto AST = test::parse(std::string(Header) + MemberSnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ContextLifetimeAnalysis Analysis(Ctx, LifetimeOptions{});
  auto Order = [&](llvm::StringRef Class) {
    auto Found = match(
        cxxRecordDecl(hasName(Class), isDefinition()).bind("c"), Ctx);
    EXPECT_EQ(Found.size(), 1u);
    return Analysis.findMemberOrder(*Found[0].getNodeAs<CXXRecordDecl>("c"));
  };
  std::vector<MemberOrderViolation> Found = Order("BadOrder");
  ASSERT_EQ(Found.size(), 1u);
  EXPECT_EQ(Found[0].Stream->getName(), "stream_");
  EXPECT_EQ(Found[0].Context->getName(), "ctx_");
  EXPECT_EQ(Found[0].Start->getDirectCallee()->getName(), "PrepareAsyncBidi");
  Found = Order("BadUnaryInit");
  ASSERT_EQ(Found.size(), 1u);
  EXPECT_EQ(Found[0].Stream->getName(), "reader_");
  EXPECT_TRUE(Order("GoodOrder").empty());
  EXPECT_TRUE(Order("SyncStream").empty());
  EXPECT_TRUE(Order("ResetFirst").empty());
}

} // namespace
} // namespace grpcleak
