//===- ObjectProtocolTest.cpp - Servers and queues of lib/ObjectProtocol --===//
//
// Each snippet holds one small function (or class) per case, named after
// the answer the analysis must give; the tests look up the variable, call
// or return statement of a case by its function's name and assert the
// concrete result: which declaration holds a server, whether a path exists,
// and which return statement it leaves by.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "gtest/gtest.h"
#include <algorithm>

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

/// Forgets the per-TU caches of lib/ when a test's AST goes away, so that a
/// later AST allocated at the same address does not see them.
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

/// The local variable \p Var of function \p Fn.
const VarDecl *localIn(ASTContext &Ctx, llvm::StringRef Fn, llvm::StringRef Var) {
  auto Found = match(varDecl(hasName(Var), hasAncestor(functionDecl(hasName(Fn))))
                         .bind("v"),
                     Ctx);
  EXPECT_EQ(Found.size(), 1u) << Fn.str() << ": " << Var.str();
  return Found.size() == 1 ? Found[0].getNodeAs<VarDecl>("v") : nullptr;
}

/// The field \p Field of class \p Class.
const FieldDecl *fieldIn(ASTContext &Ctx, llvm::StringRef Class,
                         llvm::StringRef Field) {
  auto Found = match(
      fieldDecl(hasName(Field), hasParent(cxxRecordDecl(hasName(Class)))).bind("f"),
      Ctx);
  EXPECT_EQ(Found.size(), 1u) << Class.str() << "::" << Field.str();
  return Found.size() == 1 ? Found[0].getNodeAs<FieldDecl>("f") : nullptr;
}

/// The calls of a function or method named \p Callee made in \p Fn, in
/// source order.
std::vector<const CallExpr *> callsIn(ASTContext &Ctx, llvm::StringRef Fn,
                                      llvm::StringRef Callee) {
  std::vector<const CallExpr *> Calls;
  for (const BoundNodes &N :
       match(callExpr(callee(functionDecl(hasName(Callee))),
                      hasAncestor(functionDecl(hasName(Fn))))
                 .bind("c"),
             Ctx))
    Calls.push_back(N.getNodeAs<CallExpr>("c"));
  std::sort(Calls.begin(), Calls.end(), [&](const CallExpr *A, const CallExpr *B) {
    return Ctx.getSourceManager().isBeforeInTranslationUnit(A->getBeginLoc(),
                                                            B->getBeginLoc());
  });
  return Calls;
}

/// The one call of \p Callee in \p Fn.
const CallExpr *callIn(ASTContext &Ctx, llvm::StringRef Fn, llvm::StringRef Callee) {
  std::vector<const CallExpr *> Calls = callsIn(Ctx, Fn, Callee);
  EXPECT_EQ(Calls.size(), 1u) << Fn.str() << ": " << Callee.str();
  return Calls.size() == 1 ? Calls[0] : nullptr;
}

/// The statement `return Value;` of \p Fn.
const ReturnStmt *returnIn(ASTContext &Ctx, llvm::StringRef Fn, unsigned Value) {
  auto Found = match(returnStmt(hasReturnValue(ignoringParenImpCasts(
                                    integerLiteral(equals(Value)))),
                                hasAncestor(functionDecl(hasName(Fn))))
                         .bind("r"),
                     Ctx);
  EXPECT_EQ(Found.size(), 1u) << Fn.str() << ": return " << Value;
  return Found.size() == 1 ? Found[0].getNodeAs<ReturnStmt>("r") : nullptr;
}

/// Expects \p Path to be a path to the function's exit leaving by the
/// statement \p Return (null: falling off the end of the body).
void expectLeavesBy(const std::optional<FlowPath> &Path, const ReturnStmt *Return,
                    llvm::StringRef Case) {
  ASSERT_TRUE(Path.has_value()) << Case.str();
  EXPECT_EQ(Path->ExitReturn, Return) << Case.str();
  EXPECT_EQ(Path->ViolatedAt, nullptr) << Case.str();
  EXPECT_FALSE(Path->Blocks.empty()) << Case.str();
}

const FunctionFlow *flowAround(const Stmt &S, ASTContext &Ctx) {
  const FunctionDecl *FD = enclosingCallable(S, Ctx);
  EXPECT_NE(FD, nullptr);
  const FunctionFlow *Flow = FD ? FlowCache::get(*FD, Ctx) : nullptr;
  EXPECT_NE(Flow, nullptr);
  return Flow;
}

/// True if some statement of \p Fn satisfies \p Pred.
bool anyStatementIn(ASTContext &Ctx, llvm::StringRef Fn,
                    llvm::function_ref<bool(const Stmt &)> Pred) {
  const FunctionDecl *FD = test::functionNamed(Ctx, Fn);
  EXPECT_NE(FD, nullptr) << Fn.str();
  return FD && anyStatement(FD->getBody(), Pred);
}

/// True if \p Pred holds for some statement of \p Fn and its local \p Var.
bool anyStatementOn(ASTContext &Ctx, llvm::StringRef Fn, llvm::StringRef Var,
                    bool (*Pred)(const Stmt &, const ValueDecl &)) {
  const VarDecl *Local = localIn(Ctx, Fn, Var);
  return Local &&
         anyStatementIn(Ctx, Fn, [&](const Stmt &S) { return Pred(S, *Local); });
}

/// Expects \p Pred to hold on the local \p Var for some statement of each
/// function of \p Holds, and for no statement of any function of \p Fails.
void expectOnLocal(ASTContext &Ctx, llvm::StringRef Var,
                   bool (*Pred)(const Stmt &, const ValueDecl &),
                   std::initializer_list<llvm::StringRef> Holds,
                   std::initializer_list<llvm::StringRef> Fails) {
  for (llvm::StringRef Fn : Holds)
    EXPECT_TRUE(anyStatementOn(Ctx, Fn, Var, Pred)) << Fn.str();
  for (llvm::StringRef Fn : Fails)
    EXPECT_FALSE(anyStatementOn(Ctx, Fn, Var, Pred)) << Fn.str();
}

