//===- RepetitionTest.cpp - Per-request objects, indirect calls, trip counts ===//
//
// What lib/Repetition and lib/TuIndex answer about the shapes real servers
// take: objects that live for one request, async call-data classes, calls
// through std::function and virtual methods, loops with a constant trip
// count. Each snippet names its functions, classes or channel targets by the
// answer expected.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

/// The first argument of \p Call as written: the test's name for the case.
std::string targetOf(const CallExpr &Call, ASTContext &Ctx) {
  return Lexer::getSourceText(
             CharSourceRange::getTokenRange(Call.getArg(0)->getSourceRange()),
             Ctx.getSourceManager(), Ctx.getLangOpts())
      .trim('"')
      .str();
}

const CXXRecordDecl *classNamed(ASTContext &Ctx, llvm::StringRef Name) {
  auto Found = match(
      cxxRecordDecl(hasName(Name), isDefinition(), isExpansionInMainFile()).bind("c"),
      Ctx);
  EXPECT_FALSE(Found.empty()) << Name.str();
  return Found.empty() ? nullptr : Found[0].getNodeAs<CXXRecordDecl>("c");
}

const CXXMethodDecl *methodNamed(ASTContext &Ctx, llvm::StringRef Class,
                                 llvm::StringRef Name) {
  auto Found = match(cxxMethodDecl(hasName(Name), ofClass(hasName(Class)),
                                   isExpansionInMainFile())
                         .bind("m"),
                     Ctx);
  EXPECT_FALSE(Found.empty()) << Class.str() << "::" << Name.str();
  return Found.empty() ? nullptr : Found[0].getNodeAs<CXXMethodDecl>("m");
}

/// Forgets the per-TU indexes of \p Ctx (keyed by its address).
void clear(ASTContext &Ctx) {
  TuIndex::clear(Ctx);
  clearParentIndex(Ctx);
}

TEST(Repetition, ConstantTripCounts) {
  auto AST = test::parse(R"cpp(
constexpr int kAttempts = 3;
void f(int n) {
  for (int trips_3 = 0; trips_3 < 3; ++trips_3) {}
  for (int trips_3b = 1; trips_3b <= kAttempts; trips_3b++) {}
  for (int trips_5 = 5; trips_5 > 0; --trips_5) {}
  for (int trips_4 = 0; trips_4 < 7; trips_4 += 2) {}
  for (int trips_0 = 3; trips_0 < 3; ++trips_0) {}
  for (int trips_2 = 0; trips_2 != 4; trips_2 += 2) {}
  for (int unknown_bound = 0; unknown_bound < n; ++unknown_bound) {}
  for (int unknown_changed = 0; unknown_changed < 3; ++unknown_changed) { unknown_changed = 0; }
  for (int unknown_address = 0; unknown_address < 3; ++unknown_address) { int *p = &unknown_address; }
  for (int unknown_wrong_way = 0; unknown_wrong_way < 3; --unknown_wrong_way) {}
  for (int unknown_odd = 0; unknown_odd != 3; unknown_odd += 2) {}
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  auto Loops = match(forStmt(hasLoopInit(declStmt(hasSingleDecl(varDecl().bind("v")))))
                         .bind("for"),
                     Ctx);
  ASSERT_EQ(Loops.size(), 11u);
  for (const BoundNodes &N : Loops) {
    llvm::StringRef Name = N.getNodeAs<VarDecl>("v")->getName();
    std::optional<uint64_t> Trips = constantTripCount(*N.getNodeAs<ForStmt>("for"), Ctx);
    if (Name.starts_with("unknown")) {
      EXPECT_FALSE(Trips.has_value()) << Name.str();
      continue;
    }
    ASSERT_TRUE(Trips.has_value()) << Name.str();
    uint64_t Expected = 0;
    Name.drop_front(6).take_while([](char C) { return C >= '0' && C <= '9'; })
        .getAsInteger(10, Expected);
    EXPECT_EQ(*Trips, Expected) << Name.str();
  }
}

// A bounded loop below MinLoopTripCount does not repeat; the loop around it does.
TEST(Repetition, SmallConstantLoopsDoNotRepeat) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
void f(const bool &running) {
  for (int i = 0; i < 3; ++i) {
    auto ch = grpc::CreateChannel("bounded", grpc::InsecureChannelCredentials());
  }
  while (running)
    for (int i = 0; i < 3; ++i) {
      auto ch = grpc::CreateChannel("nested", grpc::InsecureChannelCredentials());
    }
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  RepetitionOptions Options;
  Options.MinLoopTripCount = 4;
  RepetitionAnalysis Analysis(Ctx, Options);
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    std::string Target = targetOf(*Call, Ctx);
    std::optional<RepeatedCreation> Found = Analysis.find(*Call, RepeatKind::Loop);
    EXPECT_EQ(Found.has_value(), Target == "nested") << Target;
    if (Found)
      EXPECT_TRUE(llvm::isa<WhileStmt>(Found->Loop)) << Target;
  }
  RepetitionAnalysis Default(Ctx, RepetitionOptions());
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    std::optional<RepeatedCreation> Found = Default.find(*Call, RepeatKind::Loop);
    ASSERT_TRUE(Found.has_value());
    EXPECT_TRUE(llvm::isa<ForStmt>(Found->Loop));
  }
  clear(Ctx);
}

