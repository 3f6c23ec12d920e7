//===- CallbackThreadsTest.cpp - lib/CallbackThreads ----------------------===//
//
// Which calls block (and which of their forms do not), and how code comes to
// run on gRPC's callback threads. Each snippet names its cases after the
// answer: a function or method per case; the tests find the call of a case
// by the name of the function that makes it and assert the concrete answer
// (the kind, the entry, the hops).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/CallbackThreads.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

class ForgetCaches {
public:
  explicit ForgetCaches(ASTContext &Ctx) : Ctx(Ctx) {}
  ~ForgetCaches() {
    TuIndex::clear(Ctx);
    clearParentIndex(Ctx);
  }

private:
  ASTContext &Ctx;
};

/// The one call of a function named \p Callee made in function \p Fn
/// (lambdas inside it included).
const CallExpr *callIn(ASTContext &Ctx, llvm::StringRef Fn,
                       llvm::StringRef Callee) {
  auto Found = match(callExpr(callee(functionDecl(hasName(Callee))),
                              hasAncestor(functionDecl(hasName(Fn))))
                         .bind("c"),
                     Ctx);
  EXPECT_EQ(Found.size(), 1u) << Fn.str() << ": " << Callee.str();
  return Found.size() == 1 ? Found[0].getNodeAs<CallExpr>("c") : nullptr;
}

const char *const BlockingSnippet = R"cpp(
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
using namespace std::chrono_literals;

namespace app { void Flush(); struct Queue { void Pop(); }; struct Fifo : Queue {}; }

std::mutex mu;
std::condition_variable cv;

void sleeps() { std::this_thread::sleep_for(100ms); }
void sleeps_zero() { std::this_thread::sleep_for(0ms); }
void waits() { std::unique_lock<std::mutex> l(mu); cv.wait(l); }
void waits_with_timeout() { std::unique_lock<std::mutex> l(mu); cv.wait_for(l, 1s); }
void polls_cv() { std::unique_lock<std::mutex> l(mu); cv.wait_for(l, std::chrono::seconds(0)); }
void gets(std::future<int> &f) { f.get(); }
void waits_on_future(std::future<int> &f) { f.wait(); }
void polls_future(std::future<int> &f) { f.wait_for(std::chrono::seconds::zero()); }
void gets_when_ready(std::future<int> &f) {
  if (f.valid() && f.wait_for(0s) == std::future_status::ready)
    f.get();
}
void joins(std::thread &t) { t.join(); }
void locks() { mu.lock(); }
void try_locks() { mu.try_lock(); }
void sync_unary(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx; demo::Req req; demo::Resp resp;
  stub.Unary(&ctx, req, &resp);
}
void sync_read(grpc::ClientReader<demo::Resp> &reader) {
  demo::Resp resp;
  reader.Read(&resp);
}
void async_start(demo::Demo::Stub &stub, grpc::CompletionQueue &cq) {
  grpc::ClientContext ctx; demo::Req req;
  auto call = stub.PrepareAsyncUnary(&ctx, req, &cq);
}
void next(grpc::CompletionQueue &cq) { void *tag; bool ok; cq.Next(&tag, &ok); }
void polls_queue(grpc::CompletionQueue &cq) {
  void *tag; bool ok;
  cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now());
}
void waits_on_queue(grpc::CompletionQueue &cq) {
  void *tag; bool ok;
  cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 1s);
}
void server_wait(grpc::Server &server) { server.Wait(); }
void user_flush() { app::Flush(); }
void user_pop(app::Fifo &q) { q.Pop(); }
)cpp";