//===--- grpc::Server -----------------------------------------------------===//

const char *const ServerHeader = R"cpp(
#include <grpcpp/grpcpp.h>
#include <memory>
using Clock = std::chrono::system_clock;
std::unique_ptr<grpc::Server> g_server;
void Take(std::unique_ptr<grpc::Server> s);
)cpp";

TEST(ServerProtocol, StartedServerHolder) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
void InitLocal(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); }
void InitShared(grpc::ServerBuilder &b) { std::shared_ptr<grpc::Server> s = b.BuildAndStart(); }
void AssignLocal(grpc::ServerBuilder &b) {
  std::unique_ptr<grpc::Server> s;
  s = b.BuildAndStart();
}
struct Host {
  void Start(grpc::ServerBuilder &b) { server_ = b.BuildAndStart(); }
  std::unique_ptr<grpc::Server> server_;
};
void AssignGlobal(grpc::ServerBuilder &b) { g_server = b.BuildAndStart(); }
std::unique_ptr<grpc::Server> Returned(grpc::ServerBuilder &b) { return b.BuildAndStart(); }
void Passed(grpc::ServerBuilder &b) { Take(b.BuildAndStart()); }
void Released(grpc::ServerBuilder &b) { grpc::Server *raw = b.BuildAndStart().release(); }
void Compared(grpc::ServerBuilder &b) { bool ok = b.BuildAndStart() != nullptr; }
void Discarded(grpc::ServerBuilder &b) { b.BuildAndStart(); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto HolderIn = [&](llvm::StringRef Fn) -> const ValueDecl * {
    const CallExpr *Start = callIn(Ctx, Fn, "BuildAndStart");
    if (!Start)
      return nullptr;
    EXPECT_TRUE(isBuildAndStart(*Start));
    return startedServerHolder(*Start, Ctx);
  };
  EXPECT_EQ(HolderIn("InitLocal"), localIn(Ctx, "InitLocal", "s"));
  EXPECT_EQ(HolderIn("InitShared"), localIn(Ctx, "InitShared", "s"));
  EXPECT_EQ(HolderIn("AssignLocal"), localIn(Ctx, "AssignLocal", "s"));
  const ValueDecl *Member = HolderIn("Host::Start");
  EXPECT_EQ(Member, fieldIn(Ctx, "Host", "server_"));
  EXPECT_TRUE(llvm::isa_and_nonnull<FieldDecl>(Member));
  const ValueDecl *Global = HolderIn("AssignGlobal");
  ASSERT_NE(Global, nullptr);
  EXPECT_EQ(Global->getName(), "g_server");
  // Handed on, or not held at all.
  for (llvm::StringRef Fn : {"Returned", "Passed", "Released", "Compared", "Discarded"})
    EXPECT_EQ(HolderIn(Fn), nullptr) << Fn.str();
}

TEST(ServerProtocol, ReleasesServer) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
struct Holder { std::unique_ptr<grpc::Server> s_; };
void Shut(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); s->Shutdown(Clock::now()); }
void ShutNoDeadline(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); s->Shutdown(); }
void Waits(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); s->Wait(); }
void ReleasedRaw(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); delete s.release(); }
void MovedToGlobal(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); g_server = std::move(s); }
void MovedToMember(grpc::ServerBuilder &b, Holder &h) { auto s = b.BuildAndStart(); h.s_ = std::move(s); }
void PassedOn(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); Take(std::move(s)); }
std::unique_ptr<grpc::Server> ReturnedVar(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); return std::move(s); }
void Captured(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); auto f = [&s] {}; }
void Thrown(grpc::ServerBuilder &b) { auto s = b.BuildAndStart(); throw 1; }

void UsedOnly(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  s->GetHealthCheckService();
  grpc::Server &r = *s;
  bool none = s == nullptr;
  bool some = s != nullptr;
  grpc::Server *raw = s.get();
  if (!s) return;
}
void Reassigned(grpc::ServerBuilder &b) { std::unique_ptr<grpc::Server> s; s = b.BuildAndStart(); }
void OtherServerShut(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  g_server->Shutdown();
  g_server->Wait();
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  expectOnLocal(Ctx, "s", releasesServer,
                {"Shut", "ShutNoDeadline", "Waits", "ReleasedRaw", "MovedToGlobal",
                 "MovedToMember", "PassedOn", "ReturnedVar", "Captured", "Thrown"},
                {"UsedOnly", "Reassigned", "OtherServerShut"});
}

TEST(ServerProtocol, ReleasesServerThroughARawPointerStore) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
grpc::Server *g_raw;
void Stored(grpc::Server *s) { g_raw = s; }
void Read(grpc::Server *s) { grpc::Server *copy = g_raw; }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  for (auto [Fn, Expected] : {std::pair<llvm::StringRef, bool>{"Stored", true},
                              {"Read", false}}) {
    const ParmVarDecl *S = test::functionNamed(Ctx, Fn)->getParamDecl(0);
    EXPECT_EQ(anyStatementIn(Ctx, Fn,
                             [&](const Stmt &St) { return releasesServer(St, *S); }),
              Expected)
        << Fn.str();
  }
}

