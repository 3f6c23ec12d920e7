//===- ReactorProtocolTest.cpp - Callback reactors that never complete ---===//
//
// Classes and handlers named by the answer the analysis must give:
// `Unfinished*` / `Finished*` server reactor classes and handlers,
// `Unstarted*` / `Started*` and `Held*` / `Released*` client reactor
// classes; a reaction's class is `Stuck*` when its `if (!ok) return;` is
// reported and `Handled*` when it is not. Each test also checks that every
// role has a member.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/ReactorProtocol.h"

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
    FlowCache::clear(Ctx);
    clearParentIndex(Ctx);
  }

private:
  ASTContext &Ctx;
};

const char *const Prelude = R"cpp(
#include <functional>
#include <grpcpp/grpcpp.h>
#include <stdexcept>
#include "demo.grpc.pb.h"
using Unary = grpc::ServerUnaryReactor;
using Ctx = grpc::CallbackServerContext;
void Later(std::function<void()> f);
void Reply(grpc::ServerUnaryReactor *r);
)cpp";

/// The non-template classes of the main file whose name starts with \p
/// Prefix (template instances: their first instance).
std::vector<const CXXRecordDecl *> classesNamed(ASTContext &Ctx,
                                                llvm::StringRef Prefix) {
  std::vector<const CXXRecordDecl *> Found;
  for (const BoundNodes &N :
       match(cxxRecordDecl(isDefinition(), isExpansionInMainFile(),
                           unless(isImplicit()))
                 .bind("c"),
             Ctx)) {
    const auto *RD = N.getNodeAs<CXXRecordDecl>("c");
    if (RD->getIdentifier() && RD->getName().starts_with(Prefix) &&
        !RD->isDependentType())
      Found.push_back(RD);
  }
  return Found;
}

TEST(ReactorProtocol, DefaultReactorFinishedOrHandedOn) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
struct Handlers {
Unary *UnfinishedEarly(Ctx *c, const demo::Req *q, demo::Resp *) {
  auto *r = c->DefaultReactor();
  if (q->name().empty()) return r;
  r->Finish(grpc::Status::OK);
  return r;
}
Unary *UnfinishedDirect(Ctx *c, const demo::Req *, demo::Resp *) {
  return c->DefaultReactor();
}
Unary *FinishedBoth(Ctx *c, const demo::Req *q, demo::Resp *) {
  Unary *r = c->DefaultReactor();
  if (q->name().empty()) { r->Finish(grpc::Status::CANCELLED); return r; }
  r->Finish(grpc::Status::OK);
  return r;
}
Unary *FinishedLater(Ctx *c, const demo::Req *, demo::Resp *) {
  auto *r = c->DefaultReactor();
  Later([r] { r->Finish(grpc::Status::OK); });
  return r;
}
Unary *FinishedByHelper(Ctx *c, const demo::Req *, demo::Resp *) {
  auto *r = c->DefaultReactor();
  Reply(r);
  return r;
}
Unary *FinishedOrThrown(Ctx *c, const demo::Req *q, demo::Resp *) {
  auto *r = c->DefaultReactor();
  if (q->name().empty()) throw std::runtime_error("x");
  r->Finish(grpc::Status::OK);
  return r;
}
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  unsigned Unfinished = 0, Finished = 0;
  for (const CallExpr *Call : test::callsTo(Ctx, "DefaultReactor")) {
    EXPECT_TRUE(isDefaultReactorCall(*Call));
    const FunctionDecl *Fn = enclosingCallable(*Call, Ctx);
    ASSERT_NE(Fn, nullptr);
    EXPECT_TRUE(isCallbackHandler(*Fn)) << Fn->getName().str();
    const FunctionFlow *Flow = FlowCache::get(*Fn, Ctx);
    ASSERT_NE(Flow, nullptr);
    std::optional<UnfinishedDefaultReactor> U =
        findUnfinishedDefaultReactor(*Call, *Flow);
    if (Fn->getName().starts_with("Unfinished")) {
      ++Unfinished;
      ASSERT_TRUE(U.has_value()) << Fn->getName().str();
      ASSERT_NE(U->Return, nullptr);
      EXPECT_EQ(U->Reactor == nullptr, Fn->getName() == "UnfinishedDirect");
      if (Fn->getName() == "UnfinishedEarly") // the early return, not the last
        EXPECT_TRUE(Ctx.getSourceManager().isBeforeInTranslationUnit(
            U->Return->getBeginLoc(), test::callsTo(Ctx, "Finish")[0]->getBeginLoc()));
    } else {
      ++Finished;
      EXPECT_FALSE(U.has_value()) << Fn->getName().str();
    }
  }
  EXPECT_EQ(Unfinished, 2u);
  EXPECT_EQ(Finished, 4u);
}

