//===- StreamProtocolTest.cpp - Finish and half-close of client streams --===//
//
// Role-named stream variables, as in FlowTest.cpp: each is initialised by
// the stub call that starts its stream, and its name gives the answer the
// analysis must give: `unfinished_<exit>_*` (with the way it leaves:
// return, jump, scope, replaced) or `finished_*` for rule (a),
// `unclosed_*` or `closed_*` for rule (b). A role with no variable fails.
// Also the API facts of GrpcApi.def against the installed headers, and the
// two FunctionFlow searches the rules are built on.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/StreamProtocol.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/StringSet.h"
#include "gtest/gtest.h"
#include <functional>

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

class ForgetCaches {
public:
  explicit ForgetCaches(ASTContext &Ctx) : Ctx(Ctx) {}
  ~ForgetCaches() {
    FlowCache::clear(Ctx);
    clearParentIndex(Ctx);
  }

private:
  ASTContext &Ctx;
};

const char *const Prelude = R"cpp(
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/generic_stub.h>
#include <memory>
#include <stdexcept>
#include <vector>
#include "demo.grpc.pb.h"
using Writer = grpc::ClientWriter<demo::Req>;
void Take(std::unique_ptr<grpc::ClientReader<demo::Resp>> r);
static void Pump(Writer *w) { w->Write(demo::Req()); }
static void Close(Writer *w) { w->WritesDone(); w->Finish(); }
static void Keep(std::vector<Writer *> &all, Writer *w) { all.push_back(w); }
)cpp";

/// The call that starts a role variable's stream: its initialiser, or the
/// argument of the smart pointer constructor it is (a shared_ptr made from
/// the returned unique_ptr).
const CallExpr *startOf(const VarDecl &Var) {
  if (const CallExpr *Call = test::initialisingCall(Var))
    return Call;
  const auto *Construct =
      llvm::dyn_cast_or_null<CXXConstructExpr>(stripValue(Var.getInit()));
  return Construct && Construct->getNumArgs() == 1
             ? llvm::dyn_cast<CallExpr>(stripValue(Construct->getArg(0)))
             : nullptr;
}

/// The stream a role variable holds (its initialiser starts it).
std::optional<StartedStream> streamOf(const VarDecl &Var, ASTContext &Ctx) {
  const CallExpr *Call = startOf(Var);
  EXPECT_NE(Call, nullptr) << Var.getName().str();
  if (!Call)
    return std::nullopt;
  std::optional<RpcStart> Start = classifyRpcStart(Call);
  EXPECT_TRUE(Start && Start->Streaming) << Var.getName().str();
  if (!Start)
    return std::nullopt;
  std::optional<StartedStream> Stream = startedStream(*Start, Ctx);
  EXPECT_TRUE(Stream.has_value()) << Var.getName().str();
  if (Stream)
    EXPECT_EQ(Stream->Holder, &Var) << Var.getName().str();
  return Stream;
}

const FunctionFlow *flowOf(const Stmt &S, ASTContext &Ctx) {
  const FunctionDecl *FD = enclosingCallable(S, Ctx);
  return FD ? FlowCache::get(*FD, Ctx) : nullptr;
}