// Known gap, pinned so that a fix shows up here: `return s;` hands the server
// to the caller by an implicit move, but the return value is a
// CXXConstructExpr (the move constructor) that namesObject() does not look
// through, and no call receives `s`. So the return is not a release, and
// grpc-leak-server-shutdown reports a server returned by name (`return
// std::move(s);` is seen: std::move is a call that receives it).
TEST(ServerProtocol, ReturnByNameIsARelease) {
  // `return s;` moves the local out implicitly (a move construction, or a
  // conversion to unique_ptr<ServerInterface>): the caller owns the server.
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
std::unique_ptr<grpc::Server> ByName(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  return s;
}
std::unique_ptr<grpc::ServerInterface> ByNameConverted(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  return s;
}
std::unique_ptr<grpc::Server> Other(grpc::ServerBuilder &b,
                                    std::unique_ptr<grpc::Server> t) {
  auto s = b.BuildAndStart();
  return t;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  for (llvm::StringRef Fn : {"ByName", "ByNameConverted"}) {
    const VarDecl *S = localIn(Ctx, Fn, "s");
    const CallExpr *Start = callIn(Ctx, Fn, "BuildAndStart");
    ASSERT_TRUE(S && Start) << Fn.str();
    EXPECT_TRUE(anyStatementOn(Ctx, Fn, "s", releasesServer)) << Fn.str();
    EXPECT_FALSE(findUnshutServerPath(*flowAround(*Start, Ctx), *Start, *S))
        << Fn.str();
  }
  // Returning another server leaves this one to die at the return.
  const VarDecl *S = localIn(Ctx, "Other", "s");
  const CallExpr *Start = callIn(Ctx, "Other", "BuildAndStart");
  ASSERT_TRUE(S && Start);
  auto Returns = match(
      returnStmt(hasAncestor(functionDecl(hasName("Other")))).bind("r"), Ctx);
  ASSERT_EQ(Returns.size(), 1u);
  expectLeavesBy(findUnshutServerPath(*flowAround(*Start, Ctx), *Start, *S),
                 Returns[0].getNodeAs<ReturnStmt>("r"), "Other");
}

TEST(ServerProtocol, FailureBranchOfAServerTest) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
void Conds(grpc::ServerBuilder &b, int port) {
  auto s = b.BuildAndStart();
  if (!s) {}
  if (s == nullptr) {}
  if (nullptr == s) {}
  if (s != nullptr) {}
  if (s) {}
  if (!s || port == 0) {}
  if (port == 0 || !s) {}
  if ((!s)) {}
  if (port == 0) {}
  if (s && port) {}
  if (!g_server) {}
  if (s || port) {}
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  const VarDecl *S = localIn(Ctx, "Conds", "s");
  ASSERT_NE(S, nullptr);
  std::vector<const Expr *> Conds;
  for (const BoundNodes &N : match(ifStmt(hasAncestor(functionDecl(hasName("Conds")))).bind("if"), Ctx))
    Conds.push_back(N.getNodeAs<IfStmt>("if")->getCond());
  std::sort(Conds.begin(), Conds.end(), [&](const Expr *A, const Expr *B) {
    return Ctx.getSourceManager().isBeforeInTranslationUnit(A->getBeginLoc(),
                                                            B->getBeginLoc());
  });
  const std::vector<std::optional<bool>> Expected = {
      true,  // !s
      true,  // s == nullptr
      true,  // nullptr == s
      false, // s != nullptr
      false, // s
      true,  // !s || port == 0
      true,  // port == 0 || !s
      true,  // (!s)
      std::nullopt, // port == 0
      std::nullopt, // s && port: not a failure test
      std::nullopt, // another server
      std::nullopt, // s || port: only a failure test inside || counts
  };
  ASSERT_EQ(Conds.size(), Expected.size());
  for (size_t I = 0; I < Conds.size(); ++I)
    EXPECT_EQ(serverFailureBranchIsTrue(Conds[I], *S), Expected[I])
        << "condition " << I;
  EXPECT_EQ(serverFailureBranchIsTrue(nullptr, *S), std::nullopt);
}

TEST(ServerProtocol, ClassMayShutDownServer) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
struct ShutInDestructor {
  ~ShutInDestructor() { server_->Shutdown(Clock::now()); }
  std::unique_ptr<grpc::Server> server_;
};
struct ShutInStop {
  void Stop() { server_->Shutdown(); }
  std::unique_ptr<grpc::Server> server_;
};
struct WaitsInRun {
  void Run() { server_->Wait(); }
  std::unique_ptr<grpc::Server> server_;
};
struct HandsOn {
  void Give() { g_server = std::move(server_); }
  std::unique_ptr<grpc::Server> server_;
};
struct DefinedElsewhere {
  void Stop();
  std::unique_ptr<grpc::Server> server_;
};
struct NeverShut {
  void Start(grpc::ServerBuilder &b) { server_ = b.BuildAndStart(); }
  void Use() { server_->GetHealthCheckService(); }
  std::unique_ptr<grpc::Server> server_;
};
struct ShutsTheOther {
  ~ShutsTheOther() { other_->Shutdown(); }
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> other_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  for (llvm::StringRef Class :
       {"ShutInDestructor", "ShutInStop", "WaitsInRun", "HandsOn", "DefinedElsewhere"})
    EXPECT_TRUE(classMayShutDownServer(*fieldIn(Ctx, Class, "server_"))) << Class.str();
  for (llvm::StringRef Class : {"NeverShut", "ShutsTheOther"})
    EXPECT_FALSE(classMayShutDownServer(*fieldIn(Ctx, Class, "server_"))) << Class.str();
  EXPECT_TRUE(classMayShutDownServer(*fieldIn(Ctx, "ShutsTheOther", "other_")));
}

TEST(ServerProtocol, FindUnshutServerPath) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
struct Owner { std::unique_ptr<grpc::Server> server_; };
int ShutEverywhere(grpc::ServerBuilder &b, bool fast) {
  auto s = b.BuildAndStart();
  if (fast) { s->Shutdown(Clock::now()); return 1; }
  s->Shutdown(Clock::now());
  return 2;
}
int EarlyReturn(grpc::ServerBuilder &b, bool dry_run) {
  auto s = b.BuildAndStart();
  if (dry_run) return 7;
  s->Wait();
  return 8;
}
void OneBranchFallsOff(grpc::ServerBuilder &b, bool stop) {
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (stop) s->Shutdown();
}
// The whole `||` is taken for the failure test: the route by `port == 0`,
// with a live server, is pruned too (precision first).
int FailurePruned(grpc::ServerBuilder &b, int port) {
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (!s || port == 0) return 1;
  s->Wait();
  return 0;
}
int FailurePrunedIfServer(grpc::ServerBuilder &b) {
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (s) { s->Wait(); return 0; }
  return 1;
}
int NotAFailureTest(grpc::ServerBuilder &b, int port) {
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (port == 0) return 3;
  s->Wait();
  return 0;
}
int FailureThenForgotten(grpc::ServerBuilder &b) {
  std::unique_ptr<grpc::Server> s = b.BuildAndStart();
  if (!s) return 1;
  return 4;
}
void MovedToMember(grpc::ServerBuilder &b, Owner &o) {
  auto s = b.BuildAndStart();
  o.server_ = std::move(s);
}
std::unique_ptr<grpc::Server> Returned(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  return std::move(s);
}
void HandedToThread(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
  auto stop = [&s] { s->Shutdown(); };
  stop();
}
void StaticLocal(grpc::ServerBuilder &b) {
  static std::unique_ptr<grpc::Server> s = b.BuildAndStart();
}
void NeverShut(grpc::ServerBuilder &b) {
  auto s = b.BuildAndStart();
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto PathIn = [&](llvm::StringRef Fn) -> std::optional<FlowPath> {
    const CallExpr *Start = callIn(Ctx, Fn, "BuildAndStart");
    const VarDecl *S = localIn(Ctx, Fn, "s");
    if (!Start || !S)
      return std::nullopt;
    const FunctionFlow *Flow = flowAround(*Start, Ctx);
    if (!Flow)
      return std::nullopt;
    EXPECT_EQ(startedServerHolder(*Start, Ctx), S) << Fn.str();
    return findUnshutServerPath(*Flow, *Start, *S);
  };

  for (llvm::StringRef Fn :
       {"ShutEverywhere", "FailurePruned", "FailurePrunedIfServer",
        "MovedToMember", "Returned", "HandedToThread", "StaticLocal"})
    EXPECT_FALSE(PathIn(Fn).has_value()) << Fn.str();

  // Left by the early return, not by the one after Wait().
  expectLeavesBy(PathIn("EarlyReturn"), returnIn(Ctx, "EarlyReturn", 7),
                 "EarlyReturn");
  // Shutdown() on one branch only: the other falls off the end.
  expectLeavesBy(PathIn("OneBranchFallsOff"), nullptr, "OneBranchFallsOff");
  // A test that is not of the server does not prune.
  expectLeavesBy(PathIn("NotAFailureTest"), returnIn(Ctx, "NotAFailureTest", 3),
                 "NotAFailureTest");
  // Only the failure branch is pruned: the success branch is still judged.
  expectLeavesBy(PathIn("FailureThenForgotten"),
                 returnIn(Ctx, "FailureThenForgotten", 4), "FailureThenForgotten");
  expectLeavesBy(PathIn("NeverShut"), nullptr, "NeverShut");
}

TEST(ServerProtocol, BlockingCallInSignalHandler) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
#include <csignal>
grpc::CompletionQueue g_queue;
static void StopServer() { g_server->Shutdown(Clock::now()); }
static void Middle() { StopServer(); }
void TwoDown(int) { Middle(); }
void Direct(int) { void *t; bool ok; g_queue.Next(&t, &ok); }
void WaitsForServer(int) { g_server->Wait(); }
volatile std::sig_atomic_t g_stop = 0;
void SetsFlag(int) { g_stop = 1; }
void Recursive(int n) { if (n) Recursive(n - 1); }
void External();
void CallsExternal(int) { External(); }
void CoreShutdown(int) { grpc_shutdown(); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Blocking = [&](llvm::StringRef Handler, unsigned Depth) {
    const FunctionDecl *FD = test::functionNamed(Ctx, Handler);
    EXPECT_NE(FD, nullptr) << Handler.str();
    return FD ? blockingCallInSignalHandler(*FD, Depth) : nullptr;
  };
  const CallExpr *Shutdown = callIn(Ctx, "StopServer", "Shutdown");
  ASSERT_NE(Shutdown, nullptr);
  EXPECT_TRUE(isBlockingGrpcCall(*Shutdown));
  EXPECT_EQ(Blocking("TwoDown", 3), Shutdown);
  EXPECT_EQ(Blocking("TwoDown", 2), Shutdown);
  EXPECT_EQ(Blocking("TwoDown", 1), nullptr); // StopServer is two calls down
  EXPECT_EQ(Blocking("Direct", 0), callIn(Ctx, "Direct", "Next"));
  EXPECT_EQ(Blocking("WaitsForServer", 0), callIn(Ctx, "WaitsForServer", "Wait"));
  EXPECT_EQ(Blocking("CoreShutdown", 0), callIn(Ctx, "CoreShutdown", "grpc_shutdown"));
  EXPECT_EQ(Blocking("SetsFlag", 3), nullptr);
  EXPECT_EQ(Blocking("Recursive", 3), nullptr);
  EXPECT_EQ(Blocking("CallsExternal", 3), nullptr);
  EXPECT_FALSE(isBlockingGrpcCall(*callIn(Ctx, "Middle", "StopServer")));
}

//===--- grpc::CompletionQueue --------------------------------------------===//

const char *const QueueHeader = R"cpp(
#include <grpcpp/grpcpp.h>
#include <memory>
#include <thread>
#include "demo.grpc.pb.h"
using Clock = std::chrono::system_clock;
static void Drain(grpc::CompletionQueue *cq) {
  void *tag; bool ok;
  while (cq->Next(&tag, &ok)) {}
}
static void ShutdownAndDrain(grpc::CompletionQueue &cq) {
  cq.Shutdown();
  Drain(&cq);
}
)cpp";