TEST(ReactorProtocol, ServerClassesThatMayFinish) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
class UnfinishedWriter : public grpc::ServerWriteReactor<demo::Resp> {
public:
  UnfinishedWriter() { StartWrite(&m_); }
  void OnDone() override { delete this; }
  demo::Resp m_;
};
template <class M> class UnfinishedTemplate : public grpc::ServerWriteReactor<M> {
public:
  UnfinishedTemplate() { this->StartWrite(&m_); }
  void OnDone() override { delete this; }
  M m_;
};
template class UnfinishedTemplate<demo::Resp>;
class FinishedOwn : public grpc::ServerReadReactor<demo::Req> {
public:
  void OnReadDone(bool) override { Finish(grpc::Status::OK); }
  void OnDone() override {}
};
template <class M> class FinishingBase : public grpc::ServerWriteReactor<M> {
protected:
  void Fail() { this->Finish(grpc::Status::CANCELLED); }
};
class FinishedByBase : public FinishingBase<demo::Resp> {
public:
  void OnWriteDone(bool ok) override { if (!ok) Fail(); }
  void OnDone() override {}
};
class FinishedOutside : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  void OnDone() override {}
};
void Stop(FinishedOutside *r) { r->Finish(grpc::Status::OK); }
class FinishedHandedOff : public grpc::ServerUnaryReactor {
public:
  FinishedHandedOff() { Later(std::bind(&FinishedHandedOff::Go, this)); }
  void Go();
  void OnDone() override {}
};
class FinishedOnlyReactor : public grpc::internal::FinishOnlyReactor<grpc::ServerUnaryReactor> {
public:
  FinishedOnlyReactor() : FinishOnlyReactor(grpc::Status::OK) {}
};
class FinishedDeclaredElsewhere : public grpc::ServerUnaryReactor {
public:
  void Start();
  void OnDone() override {}
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ReactorIndex Index(Ctx);
  auto Unfinished = classesNamed(Ctx, "Unfinished");
  auto Finished = classesNamed(Ctx, "Finished");
  ASSERT_EQ(Unfinished.size(), 2u);
  ASSERT_EQ(Finished.size(), 6u);
  for (const CXXRecordDecl *C : Unfinished) {
    EXPECT_FALSE(Index.mayCall(*C, ReactorCallRole::Finish)) << C->getName().str();
    EXPECT_EQ(Index.findCall(*C, ReactorCallRole::Finish), nullptr);
  }
  for (const CXXRecordDecl *C : Finished)
    EXPECT_TRUE(Index.mayCall(*C, ReactorCallRole::Finish)) << C->getName().str();
  // One entry per class; the template once (its instance).
  auto Classes = Index.reactorClasses(ReactorSide::Server);
  EXPECT_EQ(Classes.size(), 9u); // FinishingBase<demo::Resp> too
}

TEST(ReactorProtocol, NotOkReturnWithNothingFinishingAfter) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
class StuckEcho : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  StuckEcho() { StartRead(&q_); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    StartWrite(&p_);
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartRead(&q_); else Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override { delete this; }
  demo::Req q_; demo::Resp p_;
};
class HandledDuplex : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  HandledDuplex() { StartRead(&q_); StartWrite(&p_); }
  void OnReadDone(bool ok) override {
    if (!ok) { Finish(grpc::Status::OK); return; }
    StartRead(&q_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return;
    StartWrite(&p_);
  }
  void OnDone() override { delete this; }
  demo::Req q_; demo::Resp p_;
};
class HandledByCancel : public grpc::ServerReadReactor<demo::Req> {
public:
  HandledByCancel() { StartRead(&q_); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (q_.name() == "end") Finish(grpc::Status::OK); else StartRead(&q_);
  }
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }
  demo::Req q_;
};
class HandledInLambda : public grpc::ServerReadReactor<demo::Req> {
public:
  HandledInLambda() { StartRead(&q_); Later([this] { Finish(grpc::Status::OK); }); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    StartRead(&q_);
  }
  void OnDone() override { delete this; }
  demo::Req q_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ReactorIndex Index(Ctx);
  unsigned Stuck = 0, Handled = 0;
  for (const BoundNodes &N :
       match(cxxMethodDecl(isDefinition(), isExpansionInMainFile(),
                           hasAnyName("OnReadDone", "OnWriteDone"))
                 .bind("m"),
             Ctx)) {
    const auto *Reaction = N.getNodeAs<CXXMethodDecl>("m");
    llvm::StringRef Class = Reaction->getParent()->getName();
    // Only the reactions that have the direct shape are asked about.
    bool Direct = (Class == "StuckEcho" && Reaction->getName() == "OnReadDone") ||
                  (Class == "HandledDuplex" && Reaction->getName() == "OnWriteDone") ||
                  (Class.starts_with("Handled") && Class != "HandledDuplex" &&
                   Reaction->getName() == "OnReadDone");
    std::optional<UnhandledFailure> F = Index.findUnhandledFailure(*Reaction);
    if (Class.starts_with("Stuck") && Direct) {
      ++Stuck;
      ASSERT_TRUE(F.has_value());
      ASSERT_NE(F->Return, nullptr);
      // The one Finish(), on the failed write, cannot follow.
      EXPECT_EQ(F->Unreachable.size(), 1u);
    } else {
      Handled += Direct;
      EXPECT_FALSE(F.has_value()) << Class.str() << "::" << Reaction->getName().str();
    }
  }
  EXPECT_EQ(Stuck, 1u);
  EXPECT_EQ(Handled, 3u);
}