TEST(StreamApi, TableMatchesTheInstalledHeaders) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/sync_stream.h>
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto MethodsOf = [&](llvm::StringRef Class) {
    llvm::StringSet<> Names;
    for (const BoundNodes &N :
         match(cxxRecordDecl(hasName(Class), isDefinition()).bind("c"), Ctx)) {
      const auto *RD = N.getNodeAs<CXXRecordDecl>("c");
      auto Collect = [&](const CXXRecordDecl &R) {
        for (const CXXMethodDecl *MD : R.methods())
          if (MD->getIdentifier())
            Names.insert(MD->getName());
      };
      // The class template's bases, dependent ones included (read through
      // their templates' patterns).
      std::function<void(const CXXRecordDecl &)> Walk =
          [&](const CXXRecordDecl &R) {
            Collect(R);
            for (const CXXBaseSpecifier &Base : R.bases()) {
              const CXXRecordDecl *B = Base.getType()->getAsCXXRecordDecl();
              if (!B)
                if (const auto *Spec =
                        Base.getType()->getAs<TemplateSpecializationType>())
                  if (const auto *Template = llvm::dyn_cast_or_null<ClassTemplateDecl>(
                          Spec->getTemplateName().getAsTemplateDecl()))
                    B = Template->getTemplatedDecl();
              if (B && B->hasDefinition())
                Walk(*B->getDefinition());
            }
          };
      Walk(*RD);
    }
    return Names;
  };
  // Every writing stream has WritesDone, WriteLast (sync) and Finish.
  for (llvm::StringRef Writer :
       {"::grpc::ClientWriter", "::grpc::ClientReaderWriter",
        "::grpc::ClientWriterInterface", "::grpc::ClientReaderWriterInterface"}) {
    llvm::StringSet<> Names = MethodsOf(Writer);
    EXPECT_TRUE(Names.contains("WritesDone")) << Writer.str();
    EXPECT_TRUE(Names.contains("WriteLast")) << Writer.str();
    EXPECT_TRUE(Names.contains("Finish")) << Writer.str();
  }
  for (llvm::StringRef Writer : {"::grpc::ClientAsyncWriter", "::grpc::ClientAsyncReaderWriter"}) {
    llvm::StringSet<> Names = MethodsOf(Writer);
    EXPECT_TRUE(Names.contains("WritesDone")) << Writer.str();
    EXPECT_TRUE(Names.contains("Finish")) << Writer.str();
  }
  // A reader needs none: it has no WritesDone at all.
  EXPECT_FALSE(MethodsOf("::grpc::ClientReader").contains("WritesDone"));
  EXPECT_TRUE(MethodsOf("::grpc::ClientReader").contains("Finish"));
  // The reactor calls and the reactions' operations exist on the bases.
  llvm::StringSet<> Server = MethodsOf("::grpc::ServerBidiReactor");
  for (llvm::StringRef M : {"Finish", "StartWriteAndFinish", "StartRead",
                            "StartWrite", "StartWriteLast", "OnReadDone",
                            "OnWriteDone", "StartSendInitialMetadata",
                            "OnSendInitialMetadataDone"})
    EXPECT_TRUE(Server.contains(M)) << M.str();
  llvm::StringSet<> Client = MethodsOf("::grpc::ClientBidiReactor");
  for (llvm::StringRef M : {"StartCall", "AddHold", "AddMultipleHolds",
                            "RemoveHold", "StartWritesDone", "OnWritesDoneDone"})
    EXPECT_TRUE(Client.contains(M)) << M.str();
  EXPECT_TRUE(MethodsOf("::grpc::ClientUnaryReactor").contains("StartCall"));
  EXPECT_TRUE(MethodsOf("::grpc::ServerContextBase").contains("DefaultReactor"));
  EXPECT_TRUE(isOperationReaction("OnReadDone"));
  EXPECT_FALSE(isOperationReaction("OnDone"));
}

