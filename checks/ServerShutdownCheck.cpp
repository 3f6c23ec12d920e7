//===- ServerShutdownCheck.cpp - grpc-leak-server-shutdown ----------------===//

#include "ServerShutdownCheck.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/AST/ParentMapContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <deque>

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

ServerShutdownCheck::ServerShutdownCheck(StringRef Name,
                                         ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckShutdownDeadline(Options.get("CheckShutdownDeadline", false)),
      GraceSeconds(Options.get("GraceSeconds", 10U)),
      CheckSignalHandlers(Options.get("CheckSignalHandlers", true)),
      SignalHandlerCallDepth(Options.get("SignalHandlerCallDepth", 3U)) {}

void ServerShutdownCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckShutdownDeadline", CheckShutdownDeadline);
  Options.store(Opts, "GraceSeconds", GraceSeconds);
  Options.store(Opts, "CheckSignalHandlers", CheckSignalHandlers);
  Options.store(Opts, "SignalHandlerCallDepth", SignalHandlerCallDepth);
}

void ServerShutdownCheck::registerMatchers(MatchFinder *Finder) {
  Finder->addMatcher(
      cxxMemberCallExpr(callee(cxxMethodDecl(hasName("BuildAndStart"))))
          .bind("start"),
      this);
  if (CheckShutdownDeadline)
    Finder->addMatcher(cxxMemberCallExpr(argumentCountIs(0),
                                         callee(cxxMethodDecl(hasName("Shutdown"))))
                           .bind("shutdown"),
                       this);
  if (CheckSignalHandlers) {
    // signal(SIGTERM, handler) / std::signal(...), and sa.sa_handler = handler.
    // `Handler` or `&Handler`.
    auto Handler = ignoringParenImpCasts(
        anyOf(declRefExpr(to(functionDecl().bind("handler"))),
              unaryOperator(hasOperatorName("&"),
                            hasUnaryOperand(ignoringParenImpCasts(declRefExpr(
                                to(functionDecl().bind("handler"))))))));
    Finder->addMatcher(
        callExpr(callee(functionDecl(hasAnyName("::signal", "::std::signal",
                                                "::bsd_signal", "::sysv_signal"))),
                 hasArgument(1, Handler))
            .bind("registration"),
        this);
    Finder->addMatcher(
        binaryOperator(isAssignmentOperator(),
                       hasLHS(memberExpr(member(hasAnyName("sa_handler",
                                                           "sa_sigaction")))),
                       hasRHS(Handler))
            .bind("registration"),
        this);
  }
}

void ServerShutdownCheck::check(const MatchFinder::MatchResult &Result) {
  ASTContext &Ctx = *Result.Context;
  if (const auto *Start = Result.Nodes.getNodeAs<CallExpr>("start"))
    checkStartedServer(*Start, Ctx);
  else if (const auto *Shutdown =
               Result.Nodes.getNodeAs<CXXMemberCallExpr>("shutdown"))
    checkShutdownDeadline(*Shutdown, Ctx);
  else if (const auto *Handler = Result.Nodes.getNodeAs<FunctionDecl>("handler"))
    checkSignalHandler(*Handler, *Result.Nodes.getNodeAs<Expr>("registration"),
                       Ctx);
}

/// True if \p S ends the server's life safely, or hands it to someone who
/// will: Shutdown(), Wait() (which returns only after a shutdown), a move, a
/// store, a return, a call that receives it, a lambda that captures it.
static bool releasesServer(const Stmt &S, const ValueDecl &Server) {
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&S)) {
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      if ((::grpcleak::isServerCall(*Call, "Shutdown") ||
           ::grpcleak::isServerCall(*Call, "Wait")) &&
          ::grpcleak::objectOf(*Member) == &Server)
        return true;
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() && MD->getName() == "release" &&
            ::grpcleak::objectOf(*Member) == &Server)
          return true;
    }
    const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call);
    unsigned Index = 0;
    for (const Expr *Arg : Call->arguments()) {
      bool Names = ::grpcleak::namesObject(Arg, &Server);
      // `server->Shutdown()` passes the server to operator->: a use; and
      // `server = ...` gives the holder a server, it does not hand it on.
      bool IsUse = Op && (Op->getOperator() == OO_Arrow ||
                          Op->getOperator() == OO_Star ||
                          Op->getOperator() == OO_ExclaimEqual ||
                          Op->getOperator() == OO_EqualEqual ||
                          (Op->getOperator() == OO_Equal && Index == 0));
      if (Names && !IsUse)
        return true;
      ++Index;
    }
    return false;
  }
  if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S))
    return ::grpcleak::namesObject(Return->getRetValue(), &Server);
  if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S))
    return Assign->isAssignmentOp() &&
           ::grpcleak::namesObject(Assign->getRHS(), &Server);
  if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S)) {
    for (const LambdaCapture &Capture : Lambda->captures())
      if (Capture.capturesVariable() && Capture.getCapturedVar() == &Server)
        return true;
    return false;
  }
  return llvm::isa<CXXThrowExpr>(&S); // exception paths are not judged
}