TEST(CallbackThreadsTest, ClassifiesBlockingCalls) {
  auto AST = test::parse(BlockingSnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  struct Case {
    const char *Fn, *Callee;
    std::optional<BlockingKind> Kind;
  };
  const Case Cases[] = {
      {"sleeps", "sleep_for", BlockingKind::Sleep},
      {"sleeps_zero", "sleep_for", std::nullopt},
      {"waits", "wait", BlockingKind::Signal},
      {"waits_with_timeout", "wait_for", BlockingKind::Signal},
      {"polls_cv", "wait_for", std::nullopt},
      {"gets", "get", BlockingKind::Signal},
      {"waits_on_future", "wait", BlockingKind::Signal},
      {"polls_future", "wait_for", std::nullopt},
      {"gets_when_ready", "get", std::nullopt},
      {"joins", "join", BlockingKind::Join},
      {"locks", "lock", std::nullopt},
      {"try_locks", "try_lock", std::nullopt},
      {"sync_read", "Read", BlockingKind::Rpc},
      {"async_start", "PrepareAsyncUnary", std::nullopt},
      {"next", "Next", BlockingKind::Poll},
      {"polls_queue", "AsyncNext", std::nullopt},
      {"waits_on_queue", "AsyncNext", BlockingKind::Poll},
      {"server_wait", "Wait", BlockingKind::Server},
      {"user_flush", "Flush", std::nullopt},
  };
  for (const Case &C : Cases) {
    const CallExpr *Call = callIn(Ctx, C.Fn, C.Callee);
    ASSERT_TRUE(Call) << C.Fn;
    std::optional<BlockingCall> Found = classifyBlockingCall(*Call, Ctx);
    ASSERT_EQ(Found.has_value(), C.Kind.has_value()) << C.Fn;
    if (Found)
      EXPECT_EQ(Found->Kind, *C.Kind) << C.Fn;
  }

  // A synchronous RPC: named after the stub's method.
  const CallExpr *Unary = callIn(Ctx, "sync_unary", "Unary");
  ASSERT_TRUE(Unary);
  std::optional<BlockingCall> Rpc = classifyBlockingCall(*Unary, Ctx);
  ASSERT_TRUE(Rpc);
  EXPECT_TRUE(Rpc->SyncRpc);
  EXPECT_EQ(Rpc->Kind, BlockingKind::Rpc);
  EXPECT_EQ(Rpc->Callee->getName(), "Unary");

  // The user's own: a free function by qualified name, a method through a
  // derived class, a bare name.
  const std::string Extra[] = {"::app::Flush", "::app::Queue::Pop"};
  std::optional<BlockingCall> Flush =
      classifyBlockingCall(*callIn(Ctx, "user_flush", "Flush"), Ctx, Extra);
  ASSERT_TRUE(Flush);
  EXPECT_EQ(Flush->Kind, BlockingKind::User);
  EXPECT_TRUE(classifyBlockingCall(*callIn(Ctx, "user_pop", "Pop"), Ctx, Extra));
  const std::string Bare[] = {"Pop"};
  EXPECT_TRUE(classifyBlockingCall(*callIn(Ctx, "user_pop", "Pop"), Ctx, Bare));
  const std::string Other[] = {"::other::Flush"};
  EXPECT_FALSE(
      classifyBlockingCall(*callIn(Ctx, "user_flush", "Flush"), Ctx, Other));
}

const char *const EntrySnippet = R"cpp(
#include <chrono>
#include <functional>
#include <thread>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

void Block() { std::this_thread::sleep_for(std::chrono::seconds(1)); }
void BlockDeep() { Block(); }
void BlockDeeper() { BlockDeep(); }
void BlockDeepest() { BlockDeeper(); }

class Reader : public grpc::ServerReadReactor<demo::Req> {
 public:
  Reader() {}
  void OnReadDone(bool ok) override { in_reaction(); }
  void OnDone() override { through_helper(); }
  void OnCancel() override { through_thread(); }
  void in_reaction() { std::this_thread::sleep_for(std::chrono::seconds(1)); }
  void through_helper() { Block(); }
  void through_thread() {
    std::thread([] { std::this_thread::sleep_for(std::chrono::seconds(2)); }).detach();
  }
};

class Writer : public grpc::ServerWriteReactor<demo::Resp> {
 public:
  Writer() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }
  void OnDone() override { BlockDeepest(); }
  void OnWriteDone(bool) override {
    auto inline_lambda = [] { std::this_thread::sleep_for(std::chrono::milliseconds(4)); };
    inline_lambda();
  }
};

class Service : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx,
                                  const demo::Req *, demo::Resp *) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto *r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerWriteReactor<demo::Resp> *ServerStream(
      grpc::CallbackServerContext *, const demo::Req *) override {
    return new Writer();
  }
};