TEST(QueueProtocol, OwnedQueueOf) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
grpc::CompletionQueue g_queue;
struct Members {
  void ByValue() { cq_.Shutdown(); }
  void BySmartPointer() { scq_->Shutdown(); }
  void ByPointer() { borrowed_->Shutdown(); }
  void ByReference() { ref_.Shutdown(); }
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ServerCompletionQueue> scq_;
  grpc::CompletionQueue *borrowed_;
  grpc::CompletionQueue &ref_;
};
void Local() { grpc::CompletionQueue cq; cq.Shutdown(); }
void LocalOwned() { auto cq = std::make_unique<grpc::CompletionQueue>(); cq->Shutdown(); }
void LocalPointer(grpc::CompletionQueue &q) { grpc::CompletionQueue *cq = &q; cq->Shutdown(); }
void Parameter(grpc::CompletionQueue &cq) { cq.Shutdown(); }
void Global() { g_queue.Shutdown(); }
struct Pair { grpc::CompletionQueue cq; int n; };
void Binding(Pair &p) { auto &[cq, n] = p; cq.Shutdown(); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Owned = [&](llvm::StringRef Fn, bool *ServerQueue = nullptr) -> const ValueDecl * {
    const auto *Call =
        llvm::dyn_cast_or_null<CXXMemberCallExpr>(callIn(Ctx, Fn, "Shutdown"));
    EXPECT_NE(Call, nullptr) << Fn.str();
    return Call ? ownedQueueOf(*Call, ServerQueue) : nullptr;
  };
  bool ServerQueue = true;
  EXPECT_EQ(Owned("Members::ByValue", &ServerQueue), fieldIn(Ctx, "Members", "cq_"));
  EXPECT_FALSE(ServerQueue);
  EXPECT_EQ(Owned("Members::BySmartPointer", &ServerQueue),
            fieldIn(Ctx, "Members", "scq_"));
  EXPECT_TRUE(ServerQueue);
  EXPECT_EQ(Owned("Local"), localIn(Ctx, "Local", "cq"));
  EXPECT_EQ(Owned("LocalOwned"), localIn(Ctx, "LocalOwned", "cq"));
  // Someone else's queue.
  for (llvm::StringRef Fn : {"Members::ByPointer", "Members::ByReference",
                             "LocalPointer", "Parameter", "Global", "Binding"})
    EXPECT_EQ(Owned(Fn), nullptr) << Fn.str();
}

