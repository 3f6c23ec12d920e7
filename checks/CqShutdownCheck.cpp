//===- CqShutdownCheck.cpp - grpc-leak-cq-shutdown ------------------------===//

#include "CqShutdownCheck.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/Repetition.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

CqShutdownCheck::CqShutdownCheck(StringRef Name, ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckPollerWithoutShutdown(Options.get("CheckPollerWithoutShutdown", true)),
      CheckShutdownWithoutDrain(Options.get("CheckShutdownWithoutDrain", true)),
      CheckServerOrder(Options.get("CheckServerOrder", true)) {}

void CqShutdownCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckPollerWithoutShutdown", CheckPollerWithoutShutdown);
  Options.store(Opts, "CheckShutdownWithoutDrain", CheckShutdownWithoutDrain);
  Options.store(Opts, "CheckServerOrder", CheckServerOrder);
}

void CqShutdownCheck::onEndOfTranslationUnit() {
  ReportedPollers.clear();
  GrpcLeakCheck::onEndOfTranslationUnit();
}

void CqShutdownCheck::registerMatchers(MatchFinder *Finder) {
  if (CheckPollerWithoutShutdown)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("Next")))).bind("next"),
        this);
  if (CheckShutdownWithoutDrain || CheckServerOrder)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("Shutdown"))))
            .bind("shutdown"),
        this);
}

void CqShutdownCheck::check(const MatchFinder::MatchResult &Result) {
  if (const auto *Next = Result.Nodes.getNodeAs<CXXMemberCallExpr>("next"))
    checkPoller(*Next, *Result.Context);
  else if (const auto *Shutdown =
               Result.Nodes.getNodeAs<CXXMemberCallExpr>("shutdown"))
    checkShutdown(*Shutdown, *Result.Context);
}

/// A queue held by a local variable or a member, judged by this check.
static const ValueDecl *judgedQueue(const CXXMemberCallExpr &Call,
                                    bool *ServerQueue = nullptr) {
  const ValueDecl *Queue = ::grpcleak::objectOf(Call);
  if (!Queue || !::grpcleak::isCompletionQueueHolder(Queue->getType(), ServerQueue))
    return nullptr;
  if (const auto *Var = llvm::dyn_cast<VarDecl>(Queue))
    if (!::grpcleak::isAutomaticLocal(Var) || Var->getType()->isReferenceType() ||
        Var->getType()->isPointerType())
      return nullptr; // someone else's queue
  if (llvm::isa<FieldDecl>(Queue) && (Queue->getType()->isPointerType() ||
                                      Queue->getType()->isReferenceType()))
    return nullptr; // a pointer or reference member: someone else's queue
  return Queue;
}

/// True if \p S shuts the queue down, or hands it to code that may.
static bool shutsDownOrHandsOn(const Stmt &S, const ValueDecl &Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (::grpcleak::isQueueCall(*Call, "Shutdown") &&
        ::grpcleak::objectOf(*Member) == &Queue)
      return true;
  const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call);
  if (Op && Op->getOperator() == OO_Arrow)
    return false;
  // gRPC's own API and the generated stubs and services only post tags on
  // a queue passed to them (PrepareAsyncX(&ctx, req, cq), RequestX(..., cq,
  // cq, tag), Alarm::Set): they never shut it down.
  if (const FunctionDecl *Callee = Call->getDirectCallee()) {
    if (::grpcleak::isInGeneratedFile(Callee->getLocation(),
                                      Callee->getASTContext().getSourceManager()))
      return false;
    if (::grpcleak::isInGrpcNamespace(*Callee))
      return false;
  }
  for (const Expr *Arg : Call->arguments())
    if (::grpcleak::namesObject(Arg, &Queue))
      return true;
  return false;
}