TEST(StreamProtocol, StartedStreamHolders) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
struct Member {
  void Start(demo::Demo::Stub &s) { member_ = s.ClientStream(&ctx_, &resp_); }
  grpc::ClientContext ctx_;
  demo::Resp resp_;
  std::unique_ptr<Writer> member_;
};
std::unique_ptr<grpc::ClientReader<demo::Resp>> Returned(demo::Demo::Stub &s, grpc::ClientContext *c) {
  return s.ServerStream(c, demo::Req());
}
void Passed(demo::Demo::Stub &s, grpc::ClientContext *c) { Take(s.ServerStream(c, demo::Req())); }
void Chained(demo::Demo::Stub &s, grpc::ClientContext *c) { s.ServerStream(c, demo::Req())->Finish(); }
void Holders(demo::Demo::Stub &s, grpc::GenericStub &g, grpc::CompletionQueue *q) {
  grpc::ClientContext c1, c2, c3, c4, c5, c6;
  demo::Resp r;
  auto writes_auto = s.ClientStream(&c1, &r);
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reads_ctor(s.ServerStream(&c2, demo::Req()));
  std::shared_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> writes_shared = s.Bidi(&c3);
  const auto &reads_ref = s.ServerStream(&c4, demo::Req());
  auto writes_async = s.PrepareAsyncBidi(&c5, q);
  auto reads_generic = g.PrepareCall(&c6, "/demo.Demo/Bidi", q);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Writes = test::varsNamed(Ctx, "writes_");
  auto Reads = test::varsNamed(Ctx, "reads_");
  ASSERT_EQ(Writes.size(), 3u);
  ASSERT_EQ(Reads.size(), 3u);
  for (const VarDecl *V : Writes)
    if (std::optional<StartedStream> S = streamOf(*V, Ctx)) {
      EXPECT_TRUE(S->Writes) << V->getName().str();
      ASSERT_NE(S->Context, nullptr) << V->getName().str();
      EXPECT_TRUE(S->Context->getName().starts_with("c")) << V->getName().str();
    }
  // A reader, and a generic stub's stream (any method kind), need no
  // half-close.
  for (const VarDecl *V : Reads)
    if (std::optional<StartedStream> S = streamOf(*V, Ctx))
      EXPECT_FALSE(S->Writes) << V->getName().str();
  // A member holds it; returned, passed on or chained: nobody here does.
  for (const CallExpr *Call : test::callsTo(Ctx, "ClientStream")) {
    const FunctionDecl *Fn = enclosingCallable(*Call, Ctx);
    if (!Fn || Fn->getName() != "Start")
      continue;
    std::optional<StartedStream> S = startedStream(*classifyRpcStart(Call), Ctx);
    ASSERT_TRUE(S.has_value());
    EXPECT_TRUE(llvm::isa<FieldDecl>(S->Holder));
    EXPECT_EQ(S->Holder->getName(), "member_");
  }
  unsigned Unheld = 0;
  for (const CallExpr *Call : test::callsTo(Ctx, "ServerStream")) {
    const FunctionDecl *Fn = enclosingCallable(*Call, Ctx);
    if (Fn && (Fn->getName() == "Returned" || Fn->getName() == "Passed" ||
               Fn->getName() == "Chained")) {
      EXPECT_FALSE(startedStream(*classifyRpcStart(Call), Ctx).has_value())
          << Fn->getName().str();
      ++Unheld;
    }
  }
  EXPECT_EQ(Unheld, 3u);
}

