//===- ServerShutdownCheck.cpp - grpc-leak-server-shutdown ----------------===//

#include "ServerShutdownCheck.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

ServerShutdownCheck::ServerShutdownCheck(StringRef Name,
                                         ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckShutdownDeadline(Options.get("CheckShutdownDeadline", true)),
      GraceSeconds(Options.get("GraceSeconds", 10U)),
      CheckSignalHandlers(Options.get("CheckSignalHandlers", true)),
      SignalHandlerCallDepth(Options.get("SignalHandlerCallDepth", 3U)) {}

void ServerShutdownCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckShutdownDeadline", CheckShutdownDeadline);
  Options.store(Opts, "GraceSeconds", GraceSeconds);
  Options.store(Opts, "CheckSignalHandlers", CheckSignalHandlers);
  Options.store(Opts, "SignalHandlerCallDepth", SignalHandlerCallDepth);
}

void ServerShutdownCheck::registerCheckMatchers(MatchFinder *Finder) {
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

void ServerShutdownCheck::checkMatch(const MatchFinder::MatchResult &Result) {
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

void ServerShutdownCheck::checkStartedServer(const CallExpr &Start,
                                             ASTContext &Ctx) {
  if (!::grpcleak::isBuildAndStart(Start))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(Start, Ctx);
  if (!Flow)
    return;
  const ValueDecl *Holder = ::grpcleak::startedServerHolder(Start, Ctx);
  const FunctionDecl &Fn = Flow->function();
  if (!Holder || !firstInstance(Start.getExprLoc(), Fn))
    return;

  if (const auto *Field = llvm::dyn_cast<FieldDecl>(Holder)) {
    // A member: the class must shut it down somewhere (destructor, Stop()),
    // and that code must run.
    if (::grpcleak::classMayShutDownServer(*Field)) {
      const CXXDestructorDecl *Dtor = nullptr;
      if (const CXXNewExpr *Leaked = ::grpcleak::leakedOwnerOf(*Field, Dtor)) {
        diag(Start.getExprLoc(),
             "gRPC server %0 is started here and shut down only by the "
             "destructor of %1, which never runs: the object is never deleted")
            << Field << Dtor->getParent();
        diag(Leaked->getBeginLoc(),
             "%0 is created here and kept by a global pointer that nothing "
             "deletes; shut the server down from a stop method called at exit",
             DiagnosticIDs::Note)
            << Leaked->getAllocatedType();
        noteInstantiation(Fn);
      }
      return;
    }
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
    noteInstantiation(Fn);
    return;
  }
  const auto *Var = llvm::dyn_cast<VarDecl>(Holder);
  if (!Var)
    return;
  std::optional<::grpcleak::FlowPath> Path =
      ::grpcleak::findUnshutServerPath(*Flow, Start, *Var);
  if (!Path)
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
  noteInstantiation(Fn);
}

void ServerShutdownCheck::checkShutdownDeadline(const CXXMemberCallExpr &Shutdown,
                                                ASTContext &Ctx) {
  const FunctionDecl *Fn = analyzableFunctionAround(Shutdown, Ctx);
  if (!::grpcleak::isServerCall(Shutdown, "Shutdown") || !Fn ||
      !firstInstance(Shutdown.getExprLoc(), *Fn))
    return;
  diag(Shutdown.getExprLoc(),
       "Shutdown() without a deadline waits for every in-flight call to "
       "finish, however long it takes; pass a deadline after which pending "
       "calls are cancelled");
  if (GraceSeconds == 0 || Shutdown.getRParenLoc().isMacroID() ||
      isTemplateInstance(*Fn)) {
    noteInstantiation(*Fn);
    return;
  }
  // The quick fix's title in editors (clangd): says what the edit does.
  diag(Shutdown.getRParenLoc(), "pass a %0 s deadline to Shutdown()",
       DiagnosticIDs::Note)
      << GraceSeconds
      << FixItHint::CreateInsertion(
             Shutdown.getRParenLoc(),
             "std::chrono::system_clock::now() + std::chrono::seconds(" +
                 std::to_string(GraceSeconds) + ")");
}

void ServerShutdownCheck::checkSignalHandler(const FunctionDecl &Handler,
                                             const Expr &Registration,
                                             ASTContext &Ctx) {
  if (isGenerated(Registration.getBeginLoc(), Ctx.getSourceManager()))
    return;
  const CallExpr *Blocking =
      ::grpcleak::blockingCallInSignalHandler(Handler, SignalHandlerCallDepth);
  if (!Blocking)
    return;
  const FunctionDecl *Called = Blocking->getDirectCallee();
  diag(Blocking->getExprLoc(),
       "%0 is called from signal handler %1; it blocks and is not "
       "async-signal-safe: set a flag or write to a pipe in the handler, and "
       "shut down from a normal thread")
      << Called->getDeclName() << &Handler;
  diag(Registration.getBeginLoc(), "%0 is installed as a signal handler here",
       DiagnosticIDs::Note)
      << &Handler;
}

} // namespace clang::tidy::grpcleak
