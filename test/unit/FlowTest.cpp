//===- FlowTest.cpp - The flow analyses of lib/, by role-named variables --===//
//
// Each snippet names its variables by the answer the analysis must give:
// `leaked_*` / `kept_*` handles, `unbounded_*` / `bounded_*` contexts,
// `per_iteration_*` / `outlives_*` channels. A test fails if any variable of
// a role gets the other answer, and if a role has no variable at all.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/DeadlineAnalysis.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/HandleLifetime.h"
#include "grpcleak/Repetition.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

std::optional<HandleLeak> leakOf(const VarDecl &Var, ASTContext &Ctx) {
  const CallExpr *Acquire = test::initialisingCall(Var);
  EXPECT_NE(Acquire, nullptr) << Var.getName().str();
  if (!Acquire)
    return std::nullopt;
  const CoreHandlePair *Pair = findCoreAcquire(Acquire->getDirectCallee());
  EXPECT_NE(Pair, nullptr);
  const FunctionDecl *FD = enclosingCallable(*Acquire, Ctx);
  const FunctionFlow *Flow = FlowCache::get(*FD, Ctx);
  EXPECT_NE(Flow, nullptr);
  if (!Pair || !Flow)
    return std::nullopt;
  HandleLifetimeAnalysis Analysis(Ctx);
  return Analysis.analyze(*Acquire, *Pair, *Flow);
}