TEST(StreamProtocol, FinishedOnEveryPathOrHandedOn) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
struct Guard { explicit Guard(Writer *w); ~Guard(); };
int f(demo::Demo::Stub &s, grpc::ClientContext *c, bool b, std::vector<Writer *> &all) {
  demo::Resp r;
  {
    auto unfinished_return_early = s.ServerStream(c, demo::Req());
    if (b) return 1;
    unfinished_return_early->Finish();
  }
  for (int i = 0; i < 3; ++i) {
    auto unfinished_jump_continue = s.ClientStream(c, &r);
    if (b) continue;
    unfinished_jump_continue->Finish();
  }
  {
    auto unfinished_scope_block = s.ServerStream(c, demo::Req());
  }
  {
    auto unfinished_scope_pumped = s.ClientStream(c, &r);
    Pump(unfinished_scope_pumped.get());
  }
  {
    std::unique_ptr<grpc::ClientReader<demo::Resp>> unfinished_replaced_reader =
        s.ServerStream(c, demo::Req());
    unfinished_replaced_reader.reset();
  }
  {
    auto finished_both = s.ServerStream(c, demo::Req());
    if (b) { finished_both->Finish(); return 2; }
    finished_both->Finish();
  }
  {
    auto finished_helper = s.ClientStream(c, &r);
    Close(finished_helper.get());
  }
  {
    auto finished_kept = s.ClientStream(c, &r);
    Keep(all, finished_kept.get());
  }
  {
    auto finished_guard = s.ClientStream(c, &r);
    Guard g(finished_guard.get());
  }
  {
    auto finished_moved = s.ServerStream(c, demo::Req());
    Take(std::move(finished_moved));
  }
  {
    auto finished_lambda = s.ServerStream(c, demo::Req());
    auto later = [&finished_lambda] { finished_lambda->Finish(); };
    later();
  }
  {
    grpc::ClientContext own;
    auto finished_cancelled = s.ServerStream(&own, demo::Req());
    own.TryCancel();
  }
  {
    auto finished_null = s.ServerStream(c, demo::Req());
    if (!finished_null) return 3;
    finished_null->Finish();
  }
  {
    auto finished_throw = s.ServerStream(c, demo::Req());
    if (b) throw std::runtime_error("x");
    finished_throw->Finish();
  }
  return 0;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  StreamProtocolAnalysis Analysis(Ctx);
  auto Unfinished = test::varsNamed(Ctx, "unfinished_");
  auto Finished = test::varsNamed(Ctx, "finished_");
  ASSERT_EQ(Unfinished.size(), 5u);
  ASSERT_EQ(Finished.size(), 9u);
  for (const VarDecl *V : Unfinished) {
    std::optional<StartedStream> S = streamOf(*V, Ctx);
    const FunctionFlow *Flow = S ? flowOf(*S->Start.Call, Ctx) : nullptr;
    ASSERT_NE(Flow, nullptr);
    std::optional<UnfinishedStream> U = Analysis.findUnfinishedPath(*S, *Flow);
    ASSERT_TRUE(U.has_value()) << V->getName().str();
    ASSERT_NE(U->At, nullptr) << V->getName().str();
    llvm::StringRef Name = V->getName();
    if (Name.contains("_return_")) {
      EXPECT_EQ(U->How, UnfinishedStream::Exit::Return);
      EXPECT_TRUE(llvm::isa<ReturnStmt>(U->At));
    } else if (Name.contains("_jump_")) {
      EXPECT_EQ(U->How, UnfinishedStream::Exit::LoopJump);
      EXPECT_TRUE(llvm::isa<ContinueStmt>(U->At));
    } else if (Name.contains("_scope_")) {
      EXPECT_EQ(U->How, UnfinishedStream::Exit::ScopeEnd) << Name.str();
      EXPECT_TRUE(llvm::isa<CompoundStmt>(U->At)) << Name.str();
    } else {
      EXPECT_EQ(U->How, UnfinishedStream::Exit::Replaced);
      EXPECT_TRUE(llvm::isa<CXXMemberCallExpr>(U->At));
    }
    EXPECT_FALSE(U->Path.Blocks.empty());
  }
  for (const VarDecl *V : Finished) {
    std::optional<StartedStream> S = streamOf(*V, Ctx);
    const FunctionFlow *Flow = S ? flowOf(*S->Start.Call, Ctx) : nullptr;
    ASSERT_NE(Flow, nullptr);
    EXPECT_FALSE(Analysis.findUnfinishedPath(*S, *Flow).has_value())
        << V->getName().str();
  }
}