// TuIndex: implicit member construction, overriders, what an indirect call
// may run, async request calls.
TEST(TuIndex, ImplicitInitsOverridersCalleesAndRequests) {
  auto AST = test::parse(R"cpp(
#include <functional>
#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
struct Member { Member() {} };
struct Holder { Holder() {} Member member; };
struct Base { virtual ~Base() = default; virtual int Get() = 0; virtual int Kept() { return 1; } };
struct Left : Base { int Get() override { return 2; } };
struct Right : Left { int Get() override { return 3; } int Kept() override { return 4; } };
int Call(Base &b) { return b.Get() + b.Kept(); }
int Lambdas(bool two) {
  std::function<int()> fn = [] { return 5; };
  if (two) fn = [] { return 6; };
  return fn();
}
struct Call_ {
  demo::Demo::AsyncService *service;
  grpc::ServerCompletionQueue *cq;
  grpc::ServerContext ctx;
  demo::Req req;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder{&ctx};
  void Arm() { service->RequestUnary(&ctx, &req, &responder, cq, cq, this); }
};
using RequestFn = void (demo::Demo::AsyncService::*)(
    grpc::ServerContext *, demo::Req *, grpc::ServerAsyncResponseWriter<demo::Resp> *,
    grpc::CompletionQueue *, grpc::ServerCompletionQueue *, void *);
void ThroughPointer(demo::Demo::AsyncService *s, RequestFn fn, Call_ *call) {
  (s->*fn)(&call->ctx, &call->req, &call->responder, call->cq, call->cq, call);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  const TuIndex &Index = TuIndex::get(Ctx);

  // Holder() builds `member` without the user writing it.
  const CXXRecordDecl *Member = classNamed(Ctx, "Member");
  ASSERT_NE(Member, nullptr);
  auto MemberSites = Index.callSitesOf(**Member->ctor_begin());
  ASSERT_EQ(MemberSites.size(), 1u);
  std::optional<TuIndex::ImplicitInit> Init = Index.implicitInitOf(*MemberSites[0]);
  ASSERT_TRUE(Init.has_value());
  EXPECT_EQ(Init->Ctor->getParent()->getName(), "Holder");
  EXPECT_EQ(Init->Init->getMember()->getName(), "member");

  // Base::Get is overridden twice; the call may run either override, not
  // the pure base. Kept has a body: it may run too.
  const CXXMethodDecl *Get = methodNamed(Ctx, "Base", "Get");
  EXPECT_EQ(Index.overridersOf(*Get).size(), 2u);
  auto GetCalls = test::callsTo(Ctx, "Get");
  ASSERT_EQ(GetCalls.size(), 1u);
  EXPECT_EQ(Index.possibleCallees(*GetCalls[0]).size(), 2u);
  auto KeptCalls = test::callsTo(Ctx, "Kept");
  ASSERT_EQ(KeptCalls.size(), 1u);
  EXPECT_EQ(Index.possibleCallees(*KeptCalls[0]).size(), 2u);

  // The std::function may run either lambda.
  auto FunctionCalls = match(
      cxxOperatorCallExpr(hasOverloadedOperatorName("()"), isExpansionInMainFile())
          .bind("c"),
      Ctx);
  ASSERT_EQ(FunctionCalls.size(), 1u);
  EXPECT_EQ(Index.possibleCallees(*FunctionCalls[0].getNodeAs<Expr>("c")).size(), 2u);

  // RequestUnary, directly and through a member-function pointer.
  ASSERT_EQ(Index.asyncRequestCalls().size(), 2u);
  for (const TuIndex::AsyncRequestCall &Request : Index.asyncRequestCalls())
    EXPECT_EQ(Request.Tag->IgnoreParenImpCasts()->getType()->getPointeeCXXRecordDecl()
                  ->getName(),
              "Call_");
  clear(Ctx);
}

// Call-data classes (the tag of a RequestX call, directly, through a
// std::function or a member pointer), self-deleting objects, and which
// methods are request steps.
TEST(Repetition, CallDataAndSelfDeletingObjects) {
  auto AST = test::parse(R"cpp(
#include <functional>
#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
struct StepDirect {
  StepDirect(demo::Demo::AsyncService *s, grpc::ServerCompletionQueue *cq)
      : s(s), cq(cq), responder(&ctx) { SetUp(); Proceed(); }
  void SetUp() {}
  void Proceed() { s->RequestUnary(&ctx, &req, &responder, cq, cq, this); Helper(); }
  void Helper() {}
  void Finish() { delete this; }
  static void Spawn() {}
  demo::Demo::AsyncService *s;
  grpc::ServerCompletionQueue *cq;
  grpc::ServerContext ctx;
  demo::Req req;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder;
};
struct StepThroughFunction {
  using Arm = std::function<void(grpc::ServerContext *, demo::Req *,
                                 grpc::ServerAsyncResponseWriter<demo::Resp> *, void *)>;
  explicit StepThroughFunction(Arm arm) : arm(std::move(arm)), responder(&ctx) {
    this->arm(&ctx, &req, &responder, this);
  }
  void Process() {}
  Arm arm;
  grpc::ServerContext ctx;
  demo::Req req;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder;
};
void Start(demo::Demo::AsyncService *s, grpc::ServerCompletionQueue *cq) {
  new StepThroughFunction([s, cq](grpc::ServerContext *ctx, demo::Req *req,
                                  grpc::ServerAsyncResponseWriter<demo::Resp> *w, void *tag) {
    s->RequestUnary(ctx, req, w, cq, cq, tag);
  });
}
struct DerivedStep : StepDirect { using StepDirect::StepDirect; void Extra() {} };
struct NotAStep { void Proceed() {} };
struct Reactor : grpc::ServerBidiReactor<demo::Req, demo::Resp> {
  void OnDone() override { delete this; }
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  EXPECT_TRUE(Analysis.isRequestStepClass(*classNamed(Ctx, "StepDirect")));
  EXPECT_TRUE(Analysis.isRequestStepClass(*classNamed(Ctx, "StepThroughFunction")));
  EXPECT_TRUE(Analysis.isRequestStepClass(*classNamed(Ctx, "DerivedStep")));
  EXPECT_FALSE(Analysis.isRequestStepClass(*classNamed(Ctx, "NotAStep")));
  EXPECT_FALSE(Analysis.isRequestStepClass(*classNamed(Ctx, "Reactor")));

  EXPECT_NE(Analysis.deletesItself(*classNamed(Ctx, "StepDirect")), nullptr);
  EXPECT_NE(Analysis.deletesItself(*classNamed(Ctx, "DerivedStep")), nullptr);
  EXPECT_NE(Analysis.deletesItself(*classNamed(Ctx, "Reactor")), nullptr);
  EXPECT_EQ(Analysis.deletesItself(*classNamed(Ctx, "StepThroughFunction")), nullptr);

  // Request steps: the methods run from outside the class or that arm the
  // request (Proceed is called by the constructor, but arms it); not the
  // constructor, a static, or a method only the class's own methods call.
  EXPECT_TRUE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepDirect", "Proceed")));
  EXPECT_TRUE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepDirect", "Finish")));
  EXPECT_FALSE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepDirect", "SetUp")));
  EXPECT_FALSE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepDirect", "Helper")));
  EXPECT_FALSE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepDirect", "Spawn")));
  EXPECT_FALSE(Analysis.isRequestEntry(**classNamed(Ctx, "StepDirect")->ctor_begin()));
  EXPECT_TRUE(Analysis.isRequestEntry(*methodNamed(Ctx, "StepThroughFunction", "Process")));
  EXPECT_TRUE(Analysis.isRequestEntry(*methodNamed(Ctx, "DerivedStep", "Extra")));
  EXPECT_FALSE(Analysis.isRequestEntry(*methodNamed(Ctx, "NotAStep", "Proceed")));

  RepetitionOptions NoSteps;
  NoSteps.TreatCqLoopCalleesAsHandlers = false;
  RepetitionAnalysis Off(Ctx, NoSteps);
  EXPECT_FALSE(Off.isRequestEntry(*methodNamed(Ctx, "StepDirect", "Proceed")));
  clear(Ctx);
}

// Values kept by objects: default member initialisers, members built
// implicitly, heap objects that live for one request.
TEST(Repetition, ObjectsThatLiveForOneRequest) {
  auto AST = test::parse(R"cpp(
#include <memory>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
struct Wrapper {
  std::shared_ptr<grpc::Channel> ch = grpc::CreateChannel("default_init", grpc::InsecureChannelCredentials());
};
struct Given {
  explicit Given(std::shared_ptr<grpc::Channel> c) : ch(std::move(c)) {}
  std::shared_ptr<grpc::Channel> ch = grpc::CreateChannel("unused_default", grpc::InsecureChannelCredentials());
};
struct Reactor : grpc::ServerBidiReactor<demo::Req, demo::Resp> {
  void OnDone() override { delete this; }
  Wrapper wrapper;
};
struct Out { std::unique_ptr<demo::Demo::Stub> stub; };
struct Kept { std::unique_ptr<demo::Demo::Stub> stub; };
struct Svc final : demo::Demo::CallbackService {
  grpc::ServerBidiReactor<demo::Req, demo::Resp> *Bidi(grpc::CallbackServerContext *) override {
    return new Reactor;
  }
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx, const demo::Req *,
                                  demo::Resp *) override {
    Given given(shared);
    auto *out = new Out;
    out->stub = demo::Demo::NewStub(grpc::CreateChannel("heap_deleted", grpc::InsecureChannelCredentials()));
    auto done = [out] { delete out; };
    done();
    auto *kept = new Kept;
    kept->stub = demo::Demo::NewStub(grpc::CreateChannel("heap_kept", grpc::InsecureChannelCredentials()));
    all.push_back(kept);
    return ctx->DefaultReactor();
  }
  std::shared_ptr<grpc::Channel> shared;
  std::vector<Kept *> all;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  int Checked = 0;
  // A default member initialiser's call is seen twice (also through the
  // constructor's CXXDefaultInitExpr): once is enough.
  llvm::SmallPtrSet<const CallExpr *, 8> Seen;
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    if (!Seen.insert(Call).second)
      continue;
    std::string Target = targetOf(*Call, Ctx);
    bool PerRequest = Target == "default_init" || Target == "heap_deleted";
    std::optional<RepeatedCreation> Found = Analysis.find(*Call, RepeatKind::Request);
    EXPECT_EQ(Found.has_value(), PerRequest) << Target;
    // A loop check never sees a heap object end with the request.
    EXPECT_FALSE(Analysis.find(*Call, RepeatKind::Loop).has_value()) << Target;
    if (Found) {
      ++Checked;
      EXPECT_NE(Found->End.Delete, nullptr) << Target;
      if (Target == "default_init") {
        // Wrapper built as Reactor's member, Reactor built by `new`.
        ASSERT_EQ(Found->Hops.size(), 2u);
        EXPECT_TRUE(TuIndex::get(Ctx).implicitInitOf(*Found->Hops[0].Site).has_value());
        EXPECT_EQ(Found->End.Class->getName(), "Reactor");
      } else {
        EXPECT_EQ(Found->End.Holder->getName(), "out");
      }
    }
  }
  EXPECT_EQ(Checked, 2);
  clear(Ctx);
}

// An indirect call repeats a creation only if every function it may run
// makes a client per call.
TEST(Repetition, IndirectCallsNeedEveryCalleeToCreate) {
  auto AST = test::parse(R"cpp(
#include <functional>
#include <memory>
#include <vector>
#include <grpcpp/grpcpp.h>
struct Source { virtual ~Source() = default; virtual std::shared_ptr<grpc::Channel> Get() = 0; };
struct Fresh : Source {
  std::shared_ptr<grpc::Channel> Get() override { return grpc::CreateChannel("fresh", grpc::InsecureChannelCredentials()); }
};
struct Pool : Source {
  std::shared_ptr<grpc::Channel> Get() override { return all[0]; }
  std::vector<std::shared_ptr<grpc::Channel>> all;
};
struct Only { virtual ~Only() = default; virtual std::shared_ptr<grpc::Channel> Get() = 0; };
struct OnlyFresh : Only {
  std::shared_ptr<grpc::Channel> Get() override { return grpc::CreateChannel("only", grpc::InsecureChannelCredentials()); }
};
std::shared_ptr<grpc::Channel> Dial() { return grpc::CreateChannel("dial", grpc::InsecureChannelCredentials()); }
void Loops(Source &s, Only &o, int n) {
  for (int i = 0; i < n; ++i) s.Get()->GetState(true);
  for (int i = 0; i < n; ++i) o.Get()->GetState(true);
  std::function<std::shared_ptr<grpc::Channel>()> make = [] { return Dial(); };
  for (int i = 0; i < n; ++i) make()->GetState(true);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  clear(Ctx); // an earlier test's context may have had the same address
  RepetitionAnalysis Analysis(Ctx, RepetitionOptions());
  EXPECT_TRUE(Analysis.createsPerCall(*methodNamed(Ctx, "Fresh", "Get")));
  EXPECT_FALSE(Analysis.createsPerCall(*methodNamed(Ctx, "Pool", "Get")));
  EXPECT_TRUE(Analysis.createsPerCall(*test::functionNamed(Ctx, "Dial")));
  for (const CallExpr *Call : test::callsTo(Ctx, "CreateChannel")) {
    std::string Target = targetOf(*Call, Ctx);
    std::optional<RepeatedCreation> Found = Analysis.find(*Call, RepeatKind::Loop);
    EXPECT_EQ(Found.has_value(), Target != "fresh") << Target;
    if (Found && Target == "only") {
      ASSERT_EQ(Found->Hops.size(), 1u);
      EXPECT_EQ(Found->Hops[0].Reached, methodNamed(Ctx, "OnlyFresh", "Get"));
    }
    if (Found && Target == "dial") {
      // Dial() is called in the lambda, the lambda through `make`.
      ASSERT_EQ(Found->Hops.size(), 2u);
      EXPECT_TRUE(llvm::cast<CXXMethodDecl>(Found->Hops[1].Reached)->getParent()->isLambda());
    }
  }
  clear(Ctx);
}

} // namespace
} // namespace grpcleak
