//===- CqShutdownCheck.cpp - grpc-leak-cq-shutdown ------------------------===//

#include "CqShutdownCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/TuIndex.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

CqShutdownCheck::CqShutdownCheck(StringRef Name, ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckPollerWithoutShutdown(Options.get("CheckPollerWithoutShutdown", true)),
      CheckShutdownWithoutDrain(Options.get("CheckShutdownWithoutDrain", true)),
      CheckServerOrder(Options.get("CheckServerOrder", true)),
      CheckJoinOrder(Options.get("CheckJoinOrder", true)),
      CheckAbandonedOperations(Options.get("CheckAbandonedOperations", true)) {}

void CqShutdownCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckPollerWithoutShutdown", CheckPollerWithoutShutdown);
  Options.store(Opts, "CheckShutdownWithoutDrain", CheckShutdownWithoutDrain);
  Options.store(Opts, "CheckServerOrder", CheckServerOrder);
  Options.store(Opts, "CheckJoinOrder", CheckJoinOrder);
  Options.store(Opts, "CheckAbandonedOperations", CheckAbandonedOperations);
}

void CqShutdownCheck::onEndOfTranslationUnit() {
  ReportedPollers.clear();
  GrpcLeakCheck::onEndOfTranslationUnit();
}

void CqShutdownCheck::registerCheckMatchers(MatchFinder *Finder) {
  if (CheckPollerWithoutShutdown)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("Next")))).bind("next"),
        this);
  if (CheckShutdownWithoutDrain || CheckServerOrder)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("Shutdown"))))
            .bind("shutdown"),
        this);
  if (CheckJoinOrder)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("join")))).bind("join"),
        this);
  if (CheckAbandonedOperations)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("AsyncNext"))))
            .bind("asyncnext"),
        this);
}

void CqShutdownCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  ASTContext &Ctx = *Result.Context;
  if (const auto *Next = Result.Nodes.getNodeAs<CXXMemberCallExpr>("next"))
    checkPoller(*Next, Ctx);
  else if (const auto *Shutdown =
               Result.Nodes.getNodeAs<CXXMemberCallExpr>("shutdown"))
    checkShutdown(*Shutdown, Ctx);
  else if (const auto *Join = Result.Nodes.getNodeAs<CXXMemberCallExpr>("join"))
    checkJoin(*Join, Ctx);
  else if (const auto *AsyncNext =
               Result.Nodes.getNodeAs<CXXMemberCallExpr>("asyncnext"))
    checkAsyncNext(*AsyncNext, Ctx);
}

void CqShutdownCheck::notePassedQueue(const CXXMemberCallExpr &Poll,
                                      const ValueDecl &Queue, ASTContext &Ctx) {
  const auto *Param =
      llvm::dyn_cast_or_null<ParmVarDecl>(::grpcleak::objectOf(Poll));
  const auto *Fn =
      Param ? llvm::dyn_cast<FunctionDecl>(Param->getDeclContext()) : nullptr;
  if (!Fn)
    return;
  for (const Expr *Site : ::grpcleak::TuIndex::get(Ctx).callSitesOf(*Fn)) {
    diag(Site->getBeginLoc(), "%0 runs here on %1", DiagnosticIDs::Note)
        << Fn << &Queue;
    return;
  }
}