TEST(HandleLifetime, ReleasedOnEveryPathOrHandedOver) {
  auto AST = test::parse(R"cpp(
#include <grpc/grpc.h>
#include <memory>
grpc_channel *g;
void adopt(grpc_channel *);
static void destroy(grpc_channel *c) { grpc_channel_destroy(c); }
static void inspect(grpc_channel *c) { grpc_channel_check_connectivity_state(c, 0); }
int f(const char *t, grpc_channel_credentials *cr, bool b, grpc_channel **out) {
  grpc_channel *leaked_early = grpc_channel_create(t, cr, nullptr);
  if (b) return 1;
  grpc_channel_destroy(leaked_early);

  grpc_channel *leaked_inspected = grpc_channel_create(t, cr, nullptr);
  inspect(leaked_inspected);

  grpc_channel *kept_both = grpc_channel_create(t, cr, nullptr);
  if (b) grpc_channel_destroy(kept_both); else destroy(kept_both);

  grpc_channel *kept_global = grpc_channel_create(t, cr, nullptr);
  g = kept_global;
  grpc_channel *kept_out = grpc_channel_create(t, cr, nullptr);
  *out = kept_out;
  grpc_channel *kept_unknown = grpc_channel_create(t, cr, nullptr);
  adopt(kept_unknown);
  grpc_channel *kept_null = grpc_channel_create(t, cr, nullptr);
  if (kept_null == nullptr) return 2;
  grpc_channel_destroy(kept_null);
  grpc_channel *kept_lambda = grpc_channel_create(t, cr, nullptr);
  auto later = [kept_lambda] { grpc_channel_destroy(kept_lambda); };
  later();
  return 0;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto Leaked = test::varsNamed(Ctx, "leaked_");
  auto Kept = test::varsNamed(Ctx, "kept_");
  ASSERT_EQ(Leaked.size(), 2u);
  ASSERT_EQ(Kept.size(), 6u);
  for (const VarDecl *V : Leaked)
    EXPECT_TRUE(leakOf(*V, Ctx).has_value()) << V->getName().str();
  for (const VarDecl *V : Kept)
    EXPECT_FALSE(leakOf(*V, Ctx).has_value()) << V->getName().str();
  // The early return is the witness.
  std::optional<HandleLeak> Early = leakOf(*Leaked[0], Ctx);
  ASSERT_TRUE(Early.has_value());
  EXPECT_EQ(Early->How, HandleLeak::Exit::Return);
  FlowCache::clear(Ctx);
}

TEST(HandleLifetime, SummariesLookIntoHelpers) {
  auto AST = test::parse(R"cpp(
#include <grpc/grpc.h>
static void release(grpc_channel *c) { grpc_channel_destroy(c); }
static void twoDown(grpc_channel *c) { release(c); }
static grpc_channel *g;
static void keep(grpc_channel *c) { g = c; }
static void look(grpc_channel *c) { grpc_channel_check_connectivity_state(c, 0); }
void external(grpc_channel *c);
static void viaExternal(grpc_channel *c) { external(c); }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  HandleLifetimeAnalysis Analysis(Ctx);
  EXPECT_EQ(Analysis.summarize(*test::functionNamed(Ctx, "release"), 0), ParamEffect::Releases);
  EXPECT_EQ(Analysis.summarize(*test::functionNamed(Ctx, "twoDown"), 0), ParamEffect::Releases);
  EXPECT_EQ(Analysis.summarize(*test::functionNamed(Ctx, "keep"), 0), ParamEffect::Keeps);
  EXPECT_EQ(Analysis.summarize(*test::functionNamed(Ctx, "look"), 0), ParamEffect::None);
  EXPECT_EQ(Analysis.summarize(*test::functionNamed(Ctx, "viaExternal"), 0), ParamEffect::Unknown);
}

std::optional<MissingDeadline> missingFor(const VarDecl &Context, ASTContext &Ctx,
                                          DeadlineOptions Options = {}) {
  // The RPC started on this context (the first stub call taking it).
  for (const BoundNodes &N : match(cxxMemberCallExpr().bind("c"), Ctx)) {
    const auto *Call = N.getNodeAs<CXXMemberCallExpr>("c");
    std::optional<RpcStart> Start = classifyRpcStart(Call);
    if (!Start || !namesObject(Start->Context, &Context))
      continue;
    const FunctionFlow *Flow = FlowCache::get(*enclosingCallable(*Call, Ctx), Ctx);
    EXPECT_NE(Flow, nullptr);
    return DeadlineAnalysis(Options).analyze(*Start, *Flow);
  }
  ADD_FAILURE() << "no RPC on " << Context.getName().str();
  return std::nullopt;
}

TEST(DeadlineAnalysis, SetOnEveryPathBeforeTheCall) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
using Clock = std::chrono::system_clock;
static void SetDeadline(grpc::ClientContext &c) { c.set_deadline(Clock::now()); }
static void Configure(grpc::ClientContext *c) { SetDeadline(*c); }
static void JustMetadata(grpc::ClientContext &c) { c.AddMetadata("k", "v"); }
void ElsewhereConfigured(grpc::ClientContext *c);
void f(demo::Demo::Stub &s, grpc::ServerContext &server, bool b) {
  demo::Req q; demo::Resp p;
  grpc::ClientContext unbounded_plain;
  auto r1 = s.ServerStream(&unbounded_plain, q);
  grpc::ClientContext unbounded_one_branch;
  if (b) unbounded_one_branch.set_deadline(Clock::now());
  auto r2 = s.Bidi(&unbounded_one_branch);
  grpc::ClientContext unbounded_metadata_only;
  JustMetadata(unbounded_metadata_only);
  auto r3 = s.Bidi(&unbounded_metadata_only);
  grpc::ClientContext unbounded_late;
  auto r4 = s.Bidi(&unbounded_late);
  unbounded_late.set_deadline(Clock::now());

  grpc::ClientContext bounded_direct;
  bounded_direct.set_deadline(Clock::now());
  auto r5 = s.Bidi(&bounded_direct);
  grpc::ClientContext bounded_both;
  if (b) bounded_both.set_deadline(Clock::now()); else bounded_both.set_deadline(Clock::now());
  auto r6 = s.Bidi(&bounded_both);
  grpc::ClientContext bounded_helper;
  Configure(&bounded_helper);
  auto r7 = s.Bidi(&bounded_helper);
  grpc::ClientContext bounded_external;
  ElsewhereConfigured(&bounded_external);
  auto r8 = s.Bidi(&bounded_external);
  auto bounded_from_server = grpc::ClientContext::FromServerContext(server);
  auto r9 = s.Bidi(bounded_from_server.get());
  auto bounded_owned = std::make_unique<grpc::ClientContext>();
  bounded_owned->set_deadline(Clock::now());
  auto r10 = s.Bidi(bounded_owned.get());
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto Unbounded = test::varsNamed(Ctx, "unbounded_");
  auto Bounded = test::varsNamed(Ctx, "bounded_");
  ASSERT_EQ(Unbounded.size(), 4u);
  ASSERT_EQ(Bounded.size(), 6u);
  for (const VarDecl *V : Unbounded)
    EXPECT_TRUE(missingFor(*V, Ctx).has_value()) << V->getName().str();
  for (const VarDecl *V : Bounded)
    EXPECT_FALSE(missingFor(*V, Ctx).has_value()) << V->getName().str();
  // The late setter is found for the explanation.
  std::optional<MissingDeadline> Late = missingFor(*Unbounded[3], Ctx);
  ASSERT_TRUE(Late.has_value());
  EXPECT_NE(Late->LateSetter, nullptr);
  // Without trust in propagation, a server-derived context is unbounded.
  DeadlineOptions Distrust;
  Distrust.TrustServerContextPropagation = false;
  for (const VarDecl *V : Bounded)
    if (V->getName() == "bounded_from_server")
      EXPECT_TRUE(missingFor(*V, Ctx, Distrust).has_value());
  FlowCache::clear(Ctx);
}

TEST(DeadlineAnalysis, OnlyACancelThatRunsWithoutThePeerBounds) {
  auto AST = test::parse(R"cpp(
#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
void Local(demo::Demo::Stub &s, const bool &stop) {
  demo::Req q; demo::Resp p;
  grpc::ClientContext unbounded_after_read;
  auto r1 = s.ServerStream(&unbounded_after_read, q);
  while (r1->Read(&p)) unbounded_after_read.TryCancel();
  grpc::ClientContext bounded_by_thread;
  std::thread t([&] { while (!stop) {} bounded_by_thread.TryCancel(); });
  auto r2 = s.ServerStream(&bounded_by_thread, q);
  t.join();
}
struct Reactor : grpc::ClientReadReactor<demo::Resp> {
  void Start(demo::Demo::Stub *s, const demo::Req *q) { s->async()->ServerStream(&ctx_, q, this); }
  void OnReadDone(bool ok) override { if (ok) ctx_.TryCancel(); }
  grpc::ClientContext ctx_;
};
struct Watcher {
  void Start(demo::Demo::Stub &s, const demo::Req &q) { r_ = s.ServerStream(&ctx_, q); }
  void Stop() { ctx_.TryCancel(); }
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<demo::Resp>> r_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto Unbounded = test::varsNamed(Ctx, "unbounded_");
  auto Bounded = test::varsNamed(Ctx, "bounded_");
  ASSERT_EQ(Unbounded.size(), 1u);
  ASSERT_EQ(Bounded.size(), 1u);
  std::optional<MissingDeadline> AfterRead = missingFor(*Unbounded[0], Ctx);
  ASSERT_TRUE(AfterRead.has_value());
  EXPECT_NE(AfterRead->PeerDependentCancel, nullptr);
  EXPECT_FALSE(missingFor(*Bounded[0], Ctx).has_value());
  // Members: a cancel in a reaction does not bound, one in Stop() does.
  auto MemberStart = [&](llvm::StringRef Method) -> std::optional<MissingDeadline> {
    const FunctionDecl *FD = test::functionNamed(Ctx, Method);
    EXPECT_NE(FD, nullptr);
    std::optional<MissingDeadline> Result;
    anyStatement(FD->getBody(), [&](const Stmt &S) {
      const auto *Call = llvm::dyn_cast<CallExpr>(&S);
      std::optional<RpcStart> Start =
          Call ? classifyRpcStart(Call) : std::nullopt;
      if (!Start)
        return false;
      Result = DeadlineAnalysis({}).analyze(*Start, *FlowCache::get(*FD, Ctx));
      return true;
    });
    return Result;
  };
  std::optional<MissingDeadline> InReaction = MemberStart("Reactor::Start");
  ASSERT_TRUE(InReaction.has_value());
  EXPECT_NE(InReaction->PeerDependentCancel, nullptr);
  EXPECT_FALSE(MemberStart("Watcher::Start").has_value());
  FlowCache::clear(Ctx);
  TuIndex::clear(Ctx);
}

TEST(Repetition, ChannelsThatDieWithTheIteration) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
#include <map>
#include <vector>
struct Pool {
  std::vector<std::shared_ptr<grpc::Channel>> all;
  std::map<int, std::unique_ptr<demo::Demo::Stub>> stubs;
  std::shared_ptr<grpc::Channel> current;
  void Fill(int n) {
    auto creds = grpc::InsecureChannelCredentials();
    for (int i = 0; i < n; ++i) {
      auto per_iteration_plain = grpc::CreateChannel("a", creds);
      auto stub = demo::Demo::NewStub(per_iteration_plain);
      auto outlives_pushed = grpc::CreateChannel("a", creds);
      all.push_back(outlives_pushed);
      auto outlives_in_stub = grpc::CreateChannel("a", creds);
      stubs.emplace(i, demo::Demo::NewStub(outlives_in_stub));
      auto outlives_on_success = grpc::CreateChannel("a", creds);
      if (i == 3) { current = outlives_on_success; break; }
      auto outlives_captured = grpc::CreateChannel("a", creds);
      auto later = [outlives_captured] { return outlives_captured; };
      later();
    }
  }
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto PerIteration = test::varsNamed(Ctx, "per_iteration_");
  auto Outlives = test::varsNamed(Ctx, "outlives_");
  ASSERT_EQ(PerIteration.size(), 1u);
  ASSERT_EQ(Outlives.size(), 4u);
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  auto Check = [&](const VarDecl *V) {
    const CallExpr *Create = test::initialisingCall(*V);
    EXPECT_NE(Create, nullptr);
    const Stmt *Loop = enclosingLoop(*Create, Ctx);
    EXPECT_NE(Loop, nullptr);
    return Analysis.fate(*Create, *Loop, *enclosingCallable(*Create, Ctx)) !=
           ValueFate::Dies;
  };
  for (const VarDecl *V : PerIteration)
    EXPECT_FALSE(Check(V)) << V->getName().str();
  for (const VarDecl *V : Outlives)
    EXPECT_TRUE(Check(V)) << V->getName().str();
}

// Through helpers, wrappers and lambdas, to what repeats them.
TEST(Repetition, FollowsHelpersWrappersAndLambdas) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
#include <algorithm>
#include <vector>
static std::unique_ptr<demo::Demo::Stub> MakeStub(const std::string &t) {
  return demo::Demo::NewStub(grpc::CreateChannel("in_helper", grpc::InsecureChannelCredentials()));
}
struct Client {
  explicit Client(const std::string &t)
      : stub_(demo::Demo::NewStub(grpc::CreateChannel("in_wrapper", grpc::InsecureChannelCredentials()))) {}
  std::unique_ptr<demo::Demo::Stub> stub_;
};
static void Probe(const std::string &t) {
  auto ch = grpc::CreateChannel("in_probe", grpc::InsecureChannelCredentials());
  ch->GetState(true);
}
struct Cache {
  std::vector<std::unique_ptr<demo::Demo::Stub>> stubs;
  void Fill(const std::vector<std::string> &ts) {
    for (const auto &t : ts) stubs.push_back(MakeStub(t));   // kept: not repeated
  }
};
void Loops(const std::vector<std::string> &ts) {
  for (const auto &t : ts) { auto s = MakeStub(t); }
  for (const auto &t : ts) { Client c(t); }
  std::for_each(ts.begin(), ts.end(), [](const std::string &t) {
    auto ch = grpc::CreateChannel("in_algorithm", grpc::InsecureChannelCredentials());
  });
  int n = 3;
  while (n--) Probe("x");
  auto once = grpc::CreateChannel("once", grpc::InsecureChannelCredentials());
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  int Repeated = 0;
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    llvm::StringRef Target = Lexer::getSourceText(
        CharSourceRange::getTokenRange(Call->getArg(0)->getSourceRange()),
        Ctx.getSourceManager(), Ctx.getLangOpts());
    std::optional<RepeatedCreation> Found = Analysis.find(*Call, RepeatKind::Loop);
    EXPECT_EQ(Found.has_value(), Target != "\"once\"") << Target.str();
    if (Found) {
      ++Repeated;
      EXPECT_NE(Found->Loop, nullptr);
      // The helper and the wrapper are reached through one hop.
      if (Target == "\"in_helper\"" || Target == "\"in_wrapper\"" ||
          Target == "\"in_probe\"")
        EXPECT_EQ(Found->Hops.size(), 1u) << Target.str();
    }
  }
  EXPECT_EQ(Repeated, 4);
  TuIndex::clear(Ctx);
}

TEST(Repetition, RequestEntries) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
struct Sync final : demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override;
};
struct Callback final : demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *, const demo::Req *,
                                  demo::Resp *) override;
};
struct Reader : grpc::ServerReadReactor<demo::Req> {
  void OnReadDone(bool) override;
  void OnDone() override;
  void Helper();
};
struct NotAService { virtual void Unary(); };
struct Derived : NotAService { void Unary() override; };
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  auto Method = [&](llvm::StringRef Class, llvm::StringRef Name) {
    auto Found = match(cxxMethodDecl(hasName(Name), ofClass(hasName(Class))).bind("m"), Ctx);
    EXPECT_FALSE(Found.empty()) << Class.str() << "::" << Name.str();
    return Found.empty() ? nullptr : Found[0].getNodeAs<CXXMethodDecl>("m");
  };
  EXPECT_TRUE(Analysis.isRequestEntry(*Method("Sync", "Unary")));
  EXPECT_TRUE(Analysis.isRequestEntry(*Method("Callback", "Unary")));
  EXPECT_TRUE(Analysis.isRequestEntry(*Method("Reader", "OnReadDone")));
  EXPECT_TRUE(Analysis.isRequestEntry(*Method("Reader", "OnDone")));
  EXPECT_FALSE(Analysis.isRequestEntry(*Method("Reader", "Helper")));
  EXPECT_FALSE(Analysis.isRequestEntry(*Method("Derived", "Unary")));
}

