//===- CqShutdownCheck.cpp - grpc-leak-cq-shutdown ------------------------===//

#include "CqShutdownCheck.h"
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

void CqShutdownCheck::checkPoller(const CXXMemberCallExpr &Next, ASTContext &Ctx) {
  if (!::grpcleak::isQueueCall(Next, "Next"))
    return;
  const FunctionDecl *Fn = analyzableFunctionAround(Next, Ctx);
  const ValueDecl *Queue = ::grpcleak::ownedQueueOf(Next);
  // A poller: Next() in a loop (its condition or body).
  if (!Fn || !Queue || !::grpcleak::enclosingLoop(Next, Ctx) ||
      ReportedPollers.contains(Queue) || ::grpcleak::queueMayBeShutDown(*Queue))
    return;
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
  const ValueDecl *Queue = ::grpcleak::ownedQueueOf(Shutdown, &ServerQueue);
  const ::grpcleak::FunctionFlow *Flow = Queue ? flowAround(Shutdown, Ctx) : nullptr;
  if (!Flow)
    return;

  // The server's queue must be shut down after the server.
  if (CheckServerOrder && ServerQueue) {
    if (const CallExpr *Later = ::grpcleak::serverShutdownAfter(*Flow, Shutdown)) {
      diag(Shutdown.getExprLoc(),
           "completion queue %0 is shut down before the server that uses it; "
           "shut the server down first, then the queue, then drain it")
          << Queue;
      diag(Later->getExprLoc(), "the server is shut down here, after its queue",
           DiagnosticIDs::Note);
      return;
    }
  }

  if (!CheckShutdownWithoutDrain)
    return;
  std::optional<::grpcleak::FlowPath> Path =
      ::grpcleak::findUndrainedQueuePath(*Flow, Shutdown, *Queue);
  if (!Path)
    return;
  const FunctionDecl &Fn = Flow->function();
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