class SyncService : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *,
                     demo::Resp *) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(6));
    return grpc::Status::OK;
  }
};

void completion(demo::Demo::Stub *stub, grpc::ClientContext *ctx,
                const demo::Req *req, demo::Resp *resp) {
  stub->async()->Unary(ctx, req, resp, [](grpc::Status) {
    std::this_thread::sleep_for(std::chrono::milliseconds(7));
  });
}
void named_completion(demo::Demo::Stub *stub, grpc::ClientContext *ctx,
                      const demo::Req *req, demo::Resp *resp) {
  auto done = [](grpc::Status) {
    std::this_thread::sleep_for(std::chrono::milliseconds(8));
  };
  stub->async()->Unary(ctx, req, resp, done);
}
void alarm_callback(grpc::Alarm &alarm) {
  alarm.Set(std::chrono::system_clock::now(), [](bool) {
    std::this_thread::sleep_for(std::chrono::milliseconds(9));
  });
}
int main() { Block(); }
)cpp";

/// The sleep_for call whose argument is the integer literal \p Millis.
const CallExpr *sleepOf(ASTContext &Ctx, unsigned Millis) {
  for (const BoundNodes &N :
       match(callExpr(callee(functionDecl(hasName("sleep_for"))),
                      isExpansionInMainFile())
                 .bind("c"),
             Ctx)) {
    const auto *Call = N.getNodeAs<CallExpr>("c");
    const Expr *Value = stripValue(Call->getArg(0));
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Value))
      if (Construct->getNumArgs() == 1)
        Value = stripValue(Construct->getArg(0));
    if (const auto *Lit = llvm::dyn_cast<IntegerLiteral>(Value))
      if (Lit->getValue() == Millis)
        return Call;
  }
  ADD_FAILURE() << "no sleep_for(" << Millis << ")";
  return nullptr;
}