TEST(Repetition, OnlyTheLoopBodyRepeats) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
void f(int n) {
  auto creds = grpc::InsecureChannelCredentials();
  for (auto once = grpc::CreateChannel("init", creds); n > 0; --n) {
    auto body = grpc::CreateChannel("body", creds);
    auto lambda = [&] { return grpc::CreateChannel("lambda", creds); };
  }
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    // The target argument names the case.
    llvm::StringRef Target = Lexer::getSourceText(
        CharSourceRange::getTokenRange(Call->getArg(0)->getSourceRange()),
        Ctx.getSourceManager(), Ctx.getLangOpts());
    bool Repeats = enclosingLoop(*Call, Ctx) != nullptr;
    EXPECT_EQ(Repeats, Target == "\"body\"") << Target.str();
  }
}

TEST(FunctionFlow, PathSearchesFindWitnesses) {
  auto AST = test::parse(R"cpp(
void mark(int);
int f(bool a, bool b) {
  mark(0);
  if (a) { mark(1); return 1; }
  if (b) mark(2);
  mark(3);
  return 0;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  const FunctionFlow *Flow = FlowCache::get(*test::functionNamed(Ctx, "f"), Ctx);
  ASSERT_NE(Flow, nullptr);
  auto MarkValue = [](const Stmt &S) -> int {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call || !Call->getDirectCallee() || Call->getDirectCallee()->getName() != "mark")
      return -1;
    return static_cast<int>(
        llvm::cast<IntegerLiteral>(Call->getArg(0))->getValue().getZExtValue());
  };
  // Matches come in no particular order: index them by their argument.
  auto Marks = test::callsTo(Ctx, "mark");
  ASSERT_EQ(Marks.size(), 4u);
  llvm::sort(Marks, [&](const CallExpr *A, const CallExpr *B) {
    return MarkValue(*A) < MarkValue(*B);
  });
  std::optional<CfgPoint> Start = Flow->locate(*Marks[0]);
  ASSERT_TRUE(Start.has_value());
  // mark(3) is not on every path from mark(0): the early return avoids it.
  auto Needs3 = [&](const Stmt &S) {
    return MarkValue(S) == 3 ? Verdict::Discharged : Verdict::Continue;
  };
  std::optional<FlowPath> Path = findPathForward(*Flow, *Start, Needs3);
  ASSERT_TRUE(Path.has_value());
  ASSERT_NE(Path->ExitReturn, nullptr);
  // Either mark(1) or mark(3) is on every path.
  auto Needs1Or3 = [&](const Stmt &S) {
    int V = MarkValue(S);
    return V == 1 || V == 3 ? Verdict::Discharged : Verdict::Continue;
  };
  EXPECT_FALSE(findPathForward(*Flow, *Start, Needs1Or3).has_value());
  // Backward from mark(3): mark(2) is skipped when !b, mark(0) never is.
  std::optional<CfgPoint> End = Flow->locate(*Marks[3]);
  ASSERT_TRUE(End.has_value());
  auto Seen2 = [&](const Stmt &S) {
    return MarkValue(S) == 2 ? Verdict::Discharged : Verdict::Continue;
  };
  auto Seen0 = [&](const Stmt &S) {
    return MarkValue(S) == 0 ? Verdict::Discharged : Verdict::Continue;
  };
  EXPECT_TRUE(findPathBackward(*Flow, *End, Seen2).has_value());
  EXPECT_FALSE(findPathBackward(*Flow, *End, Seen0).has_value());
  const Stmt *Reached =
      findReachable(*Flow, *Start, [&](const Stmt &S) { return MarkValue(S) == 2; });
  ASSERT_NE(Reached, nullptr);
  EXPECT_EQ(MarkValue(*Reached), 2);
  EXPECT_EQ(Reached, Marks[2]);
  FlowCache::clear(Ctx);
}

} // namespace
} // namespace grpcleak