TEST(QueueProtocol, ShutsDownOrHandsOnQueue) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
void Helper(grpc::CompletionQueue *cq);
void ShutsDown() { grpc::CompletionQueue cq; cq.Shutdown(); }
void ShutsDownOwned() { auto cq = std::make_unique<grpc::CompletionQueue>(); cq->Shutdown(); }
void ToUserHelper() { grpc::CompletionQueue cq; Helper(&cq); }
void ToUserHelperByRef() { grpc::CompletionQueue cq; ShutdownAndDrain(cq); }
void ToStub(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  grpc::CompletionQueue cq;
  demo::Req req;
  auto reader = stub.PrepareAsyncUnary(ctx, req, &cq);
}
void Polled() { grpc::CompletionQueue cq; void *t; bool ok; cq.Next(&t, &ok); }
void OtherShutDown(grpc::CompletionQueue &other) { grpc::CompletionQueue cq; other.Shutdown(); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  expectOnLocal(Ctx, "cq", shutsDownOrHandsOnQueue,
                {"ShutsDown", "ShutsDownOwned", "ToUserHelper", "ToUserHelperByRef"},
                {"ToStub", "Polled", "OtherShutDown"});
}

TEST(QueueProtocol, QueueMayBeShutDown) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
struct ShutInDestructor {
  ~ShutInDestructor() { cq_.Shutdown(); }
  grpc::CompletionQueue cq_;
};
struct ByHelper {
  ~ByHelper() { ShutdownAndDrain(cq_); }
  grpc::CompletionQueue cq_;
};
struct DefinedElsewhere {
  void Stop();
  grpc::CompletionQueue cq_;
};
struct NeverShut {
  void Send(demo::Demo::Stub &stub, grpc::ClientContext *ctx, const demo::Req &req) {
    auto reader = stub.PrepareAsyncUnary(ctx, req, &cq_);
  }
  void Poll() { void *t; bool ok; while (cq_.Next(&t, &ok)) {} }
  grpc::CompletionQueue cq_;
};
void LocalShutInLambda() {
  grpc::CompletionQueue cq;
  std::thread poller([&cq] { void *t; bool ok; while (cq.Next(&t, &ok)) {} });
  auto stop = [&cq] { cq.Shutdown(); };
  stop();
  poller.join();
}
void LocalNeverShut() {
  grpc::CompletionQueue cq;
  void *t; bool ok;
  while (cq.Next(&t, &ok)) {}
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  for (llvm::StringRef Class : {"ShutInDestructor", "ByHelper", "DefinedElsewhere"})
    EXPECT_TRUE(queueMayBeShutDown(*fieldIn(Ctx, Class, "cq_"))) << Class.str();
  EXPECT_FALSE(queueMayBeShutDown(*fieldIn(Ctx, "NeverShut", "cq_")));
  EXPECT_TRUE(queueMayBeShutDown(*localIn(Ctx, "LocalShutInLambda", "cq")));
  EXPECT_FALSE(queueMayBeShutDown(*localIn(Ctx, "LocalNeverShut", "cq")));
}