TEST(CallbackThreadsTest, FindsTheCallbackEntry) {
  auto AST = test::parse(EntrySnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  CallbackThreadAnalysis Analysis(Ctx, CallbackThreadOptions{});

  // Directly in a reaction: no hops.
  const CallExpr *InReaction = callIn(Ctx, "in_reaction", "sleep_for");
  ASSERT_TRUE(InReaction);
  std::optional<CallbackPath> Path = Analysis.find(*InReaction);
  ASSERT_TRUE(Path);
  EXPECT_EQ(Path->Entry.Kind, CallbackEntryKind::Reaction);
  EXPECT_EQ(Path->Entry.Function->getName(), "OnReadDone");
  EXPECT_EQ(Path->Hops.size(), 1u); // in_reaction() is called by OnReadDone

  // Through a helper of the TU: the hop is the call in OnDone (the shortest
  // way: Block() is also reached from main and from BlockDeep).
  const CallExpr *InHelper = callIn(Ctx, "Block", "sleep_for");
  Path = Analysis.find(*InHelper);
  ASSERT_TRUE(Path);
  EXPECT_EQ(Path->Entry.Kind, CallbackEntryKind::Reaction);
  ASSERT_EQ(Path->Hops.size(), 2u);
  EXPECT_EQ(llvm::cast<CallExpr>(Path->Hops[0])->getDirectCallee()->getName(),
            "Block");
  EXPECT_EQ(Path->Entry.Function->getName(), "OnDone");

  // Handed to a thread: never on the callback thread.
  EXPECT_FALSE(Analysis.find(*sleepOf(Ctx, 2)));

  // A reactor's constructor, run by the handler that makes it.
  Path = Analysis.find(*sleepOf(Ctx, 3));
  ASSERT_TRUE(Path);
  EXPECT_EQ(Path->Entry.Kind, CallbackEntryKind::Handler);
  ASSERT_EQ(Path->Hops.size(), 1u);
  EXPECT_TRUE(llvm::isa<CXXConstructExpr>(Path->Hops[0]));

  // A lambda called right there, in the reaction.
  Path = Analysis.find(*sleepOf(Ctx, 4));
  ASSERT_TRUE(Path);
  EXPECT_EQ(Path->Entry.Function->getName(), "OnWriteDone");

  // A callback handler's own body; a synchronous handler is not one.
  Path = Analysis.find(*sleepOf(Ctx, 5));
  ASSERT_TRUE(Path);
  EXPECT_EQ(Path->Entry.Kind, CallbackEntryKind::Handler);
  EXPECT_TRUE(Path->Hops.empty());
  EXPECT_FALSE(Analysis.find(*sleepOf(Ctx, 6)));

  // Completion callbacks: inline, through a variable, an alarm's.
  for (unsigned Millis : {7u, 8u, 9u}) {
    Path = Analysis.find(*sleepOf(Ctx, Millis));
    ASSERT_TRUE(Path) << Millis;
    EXPECT_EQ(Path->Entry.Kind, CallbackEntryKind::Completion) << Millis;
    ASSERT_TRUE(Path->Entry.TakenBy);
    EXPECT_EQ(Path->Entry.TakenBy->getDirectCallee()->getName(),
              Millis == 9 ? "Set" : "Unary");
  }
}

TEST(CallbackThreadsTest, DepthAndOptions) {
  auto AST = test::parse(EntrySnippet);
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  const CallExpr *InHelper = callIn(Ctx, "Block", "sleep_for");

  // Reader::OnDone -> through_helper -> Block: two calls (Writer::OnDone
  // -> BlockDeepest -> BlockDeeper -> BlockDeep -> Block: four).
  CallbackThreadOptions Shallow;
  Shallow.CallDepth = 1;
  EXPECT_FALSE(CallbackThreadAnalysis(Ctx, Shallow).find(*InHelper));
  Shallow.CallDepth = 2;
  EXPECT_TRUE(CallbackThreadAnalysis(Ctx, Shallow).find(*InHelper));

  CallbackThreadOptions NoHandlers;
  NoHandlers.Handlers = false;
  EXPECT_FALSE(CallbackThreadAnalysis(Ctx, NoHandlers).find(*sleepOf(Ctx, 5)));
  CallbackThreadOptions NoCompletions;
  NoCompletions.Completions = false;
  EXPECT_FALSE(
      CallbackThreadAnalysis(Ctx, NoCompletions).find(*sleepOf(Ctx, 7)));
  CallbackThreadOptions NoReactions;
  NoReactions.Reactions = false;
  EXPECT_FALSE(CallbackThreadAnalysis(Ctx, NoReactions)
                   .find(*callIn(Ctx, "in_reaction", "sleep_for")));
}

TEST(CallbackThreadsTest, NonBlockingTimeouts) {
  auto AST = test::parse(R"cpp(
#include <chrono>
#include <grpc/support/time.h>
using namespace std::chrono_literals;
void takes(...);
void cases() {
  takes(0ms, std::chrono::seconds(0), std::chrono::milliseconds::zero(), 0,
        std::chrono::system_clock::now(), gpr_time_0(GPR_CLOCK_REALTIME),
        gpr_time_from_millis(0, GPR_TIMESPAN));
  takes(1ms, std::chrono::milliseconds(500), 3, std::chrono::steady_clock::now() + 1s,
        gpr_time_from_millis(500, GPR_TIMESPAN));
}
)cpp");
  ASSERT_TRUE(AST);
  ASTContext &Ctx = AST->getASTContext();
  auto Calls = match(callExpr(callee(functionDecl(hasName("takes")))).bind("c"), Ctx);
  ASSERT_EQ(Calls.size(), 2u);
  const auto *Zero = Calls[0].getNodeAs<CallExpr>("c");
  const auto *Bounded = Calls[1].getNodeAs<CallExpr>("c");
  if (Ctx.getSourceManager().isBeforeInTranslationUnit(Bounded->getBeginLoc(),
                                                       Zero->getBeginLoc()))
    std::swap(Zero, Bounded);
  for (const Expr *Arg : Zero->arguments())
    EXPECT_TRUE(isNonBlockingTimeout(Arg, Ctx));
  for (const Expr *Arg : Bounded->arguments())
    EXPECT_FALSE(isNonBlockingTimeout(Arg, Ctx));
}

} // namespace
} // namespace grpcleak