/// If \p Cond tests the server for failure (`!server`, `server == nullptr`,
/// also inside `||`): true when the true branch is the failure branch,
/// false when the false branch is (`if (server)`). Start-up error handling
/// right after BuildAndStart() is not a path to judge.
static std::optional<bool> failureBranchIsTrue(const Expr *Cond,
                                               const VarDecl &Server) {
  if (!Cond)
    return std::nullopt;
  Cond = Cond->IgnoreParenImpCasts();
  if (::grpcleak::namesObject(Cond, &Server))
    return false; // `if (server)`
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Cond))
    if (U->getOpcode() == UO_LNot &&
        ::grpcleak::namesObject(U->getSubExpr()->IgnoreParenImpCasts(), &Server))
      return true;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Cond))
    if ((Op->getOperator() == OO_EqualEqual ||
         Op->getOperator() == OO_ExclaimEqual) &&
        Op->getNumArgs() == 2 &&
        (::grpcleak::namesObject(Op->getArg(0), &Server) ||
         ::grpcleak::namesObject(Op->getArg(1), &Server)))
      return Op->getOperator() == OO_EqualEqual;
  if (const auto *B = llvm::dyn_cast<BinaryOperator>(Cond))
    if (B->getOpcode() == BO_LOr)
      for (const Expr *Side : {B->getLHS(), B->getRHS()})
        if (std::optional<bool> Inner = failureBranchIsTrue(Side, Server))
          if (*Inner)
            return true;
  return std::nullopt;
}

void ServerShutdownCheck::checkStartedServer(const CallExpr &Start,
                                             ASTContext &Ctx) {
  if (!::grpcleak::isBuildAndStart(Start))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(Start, Ctx);
  if (!Flow)
    return;
  // Who holds the started server?
  const ValueDecl *Holder = nullptr;
  ::grpcleak::ParentList Parents = ::grpcleak::parentsOf(Ctx, Start);
  const Expr *Current = &Start;
  while (Parents.size() == 1) {
    if (const auto *Var = Parents[0].get<VarDecl>()) {
      Holder = Var;
      break;
    }
    const auto *Parent = Parents[0].get<Expr>();
    if (!Parent)
      break;
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Parent)) {
      if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
          Op->getArg(1) != Current)
        break;
      if (Op->getOperator() == OO_Equal) {
        const Expr *Target = ::grpcleak::stripValue(Op->getArg(0));
        if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Target))
          Holder = Ref->getDecl();
        else if (const auto *Member = llvm::dyn_cast<MemberExpr>(Target))
          Holder = Member->getMemberDecl();
        break;
      }
    }
    if (!llvm::isa<ImplicitCastExpr, MaterializeTemporaryExpr,
                   CXXBindTemporaryExpr, ExprWithCleanups, ParenExpr,
                   CXXConstructExpr>(Parent))
      break; // returned, passed on: the new owner's concern
    Current = Parent;
    Parents = ::grpcleak::parentsOf(Ctx, *Parent);
  }
  if (!Holder || !::grpcleak::isServerHolder(Holder->getType()))
    return;

  if (const auto *Field = llvm::dyn_cast<FieldDecl>(Holder)) {
    // A member: the class must shut it down somewhere (destructor, Stop()).
    const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Field->getParent());
    bool Unseen = false;
    auto Releases = [&](const Stmt &S) { return releasesServer(S, *Field); };
    if (!Class || ::grpcleak::anyMethodStatement(*Class, Releases, Unseen) ||
        Unseen)
      return;
    diag(Start.getExprLoc(),
         "gRPC server %0 is started here but no method of its class shuts it "
         "down; ~Server() will then shut it down with no deadline, waiting "
         "for every in-flight call")
        << Field;
    diag(Field->getLocation(),
         "%0 is declared here; call Shutdown() on it, with a deadline, in the "
         "destructor or a stop method",
         DiagnosticIDs::Note)
        << Field;
    return;
  }
  const auto *Var = llvm::dyn_cast<VarDecl>(Holder);
  if (!Var || !::grpcleak::isAutomaticLocal(Var) || Var->isStaticLocal())
    return;
  std::optional<::grpcleak::CfgPoint> At = Flow->locate(Start);
  if (!At)
    return;
  auto Judge = [&](const Stmt &S) {
    return releasesServer(S, *Var) ? ::grpcleak::Verdict::Discharged
                                   : ::grpcleak::Verdict::Continue;
  };
  auto Follow = [&](const CFGBlock &From, unsigned SuccIndex) {
    if (From.succ_size() != 2)
      return true;
    std::optional<bool> FailureIsTrue = failureBranchIsTrue(
        llvm::dyn_cast_or_null<Expr>(From.getTerminatorCondition()), *Var);
    return !FailureIsTrue || SuccIndex != (*FailureIsTrue ? 0u : 1u);
  };
  std::optional<::grpcleak::FlowPath> Path =
      ::grpcleak::findPathForward(*Flow, *At, Judge, Follow);
  if (!Path || Path->ViolatedAt)
    return;
  diag(Start.getExprLoc(),
       "gRPC server %0 started here is destroyed without Shutdown() on some "
       "path; ~Server() then shuts it down with no deadline, waiting for "
       "every in-flight call")
      << Var;
  if (Path->ExitReturn)
    diag(Path->ExitReturn->getBeginLoc(),
         "returns here without calling Shutdown() on %0", DiagnosticIDs::Note)
        << Var;
  else if (const auto *Body =
               llvm::dyn_cast_or_null<CompoundStmt>(Flow->function().getBody()))
    diag(Body->getRBracLoc(),
         "reaches the end of the function without calling Shutdown() on %0",
         DiagnosticIDs::Note)
        << Var;
}