namespace grpcleak {
namespace {

// The per-declaration parent index answers as Clang's whole-TU map does.
TEST(AstUtil, ParentIndexAgreesWithClang) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include <vector>
struct Holder {
  explicit Holder(int n) : value(n + 1) {}
  int value;
};
int f(const std::vector<int> &v) {
  int total = 0;
  auto add = [&](int x) { total += x; };
  for (int x : v) {
    Holder h(x);
    if (h.value > 2) add(h.value);
  }
  return total;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  unsigned Compared = 0;
  for (const BoundNodes &N :
       match(stmt(isExpansionInMainFile()).bind("s"), Ctx)) {
    const auto *S = N.getNodeAs<Stmt>("s");
    DynTypedNodeList Expected = Ctx.getParents(*S);
    ParentList Actual = parentsOf(Ctx, *S);
    ASSERT_EQ(Actual.size(), Expected.size() ? 1u : 0u);
    if (!Expected.empty()) {
      EXPECT_TRUE(Actual[0] == Expected[0])
          << S->getStmtClassName() << " parent "
          << Actual[0].getNodeKind().asStringRef().str() << " vs "
          << Expected[0].getNodeKind().asStringRef().str();
      ++Compared;
    }
  }
  EXPECT_GT(Compared, 40u);
  clearParentIndex(Ctx);
}

} // namespace
} // namespace grpcleak