TEST(StreamProtocol, HalfClosedBeforeFinish) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
void f(demo::Demo::Stub &s, grpc::ClientContext *c, grpc::CompletionQueue *q, bool b) {
  demo::Resp r;
  grpc::Status st;
  {
    auto unclosed_plain = s.ClientStream(c, &r);
    unclosed_plain->Finish();
  }
  {
    auto unclosed_branch = s.Bidi(c);
    if (b) unclosed_branch->WritesDone();
    unclosed_branch->Finish();
  }
  {
    auto unclosed_async = s.PrepareAsyncBidi(c, q);
    unclosed_async->Finish(&st, nullptr);
  }
  {
    auto closed_writes_done = s.ClientStream(c, &r);
    closed_writes_done->WritesDone();
    closed_writes_done->Finish();
  }
  {
    auto closed_write_last = s.Bidi(c);
    closed_write_last->WriteLast(demo::Req(), grpc::WriteOptions());
    closed_write_last->Finish();
  }
  {
    grpc::ClientContext own;
    auto closed_cancelled = s.Bidi(&own);
    own.TryCancel();
    closed_cancelled->Finish();
  }
  {
    auto closed_helper = s.ClientStream(c, &r);
    Close(closed_helper.get());
  }
  {
    auto closed_never_finished = s.ClientStream(c, &r);
    Pump(closed_never_finished.get());
  }
  {
    auto closed_async = s.PrepareAsyncClientStream(c, &r, q);
    closed_async->WritesDone(nullptr);
    closed_async->Finish(&st, nullptr);
  }
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  StreamProtocolAnalysis Analysis(Ctx);
  auto Unclosed = test::varsNamed(Ctx, "unclosed_");
  auto Closed = test::varsNamed(Ctx, "closed_");
  ASSERT_EQ(Unclosed.size(), 3u);
  ASSERT_EQ(Closed.size(), 6u);
  for (const VarDecl *V : Unclosed) {
    std::optional<StartedStream> S = streamOf(*V, Ctx);
    const FunctionFlow *Flow = S ? flowOf(*S->Start.Call, Ctx) : nullptr;
    ASSERT_NE(Flow, nullptr);
    std::optional<FlowPath> P = Analysis.findFinishBeforeHalfClose(*S, *Flow);
    ASSERT_TRUE(P.has_value()) << V->getName().str();
    const auto *Finish = llvm::dyn_cast_or_null<CXXMemberCallExpr>(P->ViolatedAt);
    ASSERT_NE(Finish, nullptr) << V->getName().str();
    EXPECT_TRUE(callsStreamRole(*Finish, *V, StreamCallRole::Finish));
  }
  for (const VarDecl *V : Closed) {
    std::optional<StartedStream> S = streamOf(*V, Ctx);
    const FunctionFlow *Flow = S ? flowOf(*S->Start.Call, Ctx) : nullptr;
    ASSERT_NE(Flow, nullptr);
    EXPECT_FALSE(Analysis.findFinishBeforeHalfClose(*S, *Flow).has_value())
        << V->getName().str();
  }
}

TEST(StreamProtocol, OneStatementFixesEveryPath) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
grpc::Status Fixable(demo::Demo::Stub &s, grpc::ClientContext *c) {
  demo::Resp r;
  auto fix_return = s.ClientStream(c, &r);
  fix_return->Write(demo::Req());
  return fix_return->Finish();
}
bool FixableOk(demo::Demo::Stub &s, grpc::ClientContext *c) {
  auto fix_ok = s.Bidi(c);
  bool ok = fix_ok->Finish().ok();
  return ok;
}
grpc::Status Twice(demo::Demo::Stub &s, grpc::ClientContext *c, bool b) {
  demo::Resp r;
  auto nofix_twice = s.ClientStream(c, &r);
  if (b) return nofix_twice->Finish();
  return nofix_twice->Finish();
}
bool Short(demo::Demo::Stub &s, grpc::ClientContext *c, bool b) {
  auto nofix_short = s.Bidi(c);
  return b && nofix_short->Finish().ok();
}
grpc::Status Helped(demo::Demo::Stub &s, grpc::ClientContext *c) {
  demo::Resp r;
  auto fix_helped = s.ClientStream(c, &r);
  Pump(fix_helped.get());
  return fix_helped->Finish();
}
void Async(demo::Demo::Stub &s, grpc::ClientContext *c, grpc::CompletionQueue *q, grpc::Status *st) {
  auto nofix_async = s.PrepareAsyncBidi(c, q);
  nofix_async->Finish(st, nullptr);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  StreamProtocolAnalysis Analysis(Ctx);
  auto Fixable = test::varsNamed(Ctx, "fix_");
  auto NoFix = test::varsNamed(Ctx, "nofix_");
  ASSERT_EQ(Fixable.size(), 3u);
  ASSERT_EQ(NoFix.size(), 3u);
  auto InsertionFor = [&](const VarDecl &V) -> const Stmt * {
    std::optional<StartedStream> S = streamOf(V, Ctx);
    const FunctionFlow *Flow = S ? flowOf(*S->Start.Call, Ctx) : nullptr;
    if (!Flow)
      return nullptr;
    std::optional<FlowPath> P = Analysis.findFinishBeforeHalfClose(*S, *Flow);
    EXPECT_TRUE(P && P->ViolatedAt) << V.getName().str();
    if (!P || !P->ViolatedAt)
      return nullptr;
    return Analysis.halfCloseInsertionPoint(
        *S, *llvm::cast<CallExpr>(P->ViolatedAt), *Flow);
  };
  for (const VarDecl *V : Fixable) {
    const Stmt *At = InsertionFor(*V);
    ASSERT_NE(At, nullptr) << V->getName().str();
    EXPECT_TRUE((llvm::isa<ReturnStmt, DeclStmt>(At))) << V->getName().str();
  }
  // Two Finish() calls, one behind `&&`, an asynchronous stream: no fix.
  // (A helper that only writes is read and does not stop it: fix_helped.)
  for (const VarDecl *V : NoFix)
    EXPECT_EQ(InsertionFor(*V), nullptr) << V->getName().str();
}