TEST(QueueProtocol, ServerShutdownAfterItsQueue) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
struct WrongOrder {
  ~WrongOrder() {
    cq_->Shutdown();
    server_->Shutdown(Clock::now());
  }
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};
struct RightOrder {
  ~RightOrder() {
    server_->Shutdown(Clock::now());
    cq_->Shutdown();
    void *t; bool ok;
    while (cq_->Next(&t, &ok)) {}
  }
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Shutdowns = [&](llvm::StringRef Fn, const CallExpr *&Queue,
                       const CallExpr *&Server) {
    Queue = Server = nullptr;
    for (const CallExpr *Call : callsIn(Ctx, Fn, "Shutdown")) {
      if (isQueueCall(*Call, "Shutdown"))
        Queue = Call;
      else if (isServerCall(*Call, "Shutdown"))
        Server = Call;
    }
    EXPECT_NE(Queue, nullptr);
    EXPECT_NE(Server, nullptr);
  };
  const CallExpr *Queue, *Server;
  Shutdowns("WrongOrder::~WrongOrder", Queue, Server);
  ASSERT_TRUE(Queue && Server);
  EXPECT_EQ(serverShutdownAfter(*flowAround(*Queue, Ctx), *Queue), Server);
  Shutdowns("RightOrder::~RightOrder", Queue, Server);
  ASSERT_TRUE(Queue && Server);
  EXPECT_EQ(serverShutdownAfter(*flowAround(*Queue, Ctx), *Queue), nullptr);
}

TEST(QueueProtocol, FindUndrainedQueuePath) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
void Drained() {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  void *t; bool ok;
  while (cq.Next(&t, &ok)) {}
}
void DrainedWithAsyncNext() {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  void *t; bool ok;
  while (cq.AsyncNext(&t, &ok, Clock::now()) != grpc::CompletionQueue::SHUTDOWN) {}
}
void DrainedByHelper() {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  Drain(&cq);
}
void Thrown() {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  throw 1;
}
void NotDrained() {
  grpc::CompletionQueue cq;
  cq.Shutdown();
}
int EarlyReturn(bool fast) {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  if (fast) return 5;
  void *t; bool ok;
  while (cq.Next(&t, &ok)) {}
  return 6;
}
void ShutInALoop(int n) {
  grpc::CompletionQueue cq;
  for (int i = 0; i < n; ++i) cq.Shutdown();
}
struct JoinsPoller {
  ~JoinsPoller() {
    cq_.Shutdown();
    thread_.join();
  }
  grpc::CompletionQueue cq_;
  std::thread thread_;
};
struct DestructorForgets {
  ~DestructorForgets() { cq_->Shutdown(); }
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
};
struct StopOnly {
  void Stop() { cq_.Shutdown(); }
  grpc::CompletionQueue cq_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto PathIn = [&](llvm::StringRef Fn) -> std::optional<FlowPath> {
    const auto *Shutdown =
        llvm::dyn_cast_or_null<CXXMemberCallExpr>(callIn(Ctx, Fn, "Shutdown"));
    if (!Shutdown)
      return std::nullopt;
    const ValueDecl *Queue = ownedQueueOf(*Shutdown);
    EXPECT_NE(Queue, nullptr) << Fn.str();
    const FunctionFlow *Flow = flowAround(*Shutdown, Ctx);
    if (!Queue || !Flow)
      return std::nullopt;
    std::optional<UndrainedQueue> Undrained =
        findUndrainedQueue(*Flow, *Shutdown, *Queue);
    return Undrained ? std::optional<FlowPath>(Undrained->Path) : std::nullopt;
  };
  for (llvm::StringRef Fn :
       {"Drained", "DrainedWithAsyncNext", "DrainedByHelper", "Thrown",
        "JoinsPoller::~JoinsPoller", "StopOnly::Stop"})
    EXPECT_FALSE(PathIn(Fn).has_value()) << Fn.str();

  expectLeavesBy(PathIn("NotDrained"), nullptr, "NotDrained");
  expectLeavesBy(PathIn("EarlyReturn"), returnIn(Ctx, "EarlyReturn", 5),
                 "EarlyReturn");
  // Shut down on every iteration, never drained.
  expectLeavesBy(PathIn("ShutInALoop"), nullptr, "ShutInALoop");
  // A member dies at the end of the destructor.
  expectLeavesBy(PathIn("DestructorForgets::~DestructorForgets"), nullptr,
                 "DestructorForgets");
}


//===--- Queues reached indirectly, polling loops, threads ----------------===//

