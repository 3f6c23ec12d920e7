//===- StreamFinishCheck.cpp - grpc-leak-stream-finish --------------------===//

#include "StreamFinishCheck.h"
#include "grpcleak/AstUtil.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

StreamFinishCheck::StreamFinishCheck(StringRef Name, ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckUnfinished(Options.get("CheckUnfinished", true)),
      RequireWritesDone(Options.get("RequireWritesDone", true)),
      CheckAsyncStreams(Options.get("CheckAsyncStreams", true)) {}

void StreamFinishCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckUnfinished", CheckUnfinished);
  Options.store(Opts, "RequireWritesDone", RequireWritesDone);
  Options.store(Opts, "CheckAsyncStreams", CheckAsyncStreams);
}

void StreamFinishCheck::onEndOfTranslationUnit() {
  Analysis.reset();
  AnalysisContext = nullptr;
  GrpcLeakCheck::onEndOfTranslationUnit();
}

void StreamFinishCheck::registerCheckMatchers(MatchFinder *Finder) {
  // Every generated and generic stream start takes the context as argument
  // 0; the API model decides the rest.
  Finder->addMatcher(rpcStartCandidate("call"), this);
}

void StreamFinishCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<CXXMemberCallExpr>("call");
  std::optional<::grpcleak::RpcStart> Start =
      ::grpcleak::classifyRpcStart(Call);
  if (!Start || !Start->Streaming || Start->Api == ::grpcleak::RpcApi::Callback)
    return;
  ASTContext &Ctx = *Result.Context;
  const ::grpcleak::FunctionFlow *Flow = flowAround(*Call, Ctx);
  if (!Flow)
    return;
  std::optional<::grpcleak::StartedStream> Stream =
      ::grpcleak::startedStream(*Start, Ctx);
  if (!Stream)
    return;
  if (!Analysis || AnalysisContext != &Ctx) {
    Analysis = std::make_unique<::grpcleak::StreamProtocolAnalysis>(Ctx);
    AnalysisContext = &Ctx;
  }

  // (a) Finish on every path: synchronous streams. An asynchronous stream's
  // Finish is a tag on a queue, usually requested from another function.
  if (CheckUnfinished && Start->Api == ::grpcleak::RpcApi::Sync)
    if (std::optional<::grpcleak::UnfinishedStream> Unfinished =
            Analysis->findUnfinishedPath(*Stream, *Flow))
      reportUnfinished(*Stream, *Unfinished, *Flow);

  // (b) Half-closed before Finish.
  if (!RequireWritesDone || !Stream->Writes ||
      (Start->Api == ::grpcleak::RpcApi::Async && !CheckAsyncStreams))
    return;
  if (llvm::isa<FieldDecl>(Stream->Holder)) {
    // Judged over every method of the class: in a file that does not
    // compile, one of them may have lost its WritesDone().
    if (Ctx.getDiagnostics().hasUncompilableErrorOccurred())
      return;
    if (const CallExpr *Finish = Analysis->memberFinishBeforeHalfClose(*Stream))
      reportFinishBeforeHalfClose(*Stream, *Finish, /*Member=*/true, nullptr, Ctx);
    return;
  }
  if (std::optional<::grpcleak::FlowPath> Path =
          Analysis->findFinishBeforeHalfClose(*Stream, *Flow))
    if (const auto *Finish = llvm::dyn_cast_or_null<CallExpr>(Path->ViolatedAt))
      reportFinishBeforeHalfClose(*Stream, *Finish, /*Member=*/false, Flow, Ctx);
}

void StreamFinishCheck::reportUnfinished(
    const ::grpcleak::StartedStream &Stream,
    const ::grpcleak::UnfinishedStream &Path,
    const ::grpcleak::FunctionFlow &Flow) {
  using Exit = ::grpcleak::UnfinishedStream::Exit;
  const ValueDecl *Holder = Stream.Holder;
  diag(Stream.Start.Call->getExprLoc(),
       "stream %0 started by %1 can go out of scope without Finish(); its "
       "final status is lost and the call is cancelled")
      << Holder << Stream.Start.Method;
  noteSummarisedCalls(
      Flow.function(), *Holder, nullptr,
      [](const ::grpcleak::FunctionFacts &F, unsigned I) {
        return ::grpcleak::FunctionFacts::has(F.FinishesStreamParams, I);
      },
      "is given it and does not finish it");
  switch (Path.How) {
  case Exit::Return:
    diag(Path.At->getBeginLoc(), "returns here without calling Finish() on %0",
         DiagnosticIDs::Note)
        << Holder;
    return;
  case Exit::LoopJump:
    diag(Path.At->getBeginLoc(),
         "%select{leaves the loop|goes to the next iteration|jumps out of its "
         "scope}0 here without calling Finish() on %1",
         DiagnosticIDs::Note)
        << (llvm::isa<BreakStmt>(Path.At) ? 0
            : llvm::isa<ContinueStmt>(Path.At) ? 1
                                               : 2)
        << Holder;
    return;
  case Exit::ScopeEnd: {
    SourceLocation End = Path.At->getEndLoc();
    if (const auto *Block = llvm::dyn_cast<CompoundStmt>(Path.At))
      End = Block->getRBracLoc();
    diag(End, "%0 goes out of scope here without Finish()", DiagnosticIDs::Note)
        << Holder;
    return;
  }
  case Exit::Replaced:
    if (Path.At == Stream.Start.Call)
      diag(Path.At->getBeginLoc(),
           "the next iteration starts a new stream here without Finish() on "
           "the last one",
           DiagnosticIDs::Note);
    else
      diag(llvm::isa<Expr>(Path.At) ? llvm::cast<Expr>(Path.At)->getExprLoc()
                                    : Path.At->getBeginLoc(),
           "%0 is given another stream here before Finish() was called on it",
           DiagnosticIDs::Note)
          << Holder;
    return;
  case Exit::EndOfFunction:
    if (const auto *Body =
            llvm::dyn_cast_or_null<CompoundStmt>(Flow.function().getBody()))
      diag(Body->getRBracLoc(),
           "reaches the end of the function without calling Finish() on %0",
           DiagnosticIDs::Note)
          << Holder;
    return;
  }
}

void StreamFinishCheck::reportFinishBeforeHalfClose(
    const ::grpcleak::StartedStream &Stream, const CallExpr &Finish, bool Member,
    const ::grpcleak::FunctionFlow *Flow, ASTContext &Ctx) {
  const ValueDecl *Holder = Stream.Holder;
  diag(Stream.Start.Call->getExprLoc(),
       "stream %0 started by %1 can reach Finish() without WritesDone(); "
       "Finish() then waits for the server to end the call, which a server "
       "that reads until the client half-closes never does")
      << Holder << Stream.Start.Method;
  diag(Finish.getExprLoc(),
       "%select{Finish() is called here with no WritesDone() or WriteLast() "
       "on %1 before it on some path|Finish() is called here, and no method of "
       "the class calls WritesDone() or WriteLast() on %1}0",
       DiagnosticIDs::Note)
      << Member << Holder;
  if (Member || !Flow)
    return;
  const Stmt *Insert = Analysis->halfCloseInsertionPoint(Stream, Finish, *Flow);
  if (!Insert)
    return;
  // The holder is a smart pointer, or a reference bound to one.
  diag(Insert->getBeginLoc(), "half-close the stream before Finish()",
       DiagnosticIDs::Note)
      << insertStatementBefore(Insert->getBeginLoc(),
                               Holder->getName().str() + "->WritesDone();",
                               Ctx.getSourceManager());
}

} // namespace clang::tidy::grpcleak