TEST(FlowSearches, ScopeEndAndViolationOnly) {
  auto AST = test::parse(R"cpp(
#include <memory>
void mark(int);
void f(bool b) {
  for (int i = 0; i < 2; ++i) {
    auto p = std::make_unique<int>(i);
    if (b) break;
    mark(1);
  }
  mark(2);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  auto Vars = match(varDecl(hasName("p")).bind("v"), Ctx);
  ASSERT_EQ(Vars.size(), 1u);
  const auto *P = Vars[0].getNodeAs<VarDecl>("v");
  const CallExpr *Make = test::initialisingCall(*P);
  ASSERT_NE(Make, nullptr);
  const FunctionFlow *Flow = flowOf(*Make, Ctx);
  ASSERT_NE(Flow, nullptr);
  std::optional<CfgPoint> At = Flow->locate(*Make);
  ASSERT_TRUE(At.has_value());
  auto IsMark = [](const Stmt &S, int N) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const auto *Arg = Call && Call->getNumArgs() == 1
                          ? llvm::dyn_cast<IntegerLiteral>(Call->getArg(0)->IgnoreImpCasts())
                          : nullptr;
    return Arg && Arg->getValue() == N;
  };
  // Out of p's scope: the break, before any mark(1) (which discharges).
  std::optional<FlowPath> Out = findPathOutOfScope(
      *Flow, *At, *P, [&](const Stmt &S) {
        return IsMark(S, 1) ? Verdict::Discharged : Verdict::Continue;
      });
  ASSERT_TRUE(Out.has_value());
  EXPECT_TRUE(Out->LeftScope);
  EXPECT_TRUE(llvm::isa_and_nonnull<BreakStmt>(Out->ViolatedAt));
  // mark(2) is reachable; a search that only stops at violations finds it,
  // and does not count the exit of the function as one.
  std::optional<FlowPath> Violation = findViolationForward(
      *Flow, *At, [&](const Stmt &S) {
        return IsMark(S, 2) ? Verdict::Violated : Verdict::Continue;
      });
  ASSERT_TRUE(Violation.has_value());
  EXPECT_TRUE(IsMark(*Violation->ViolatedAt, 2));
  EXPECT_FALSE(findViolationForward(*Flow, *At, [&](const Stmt &S) {
                 return IsMark(S, 3) ? Verdict::Violated : Verdict::Continue;
               }).has_value());
}

} // namespace
} // namespace grpcleak