void ServerShutdownCheck::checkShutdownDeadline(const CXXMemberCallExpr &Shutdown,
                                                ASTContext &Ctx) {
  if (!::grpcleak::isServerCall(Shutdown, "Shutdown") ||
      !analyzableFunctionAround(Shutdown, Ctx))
    return;
  diag(Shutdown.getExprLoc(),
       "Shutdown() without a deadline waits for every in-flight call to "
       "finish, however long it takes; pass a deadline after which pending "
       "calls are cancelled");
  if (GraceSeconds == 0 || Shutdown.getRParenLoc().isMacroID())
    return;
  diag(Shutdown.getRParenLoc(), "give in-flight calls %0 seconds",
       DiagnosticIDs::Note)
      << GraceSeconds
      << FixItHint::CreateInsertion(
             Shutdown.getRParenLoc(),
             "std::chrono::system_clock::now() + std::chrono::seconds(" +
                 std::to_string(GraceSeconds) + ")");
}

/// True if \p Call blocks on gRPC or shuts it down: not for a signal handler.
static bool isBlockingGrpcCall(const CallExpr &Call) {
  for (llvm::StringRef Name : {"Shutdown", "Wait"})
    if (::grpcleak::isServerCall(Call, Name))
      return true;
  for (llvm::StringRef Name : {"Shutdown", "Next", "AsyncNext"})
    if (::grpcleak::isQueueCall(Call, Name))
      return true;
  if (const FunctionDecl *FD = Call.getDirectCallee())
    if (FD->getIdentifier() &&
        (FD->getName() == "grpc_shutdown" ||
         FD->getName() == "grpc_server_shutdown_and_notify" ||
         FD->getName() == "grpc_completion_queue_next" ||
         FD->getName() == "grpc_completion_queue_pluck") &&
        ::grpcleak::isCoreApiFunction(FD))
      return true;
  return ::grpcleak::classifyRpcStart(&Call).has_value();
}

void ServerShutdownCheck::checkSignalHandler(const FunctionDecl &Handler,
                                             const Expr &Registration,
                                             ASTContext &Ctx) {
  if (isGenerated(Registration.getBeginLoc(), Ctx.getSourceManager()))
    return;
  // Breadth-first through the handler and the functions of the TU it calls,
  // so each function is reached at its smallest depth.
  llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
  std::deque<std::pair<const FunctionDecl *, unsigned>> Work{{&Handler, 0}};
  while (!Work.empty()) {
    const FunctionDecl *Fn = Work.front().first;
    unsigned Depth = Work.front().second;
    Work.pop_front();
    const FunctionDecl *Def = nullptr;
    if (!Fn->hasBody(Def) || !Seen.insert(Def).second ||
        ::grpcleak::isUnanalyzable(*Def))
      continue;
    const CallExpr *Blocking = nullptr;
    ::grpcleak::anyStatement(Def->getBody(), [&](const Stmt &S) {
      const auto *Call = llvm::dyn_cast<CallExpr>(&S);
      if (!Call)
        return false;
      if (isBlockingGrpcCall(*Call)) {
        Blocking = Call;
        return true;
      }
      if (const FunctionDecl *Callee = Call->getDirectCallee())
        if (Depth < SignalHandlerCallDepth)
          Work.push_back({Callee, Depth + 1});
      return false;
    });
    if (!Blocking)
      continue;
    const FunctionDecl *Called = Blocking->getDirectCallee();
    diag(Blocking->getExprLoc(),
         "%0 is called from signal handler %1; it blocks and is not "
         "async-signal-safe: set a flag or write to a pipe in the handler, and "
         "shut down from a normal thread")
        << Called->getDeclName() << &Handler;
    diag(Registration.getBeginLoc(), "%0 is installed as a signal handler here",
         DiagnosticIDs::Note)
        << &Handler;
    return;
  }
}

} // namespace clang::tidy::grpcleak