void CqShutdownCheck::checkPoller(const CXXMemberCallExpr &Next, ASTContext &Ctx) {
  if (!::grpcleak::isQueueCall(Next, "Next"))
    return;
  const FunctionDecl *Fn = analyzableFunctionAround(Next, Ctx);
  const ValueDecl *Queue = judgedQueue(Next);
  // A poller: Next() in a loop (its condition or body).
  if (!Fn || !Queue || !::grpcleak::enclosingLoop(Next, Ctx) ||
      ReportedPollers.contains(Queue))
    return;
  auto Stops = [&](const Stmt &S) { return shutsDownOrHandsOn(S, *Queue); };
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(Queue)) {
    const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Field->getParent());
    bool Unseen = false;
    if (!Class || ::grpcleak::anyMethodStatement(*Class, Stops, Unseen) || Unseen)
      return;
  } else {
    // A local queue: anywhere in the function that owns it (its lambdas,
    // threads included).
    const auto *Var = llvm::cast<VarDecl>(Queue);
    const auto *Owner =
        llvm::dyn_cast_or_null<FunctionDecl>(Var->getParentFunctionOrMethod());
    if (!Owner || ::grpcleak::anyStatement(Owner->getBody(), Stops))
      return;
  }
  ReportedPollers.insert(Queue);
  diag(Next.getExprLoc(),
       "completion queue %0 is polled here but never shut down; Next() will "
       "never return false, so this loop cannot end and a thread joining it "
       "hangs")
      << Queue;
  diag(Queue->getLocation(),
       "%0 is declared here; call Shutdown() on it when stopping, then drain "
       "it",
       DiagnosticIDs::Note)
      << Queue;
}

void CqShutdownCheck::checkShutdown(const CXXMemberCallExpr &Shutdown,
                                    ASTContext &Ctx) {
  if (!::grpcleak::isQueueCall(Shutdown, "Shutdown"))
    return;
  bool ServerQueue = false;
  const ValueDecl *Queue = judgedQueue(Shutdown, &ServerQueue);
  const ::grpcleak::FunctionFlow *Flow = Queue ? flowAround(Shutdown, Ctx) : nullptr;
  if (!Flow)
    return;
  std::optional<::grpcleak::CfgPoint> At = Flow->locate(Shutdown);
  if (!At)
    return;

  // The server's queue must be shut down after the server.
  if (CheckServerOrder && ServerQueue) {
    auto IsServerShutdown = [](const Stmt &S) {
      const auto *Call = llvm::dyn_cast<CallExpr>(&S);
      return Call && ::grpcleak::isServerCall(*Call, "Shutdown");
    };
    if (const Stmt *Later = ::grpcleak::findReachable(*Flow, *At, IsServerShutdown)) {
      diag(Shutdown.getExprLoc(),
           "completion queue %0 is shut down before the server that uses it; "
           "shut the server down first, then the queue, then drain it")
          << Queue;
      diag(llvm::cast<CallExpr>(Later)->getExprLoc(),
           "the server is shut down here, after its queue", DiagnosticIDs::Note);
      return;
    }
  }

  // Shut down, then destroyed undrained: a local going out of scope, or a
  // member at the end of the destructor.
  const FunctionDecl &Fn = Flow->function();
  bool Dies = llvm::isa<VarDecl>(Queue) ||
              (llvm::isa<FieldDecl>(Queue) && llvm::isa<CXXDestructorDecl>(&Fn));
  if (!CheckShutdownWithoutDrain || !Dies)
    return;
  auto Judge = [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return llvm::isa<CXXThrowExpr>(&S) ? ::grpcleak::Verdict::Discharged
                                         : ::grpcleak::Verdict::Continue;
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      if ((::grpcleak::isQueueCall(*Call, "Next") ||
           ::grpcleak::isQueueCall(*Call, "AsyncNext")) &&
          ::grpcleak::objectOf(*Member) == Queue)
        return ::grpcleak::Verdict::Discharged;
      // Joining a poller thread that drains it.
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() && MD->getName() == "join")
          return ::grpcleak::Verdict::Discharged;
    }
    if (shutsDownOrHandsOn(*Call, *Queue) && Call != &Shutdown)
      return ::grpcleak::Verdict::Discharged; // a helper may drain it
    return ::grpcleak::Verdict::Continue;
  };
  std::optional<::grpcleak::FlowPath> Path =
      ::grpcleak::findPathForward(*Flow, *At, Judge);
  if (!Path || Path->ViolatedAt)
    return;
  diag(Shutdown.getExprLoc(),
       "completion queue %0 is shut down here but not drained before it is "
       "destroyed; call Next() until it returns false (events left in it "
       "abort the process)")
      << Queue;
  if (Path->ExitReturn)
    diag(Path->ExitReturn->getBeginLoc(), "%0 is destroyed after this return",
         DiagnosticIDs::Note)
        << Queue;
  else if (const auto *Body = llvm::dyn_cast_or_null<CompoundStmt>(Fn.getBody()))
    diag(Body->getRBracLoc(), "%0 is destroyed here", DiagnosticIDs::Note)
        << Queue;
}

} // namespace clang::tidy::grpcleak