TEST(ReactorProtocol, ClientReactorsStartedAndReleased) {
  auto AST = test::parse(std::string(Prelude) + R"cpp(
class UnstartedReader : public grpc::ClientReadReactor<demo::Resp> {
public:
  explicit UnstartedReader(demo::Demo::Stub *s) { s->async()->ServerStream(&c_, &q_, this); }
  grpc::ClientContext c_; demo::Req q_;
};
template <class M> class StartingBase : public grpc::ClientReadReactor<M> {
protected:
  void Go() { this->StartCall(); }
};
class StartedByBase : public StartingBase<demo::Resp> {
public:
  explicit StartedByBase(demo::Demo::Stub *s) { s->async()->ServerStream(&c_, &q_, this); Go(); }
  grpc::ClientContext c_; demo::Req q_;
};
class StartedOutside : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {};
void Run(demo::Demo::Stub *s, grpc::ClientContext *c) {
  StartedOutside local;
  s->async()->Bidi(c, &local);
  local.StartCall();
  s->async()->Bidi(c, new StartedOutside());
}
class HeldWriter : public grpc::ClientWriteReactor<demo::Req> {
public:
  explicit HeldWriter(demo::Demo::Stub *s) { s->async()->ClientStream(&c_, &p_, this); AddHold(); StartCall(); }
  grpc::ClientContext c_; demo::Resp p_;
};
class ReleasedWriter : public grpc::ClientWriteReactor<demo::Req> {
public:
  explicit ReleasedWriter(demo::Demo::Stub *s) { s->async()->ClientStream(&c_, &p_, this); AddHold(); StartCall(); }
  void OnWriteDone(bool) override { RemoveHold(); }
  grpc::ClientContext c_; demo::Resp p_;
};
void ViaBase(demo::Demo::Stub *s, grpc::ClientContext *c, grpc::ClientBidiReactor<demo::Req, demo::Resp> *any) {
  s->async()->Bidi(c, any);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetCaches Forget(Ctx);
  ReactorIndex Index(Ctx);
  // Which class each callback call is given.
  std::vector<const CXXRecordDecl *> Given;
  unsigned Unknown = 0;
  for (llvm::StringRef Method : {"ServerStream", "Bidi", "ClientStream"})
    for (const CallExpr *Call : test::callsTo(Ctx, Method)) {
      std::optional<RpcStart> Start = classifyRpcStart(Call);
      if (!Start || Start->Api != RpcApi::Callback)
        continue;
      const Expr *Arg = clientReactorArgument(*Start);
      ASSERT_NE(Arg, nullptr);
      if (const CXXRecordDecl *Class = clientReactorClass(*Arg))
        Given.push_back(Class);
      else
        ++Unknown;
    }
  EXPECT_EQ(Unknown, 1u); // through a pointer to gRPC's base class
  ASSERT_EQ(Given.size(), 6u);
  for (const CXXRecordDecl *Class : Given) {
    llvm::StringRef Name = Class->getName();
    EXPECT_EQ(Index.mayCall(*Class, ReactorCallRole::Start),
              !Name.starts_with("Unstarted"))
        << Name.str();
    if (Name.starts_with("Held") || Name.starts_with("Released")) {
      EXPECT_NE(Index.findCall(*Class, ReactorCallRole::Hold), nullptr);
      EXPECT_EQ(Index.mayCall(*Class, ReactorCallRole::Unhold),
                Name.starts_with("Released"))
          << Name.str();
    }
  }
}

} // namespace
} // namespace grpcleak