TEST(QueueProtocol, QueuesReachedThroughPointersParametersAndContainers) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
#include <vector>
struct Server {
  void Start() {
    worker_ = std::thread(&Server::Poll, this, cq_.get());
    for (int i = 0; i < 2; ++i)
      pollers_.emplace_back([this, i] { void *t; bool ok; cqs_[i]->Next(&t, &ok); });
  }
  void Poll(grpc::ServerCompletionQueue *cq) { void *t; bool ok; cq->Next(&t, &ok); }
  void Alias() { auto *cq = cq_.get(); cq->Shutdown(); }
  void Element() { for (auto &cq : cqs_) cq->Shutdown(); }
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::vector<grpc::CompletionQueue *> borrowed_;
  void Borrowed() { borrowed_[0]->Shutdown(); }
  std::thread worker_;
  std::vector<std::thread> pollers_;
};
void Twice(grpc::CompletionQueue *cq) { cq->Shutdown(); }
void CallsTwice(grpc::CompletionQueue &a, grpc::CompletionQueue &b) { Twice(&a); Twice(&b); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Owned = [&](llvm::StringRef Fn, llvm::StringRef Method) -> const ValueDecl * {
    const auto *Call =
        llvm::dyn_cast_or_null<CXXMemberCallExpr>(callIn(Ctx, Fn, Method));
    return Call ? ownedQueueOf(*Call) : nullptr;
  };
  const FieldDecl *Cq = fieldIn(Ctx, "Server", "cq_");
  const FieldDecl *Cqs = fieldIn(Ctx, "Server", "cqs_");
  // A parameter: the queue every launch of the function passes.
  EXPECT_EQ(Owned("Server::Poll", "Next"), Cq);
  // A local pointer initialised from the member; a range-for element.
  EXPECT_EQ(Owned("Server::Alias", "Shutdown"), Cq);
  EXPECT_EQ(Owned("Server::Element", "Shutdown"), Cqs);
  // A container of raw pointers, and a parameter given two queues.
  EXPECT_EQ(Owned("Server::Borrowed", "Shutdown"), nullptr);
  EXPECT_EQ(Owned("Twice", "Shutdown"), nullptr);
  // The threads a member holds run Poll and the lambda.
  const FieldDecl *Worker = fieldIn(Ctx, "Server", "worker_");
  const FieldDecl *Pollers = fieldIn(Ctx, "Server", "pollers_");
  ASSERT_NE(Worker, nullptr);
  ASSERT_NE(Pollers, nullptr);
  auto WorkerRuns = threadFunctions(*Worker);
  ASSERT_EQ(WorkerRuns.size(), 1u);
  EXPECT_EQ(WorkerRuns[0]->getNameAsString(), "Poll");
  auto PollerRuns = threadFunctions(*Pollers);
  ASSERT_EQ(PollerRuns.size(), 1u);
  EXPECT_TRUE(llvm::cast<CXXMethodDecl>(PollerRuns[0])->getParent()->isLambda());
}

TEST(QueueProtocol, HowPollingLoopsEnd) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
#include <atomic>
struct Loops {
  void Drains() { void *t; bool ok; while (cq_.Next(&t, &ok)) {} }
  void DrainsOnStatus() {
    void *t; bool ok;
    while (cq_.AsyncNext(&t, &ok, Clock::now()) != grpc::CompletionQueue::SHUTDOWN) {}
  }
  void DrainsWithBreak() {
    void *t; bool ok;
    while (true) { if (!cq_.Next(&t, &ok)) break; }
  }
  void NeverEnds() { void *t; bool ok; while (true) { GPR_ASSERT(cq_.Next(&t, &ok)); } }
  void EarlyFlag() { void *t; bool ok; while (running_ && cq_.Next(&t, &ok)) {} }
  void EarlyTimed() {
    void *t; bool ok;
    while (running_) {
      auto st = cq_.AsyncNext(&t, &ok, Clock::now());
      if (st == grpc::CompletionQueue::SHUTDOWN) break;
    }
  }
  void EarlyOnFailure() { void *t; bool ok; while (cq_.Next(&t, &ok)) { if (!ok) break; } }
  grpc::CompletionQueue cq_;
  std::atomic<bool> running_{true};
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto PollOf = [&](llvm::StringRef Fn) -> std::optional<QueuePoll> {
    const FunctionDecl *FD = test::functionNamed(Ctx, Fn);
    EXPECT_NE(FD, nullptr) << Fn.str();
    if (!FD)
      return std::nullopt;
    auto Polls = queuePolls(*FD);
    EXPECT_EQ(Polls.size(), 1u) << Fn.str();
    return Polls.size() == 1 ? std::optional<QueuePoll>(Polls[0]) : std::nullopt;
  };
  for (llvm::StringRef Fn : {"Loops::Drains", "Loops::DrainsOnStatus",
                             "Loops::DrainsWithBreak", "Loops::NeverEnds"}) {
    std::optional<QueuePoll> Poll = PollOf(Fn);
    ASSERT_TRUE(Poll.has_value()) << Fn.str();
    EXPECT_FALSE(Poll->LeavesEarly) << Fn.str();
    EXPECT_EQ(Poll->Queue, fieldIn(Ctx, "Loops", "cq_")) << Fn.str();
  }
  for (llvm::StringRef Fn :
       {"Loops::EarlyFlag", "Loops::EarlyTimed", "Loops::EarlyOnFailure"}) {
    std::optional<QueuePoll> Poll = PollOf(Fn);
    ASSERT_TRUE(Poll.has_value()) << Fn.str();
    EXPECT_TRUE(Poll->LeavesEarly) << Fn.str();
    EXPECT_NE(Poll->EarlyExit, nullptr) << Fn.str();
  }
}