void CqShutdownCheck::checkPoller(const CXXMemberCallExpr &Next, ASTContext &Ctx) {
  if (!::grpcleak::isQueueCall(Next, "Next"))
    return;
  const FunctionDecl *Fn = analyzableFunctionAround(Next, Ctx);
  const ValueDecl *Queue = ::grpcleak::ownedQueueOf(Next);
  // A poller: Next() in a loop (its condition or body).
  if (!Fn || !Queue || !::grpcleak::enclosingLoop(Next, Ctx) ||
      ReportedPollers.contains(Queue) || ::grpcleak::queueMayBeShutDown(*Queue) ||
      !firstInstance(Next.getExprLoc(), *Fn))
    return;
  ReportedPollers.insert(Queue);
  diag(Next.getExprLoc(),
       "completion queue %0 is polled here but never shut down; Next() will "
       "never return false, so this loop cannot end and a thread joining it "
       "hangs")
      << Queue;
  notePassedQueue(Next, *Queue, Ctx);
  diag(Queue->getLocation(),
       "%0 is declared here; call Shutdown() on it when stopping, then drain "
       "it",
       DiagnosticIDs::Note)
      << Queue;
  noteInstantiation(*Fn);
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
  const FunctionDecl &Fn = Flow->function();

  // The server's queue must be shut down after the server.
  if (CheckServerOrder && ServerQueue) {
    if (const CallExpr *Later = ::grpcleak::serverShutdownAfter(*Flow, Shutdown)) {
      if (!firstInstance(Shutdown.getExprLoc(), Fn))
        return;
      diag(Shutdown.getExprLoc(),
           "completion queue %0 is shut down before the server that uses it; "
           "shut the server down first, then the queue, then drain it")
          << Queue;
      bool InBase = ::grpcleak::enclosingCallable(*Later, Ctx) != &Fn;
      diag(Later->getExprLoc(),
           "the server is shut down here, after its queue%select{|, by a base "
           "class's destructor, which runs after this one}0",
           DiagnosticIDs::Note)
          << InBase;
      noteInstantiation(Fn);
      return;
    }
  }

  if (!CheckShutdownWithoutDrain)
    return;
  std::optional<::grpcleak::UndrainedQueue> Undrained =
      ::grpcleak::findUndrainedQueue(*Flow, Shutdown, *Queue);
  if (!Undrained || !firstInstance(Shutdown.getExprLoc(), Fn))
    return;
  if (Undrained->NeverDrained)
    diag(Shutdown.getExprLoc(),
         "completion queue %0 is shut down here but no code of its class "
         "drains it; call Next() until it returns false before it is "
         "destroyed (events left in it abort the process)")
        << Queue;
  else
    diag(Shutdown.getExprLoc(),
         "completion queue %0 is shut down here but not drained before it is "
         "destroyed; call Next() until it returns false (events left in it "
         "abort the process)")
        << Queue;
  if (Undrained->Join) {
    diag(Undrained->Join->getExprLoc(),
         "joining this thread does not drain %0: its polling loop can end "
         "first",
         DiagnosticIDs::Note)
        << Queue;
    if (const Stmt *Exit = Undrained->EarlyPoller->EarlyExit)
      diag(Exit->getBeginLoc(), "the polling loop can end here, with events "
                                "left in the queue",
           DiagnosticIDs::Note);
  }
  if (Undrained->NeverDrained) {
    // The queue lives on after this method; nothing of its class drains it.
  } else if (Undrained->Path.ExitReturn) {
    diag(Undrained->Path.ExitReturn->getBeginLoc(),
         "%0 is destroyed after this return", DiagnosticIDs::Note)
        << Queue;
  } else if (const auto *Body = llvm::dyn_cast_or_null<CompoundStmt>(Fn.getBody())) {
    diag(Body->getRBracLoc(), "%0 is destroyed here", DiagnosticIDs::Note)
        << Queue;
  }
  noteInstantiation(Fn);
}

void CqShutdownCheck::checkJoin(const CXXMemberCallExpr &Join, ASTContext &Ctx) {
  if (!::grpcleak::joinedThreads(Join))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(Join, Ctx);
  if (!Flow)
    return;
  std::optional<::grpcleak::JoinBeforeShutdown> Found =
      ::grpcleak::findJoinBeforeShutdown(*Flow, Join);
  if (!Found || !firstInstance(Join.getExprLoc(), Flow->function()))
    return;
  const ValueDecl *Queue = Found->Poller.Queue;
  diag(Join.getExprLoc(),
       "this thread polls completion queue %0 until it is shut down, but it "
       "is joined before %0 is shut down; join() never returns")
      << Queue;
  diag(Found->Poller.Poll->getExprLoc(),
       "the thread's loop ends only when Next() reports the queue shut down",
       DiagnosticIDs::Note);
  diag(Found->LaterShutdown->getExprLoc(),
       "%0 is shut down only here, after the join; shut it down first",
       DiagnosticIDs::Note)
      << Queue;
  noteInstantiation(Flow->function());
}

void CqShutdownCheck::checkAsyncNext(const CXXMemberCallExpr &AsyncNext,
                                     ASTContext &Ctx) {
  if (!::grpcleak::isQueueCall(AsyncNext, "AsyncNext"))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(AsyncNext, Ctx);
  if (!Flow)
    return;
  std::optional<::grpcleak::FlowPath> Path =
      ::grpcleak::findTimeoutAbandonment(*Flow, AsyncNext);
  const ValueDecl *Queue = ::grpcleak::ownedQueueOf(AsyncNext);
  if (!Path || !Queue || !firstInstance(AsyncNext.getExprLoc(), Flow->function()))
    return;
  diag(AsyncNext.getExprLoc(),
       "on a timeout of this AsyncNext(), completion queue %0 is destroyed "
       "while an operation on it is still pending (events left in it abort "
       "the process); cancel the call (TryCancel()) and call Next() for its "
       "tag first")
      << Queue;
  if (Path->ExitReturn)
    diag(Path->ExitReturn->getBeginLoc(),
         "%0 is destroyed after this return on the timeout path",
         DiagnosticIDs::Note)
        << Queue;
  else if (const auto *Body =
               llvm::dyn_cast_or_null<CompoundStmt>(Flow->function().getBody()))
    diag(Body->getRBracLoc(), "%0 is destroyed here on the timeout path",
         DiagnosticIDs::Note)
        << Queue;
  noteInstantiation(Flow->function());
}

} // namespace clang::tidy::grpcleak
