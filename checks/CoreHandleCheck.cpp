//===- CoreHandleCheck.cpp - grpc-leak-core-handle ------------------------===//

#include "CoreHandleCheck.h"
#include "grpcleak/HandleLifetime.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

CoreHandleCheck::CoreHandleCheck(StringRef Name, ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      ReleaseFunctions(readRegexOption("ReleaseFunctions")),
      AcquireReleasePairs(Options.get("AcquireReleasePairs", "").str()) {
  std::string Error;
  ExtraPairs =
      ::grpcleak::parseHandlePairs(AcquireReleasePairs, NameSaver, Error);
  if (!Error.empty())
    configurationDiag("invalid item '%0' in option '%1.AcquireReleasePairs'; "
                      "expected 'acquire[@arg]=release[@arg]'")
        << Error << getID();
}

void CoreHandleCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ReleaseFunctions", ReleaseFunctions.Text);
  Options.store(Opts, "AcquireReleasePairs", AcquireReleasePairs);
}

void CoreHandleCheck::registerCheckMatchers(MatchFinder *Finder) {
  std::vector<StringRef> Acquires;
  for (const ::grpcleak::CoreHandlePair &Pair : ::grpcleak::coreHandlePairs())
    Acquires.push_back(Pair.Acquire);
  for (const ::grpcleak::CoreHandlePair &Pair : ExtraPairs)
    Acquires.push_back(Pair.Acquire);
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(Acquires)))).bind("acquire"),
      this);
  std::vector<StringRef> OrderedReleases;
  for (const ::grpcleak::ReleasePrerequisite &Needs :
       ::grpcleak::releasePrerequisites())
    OrderedReleases.push_back(Needs.Release);
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(OrderedReleases))))
          .bind("release"),
      this);
}

void CoreHandleCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  if (const auto *Release = Result.Nodes.getNodeAs<CallExpr>("release")) {
    checkReleaseOrder(*Release, *Result.Context);
    return;
  }
  const auto *Acquire = Result.Nodes.getNodeAs<CallExpr>("acquire");
  const ::grpcleak::CoreHandlePair *Pair =
      ::grpcleak::findCoreAcquire(Acquire->getDirectCallee(), ExtraPairs);
  if (!Pair)
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(*Acquire, *Result.Context);
  if (!Flow)
    return;

  ::grpcleak::HandleLifetimeAnalysis Analysis(
      *Result.Context, ReleaseFunctions.get(), ExtraPairs);
  std::optional<::grpcleak::HandleLeak> Leak =
      Analysis.analyze(*Acquire, *Pair, *Flow);
  if (!Leak)
    return;

  using Exit = ::grpcleak::HandleLeak::Exit;
  if (Leak->How == Exit::NeverBound) {
    const auto *Receiver = llvm::cast<CallExpr>(Leak->At);
    diag(Acquire->getBeginLoc(),
         "the gRPC %0 created by '%1' is passed to %2, which does not take "
         "ownership of it, and is never released with '%3'")
        << Pair->Noun << Pair->Acquire << Receiver->getDirectCallee()
        << Pair->Release;
    return;
  }

  if (Pair->AcquireArg >= 0)
    diag(Acquire->getBeginLoc(),
         "gRPC %0 %1 initialised by '%2' is not released with '%3' on every "
         "path")
        << Pair->Noun << Leak->Var << Pair->Acquire << Pair->Release;
  else
    diag(Acquire->getBeginLoc(),
         "gRPC %0 %1 from '%2' is not released with '%3' on every path")
        << Pair->Noun << Leak->Var << Pair->Acquire << Pair->Release;
  noteSummarisedCalls(
      Flow->function(), *Leak->Var, nullptr,
      [](const ::grpcleak::FunctionFacts &F, unsigned I) {
        return ::grpcleak::FunctionFacts::has(F.ReleasesParams, I);
      },
      "is given it and does not release it");
  switch (Leak->How) {
  case Exit::Return:
    diag(Leak->At->getBeginLoc(), "returns here without calling '%0' on %1",
         DiagnosticIDs::Note)
        << Pair->Release << Leak->Var;
    break;
  case Exit::EndOfFunction:
    if (const auto *Body =
            llvm::dyn_cast_or_null<CompoundStmt>(Flow->function().getBody()))
      diag(Body->getRBracLoc(),
           "reaches the end of the function without calling '%0' on %1",
           DiagnosticIDs::Note)
          << Pair->Release << Leak->Var;
    break;
  case Exit::Overwritten:
    diag(Leak->At->getBeginLoc(),
         "%0 is overwritten here without calling '%1' on it first",
         DiagnosticIDs::Note)
        << Leak->Var << Pair->Release;
    break;
  case Exit::NextIteration:
    diag(Leak->At->getBeginLoc(),
         "the next loop iteration creates another %0 here without calling "
         "'%1' on %2",
         DiagnosticIDs::Note)
        << Pair->Noun << Pair->Release << Leak->Var;
    break;
  case Exit::NeverBound:
    break;
  }
}

} // namespace clang::tidy::grpcleak

namespace clang::tidy::grpcleak {

void CoreHandleCheck::checkReleaseOrder(const CallExpr &Release,
                                        ASTContext &Ctx) {
  const ::grpcleak::FunctionFlow *Flow = flowAround(Release, Ctx);
  if (!Flow)
    return;
  ::grpcleak::HandleLifetimeAnalysis Analysis(Ctx, ReleaseFunctions.get(),
                                              ExtraPairs);
  auto Violation = Analysis.checkReleaseOrder(Release, *Flow);
  if (!Violation)
    return;
  llvm::StringRef Noun = "handle";
  for (const ::grpcleak::CoreHandlePair &Pair : ::grpcleak::coreHandlePairs())
    if (Pair.Release == Violation->Needs->Release) {
      Noun = Pair.Noun;
      break;
    }
  diag(Release.getBeginLoc(),
       "gRPC %0 %1 is released with '%2' on a path where it was not %3 first")
      << Noun << Violation->Var << Violation->Needs->Release
      << Violation->Needs->Step;
  diag(Violation->Var->getLocation(),
       "%0 is declared here; call '%1' on it before '%2' on every path",
       DiagnosticIDs::Note)
      << Violation->Var << Violation->Needs->Prerequisite.split('|').first
      << Violation->Needs->Release;
}

} // namespace clang::tidy::grpcleak