TEST(QueueProtocol, JoinsAndDrains) {
  auto AST = test::parse(std::string(QueueHeader) + R"cpp(
#include <atomic>
struct JoinFirst {
  void Start() { t_ = std::thread([this] { void *x; bool ok; while (cq_->Next(&x, &ok)) {} }); }
  void Stop() { t_.join(); cq_->Shutdown(); }
  void StopRight() { cq_->Shutdown(); t_.join(); }
  std::unique_ptr<grpc::CompletionQueue> cq_;
  std::thread t_;
};
struct FlagPoller {
  void Start() {
    t_ = std::thread([this] {
      void *x; bool ok;
      while (running_) cq_->AsyncNext(&x, &ok, Clock::now());
    });
  }
  ~FlagPoller() { running_ = false; cq_->Shutdown(); t_.join(); }
  std::atomic<bool> running_{true};
  std::unique_ptr<grpc::CompletionQueue> cq_;
  std::thread t_;
};
struct StopMethod {
  void Start() {
    t_ = std::thread([this] {
      void *x; bool ok;
      while (running_) cq_->AsyncNext(&x, &ok, Clock::now());
    });
  }
  void Stop() { running_ = false; cq_->Shutdown(); t_.join(); }
  std::atomic<bool> running_{true};
  std::unique_ptr<grpc::CompletionQueue> cq_;
  std::thread t_;
};
bool Timeout(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq; grpc::ClientContext ctx; demo::Req q; demo::Resp p; grpc::Status st;
  auto rpc = stub.AsyncUnary(&ctx, q, &cq);
  rpc->Finish(&p, &st, nullptr);
  void *x; bool ok;
  if (cq.AsyncNext(&x, &ok, Clock::now()) == grpc::CompletionQueue::TIMEOUT) return false;
  return ok;
}
bool TimeoutTaken(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq; grpc::ClientContext ctx; demo::Req q; demo::Resp p; grpc::Status st;
  auto rpc = stub.AsyncUnary(&ctx, q, &cq);
  rpc->Finish(&p, &st, nullptr);
  void *x; bool ok;
  if (cq.AsyncNext(&x, &ok, Clock::now()) == grpc::CompletionQueue::TIMEOUT) {
    ctx.TryCancel(); cq.Next(&x, &ok); return false;
  }
  return ok;
}
bool NothingPending() {
  grpc::CompletionQueue cq;
  void *x; bool ok;
  if (cq.AsyncNext(&x, &ok, Clock::now()) == grpc::CompletionQueue::TIMEOUT) return false;
  return ok;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto JoinOrder = [&](llvm::StringRef Fn) {
    const CallExpr *Join = callIn(Ctx, Fn, "join");
    const FunctionFlow *Flow = Join ? flowAround(*Join, Ctx) : nullptr;
    return Flow ? findJoinBeforeShutdown(*Flow, *Join) : std::nullopt;
  };
  std::optional<JoinBeforeShutdown> Wrong = JoinOrder("JoinFirst::Stop");
  ASSERT_TRUE(Wrong.has_value());
  EXPECT_EQ(Wrong->Poller.Queue, fieldIn(Ctx, "JoinFirst", "cq_"));
  EXPECT_EQ(Wrong->LaterShutdown, callIn(Ctx, "JoinFirst::Stop", "Shutdown"));
  EXPECT_FALSE(JoinOrder("JoinFirst::StopRight").has_value());

  auto Undrained = [&](llvm::StringRef Fn) -> std::optional<UndrainedQueue> {
    const auto *Shutdown =
        llvm::dyn_cast_or_null<CXXMemberCallExpr>(callIn(Ctx, Fn, "Shutdown"));
    const ValueDecl *Queue = Shutdown ? ownedQueueOf(*Shutdown) : nullptr;
    const FunctionFlow *Flow = Shutdown ? flowAround(*Shutdown, Ctx) : nullptr;
    return Queue && Flow ? findUndrainedQueue(*Flow, *Shutdown, *Queue)
                         : std::nullopt;
  };
  // Joining a poller that drains is a drain; one that leaves on a flag is not.
  EXPECT_FALSE(Undrained("JoinFirst::StopRight").has_value());
  std::optional<UndrainedQueue> Flag = Undrained("FlagPoller::~FlagPoller");
  ASSERT_TRUE(Flag.has_value());
  EXPECT_FALSE(Flag->NeverDrained);
  EXPECT_EQ(Flag->Join, callIn(Ctx, "FlagPoller::~FlagPoller", "join"));
  ASSERT_TRUE(Flag->EarlyPoller.has_value());
  // A stop method: the member lives on, and no code of its class drains it.
  std::optional<UndrainedQueue> Stop = Undrained("StopMethod::Stop");
  ASSERT_TRUE(Stop.has_value());
  EXPECT_TRUE(Stop->NeverDrained);

  auto Abandoned = [&](llvm::StringRef Fn) {
    const CallExpr *AsyncNext = callIn(Ctx, Fn, "AsyncNext");
    const FunctionFlow *Flow = AsyncNext ? flowAround(*AsyncNext, Ctx) : nullptr;
    return Flow ? findTimeoutAbandonment(*Flow, *AsyncNext) : std::nullopt;
  };
  std::optional<FlowPath> Lost = Abandoned("Timeout");
  ASSERT_TRUE(Lost.has_value());
  EXPECT_NE(Lost->ExitReturn, nullptr);
  EXPECT_FALSE(Abandoned("TimeoutTaken").has_value());
  EXPECT_FALSE(Abandoned("NothingPending").has_value());
}

TEST(ServerProtocol, LeakedOwnerNeverRunsItsDestructor) {
  auto AST = test::parse(std::string(ServerHeader) + R"cpp(
struct Leaky {
  ~Leaky() { server_->Shutdown(Clock::now()); }
  std::unique_ptr<grpc::Server> server_;
};
Leaky *g_leaky = new Leaky();
struct Deleted {
  ~Deleted() { server_->Shutdown(Clock::now()); }
  std::unique_ptr<grpc::Server> server_;
};
Deleted *g_deleted = new Deleted();
void TearDown() { delete g_deleted; }
struct Stoppable {
  void Stop() { server_->Shutdown(Clock::now()); }
  ~Stoppable() { Stop(); }
  std::unique_ptr<grpc::Server> server_;
};
Stoppable *g_stoppable = new Stoppable();
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  const CXXDestructorDecl *Dtor = nullptr;
  const FieldDecl *Leaky = fieldIn(Ctx, "Leaky", "server_");
  ASSERT_NE(Leaky, nullptr);
  const CXXNewExpr *New = leakedOwnerOf(*Leaky, Dtor);
  ASSERT_NE(New, nullptr);
  ASSERT_NE(Dtor, nullptr);
  EXPECT_EQ(Dtor->getParent()->getName(), "Leaky");
  EXPECT_EQ(leakedOwnerOf(*fieldIn(Ctx, "Deleted", "server_"), Dtor), nullptr);
  // Shut down in a stop method too: not only the destructor.
  EXPECT_EQ(leakedOwnerOf(*fieldIn(Ctx, "Stoppable", "server_"), Dtor), nullptr);
}

} // namespace
} // namespace grpcleak
