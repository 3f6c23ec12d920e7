//===- BlockingReactionCheck.cpp - grpc-leak-blocking-reaction ------------===//

#include "BlockingReactionCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/CallbackThreads.h"
#include "grpcleak/Compat.h"
#include "grpcleak/Summaries.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "utils/OptionsUtils.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

static std::vector<std::string> toStrings(const std::vector<StringRef> &List) {
  return std::vector<std::string>(List.begin(), List.end());
}

BlockingReactionCheck::BlockingReactionCheck(StringRef Name,
                                             ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      BlockingFunctions(Options.get("BlockingFunctions", "").str()),
      BlockingFunctionList(
          toStrings(utils::options::parseStringList(BlockingFunctions))),
      CheckCallbackHandlers(Options.get("CheckCallbackHandlers", true)),
      CheckCompletionCallbacks(Options.get("CheckCompletionCallbacks", true)),
      CallDepth(Options.get("CallDepth", 3U)) {}

void BlockingReactionCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "BlockingFunctions", BlockingFunctions);
  Options.store(Opts, "CheckCallbackHandlers", CheckCallbackHandlers);
  Options.store(Opts, "CheckCompletionCallbacks", CheckCompletionCallbacks);
  Options.store(Opts, "CallDepth", CallDepth);
}

void BlockingReactionCheck::onEndOfTranslationUnit() {
  Reported.clear();
  GrpcLeakCheck::onEndOfTranslationUnit();
}

void BlockingReactionCheck::registerCheckMatchers(MatchFinder *Finder) {
  // A cheap name filter first (the table's functions, the user's, and every
  // stub call that takes a ClientContext); the library decides.
  std::vector<std::string> Names;
  for (StringRef Name : ::grpcleak::blockingCallNames())
    Names.push_back(Name.str());
  for (const std::string &Name : BlockingFunctionList) {
    StringRef Last = StringRef(Name).rsplit("::").second;
    Names.push_back((Last.empty() ? StringRef(Name) : Last).str());
  }
  std::vector<StringRef> NameRefs(Names.begin(), Names.end());
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(NameRefs)))).bind("call"), this);
  Finder->addMatcher(rpcStartCandidate("call"), this);
  // A function of another file, which its summary may say blocks.
  Finder->addMatcher(
      callExpr(callee(functionDecl(unless(isDefinition()),
                                   unless(isExpansionInSystemHeader()))))
          .bind("elsewhere"),
      this);
}

void BlockingReactionCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  ASTContext &Ctx = *Result.Context;
  if (!Call) {
    Call = Result.Nodes.getNodeAs<CallExpr>("elsewhere");
    if (!Call || !::grpcleak::summariesFor(Ctx))
      return;
  }
  // A wait inside the standard library (the nanosleep of sleep_for, the
  // wait of wait(lock, pred)) is the user's call of it, found on its own.
  // (clang-tidy 22 does not traverse system headers; 19 does.)
  if (Ctx.getSourceManager().isInSystemHeader(Call->getBeginLoc()))
    return;
  std::optional<::grpcleak::BlockingCall> Blocking =
      ::grpcleak::classifyBlockingCall(*Call, Ctx, BlockingFunctionList);
  if (!Blocking)
    return;
  // One finding per function: the first blocking call in it, in source
  // order (a synchronous stream's start, reads and Finish are one mistake;
  // the order matchers fire in is not the source order).
  const FunctionDecl *Fn = analyzableFunctionAround(*Call, Ctx);
  if (!Fn || Reported.contains(Fn->getCanonicalDecl()))
    return;
  const SourceManager &SM = Ctx.getSourceManager();
  ::grpcleak::anyStatement(Fn->getBody(), [&](const Stmt &S) {
    const auto *Other = llvm::dyn_cast<CallExpr>(&S);
    if (!Other || Other == Call ||
        !SM.isBeforeInTranslationUnit(Other->getBeginLoc(), Call->getBeginLoc()) ||
        ::grpcleak::enclosingCallable(*Other, Ctx) != Fn)
      return false;
    if (std::optional<::grpcleak::BlockingCall> Earlier =
            ::grpcleak::classifyBlockingCall(*Other, Ctx, BlockingFunctionList)) {
      Call = Other;
      Blocking = Earlier;
    }
    return false;
  });

  ::grpcleak::CallbackThreadOptions Opts;
  Opts.CallDepth = CallDepth;
  Opts.Handlers = CheckCallbackHandlers;
  Opts.Completions = CheckCompletionCallbacks;
  std::optional<::grpcleak::CallbackPath> Path =
      ::grpcleak::CallbackThreadAnalysis(Ctx, Opts).find(*Call);
  if (!Path)
    return;
  Reported.insert(Fn->getCanonicalDecl());

  using ::grpcleak::CallbackEntryKind;
  const ::grpcleak::CallbackEntry &Entry = Path->Entry;
  const NamedDecl *Where = Entry.Function;
  if (Entry.Kind == CallbackEntryKind::Completion)
    Where = Entry.TakenBy->getDirectCallee();
  diag(Call->getExprLoc(),
       "%select{|synchronous RPC }0%1 blocks a gRPC callback thread in "
       "%select{reaction|callback service handler|the completion callback "
       "of}2 %3; other callback RPCs of the process stall while it waits")
      << Blocking->SyncRpc << Blocking->Callee->getDeclName()
      << static_cast<unsigned>(Entry.Kind) << Where->getDeclName();

  if (Blocking->Kind == ::grpcleak::BlockingKind::Project)
    if (auto Facts = ::grpcleak::projectFacts(*Blocking->Callee))
      diag(Call->getExprLoc(),
           "%0, defined in %1, may block (from the project's summaries)",
           DiagnosticIDs::Note)
          << Blocking->Callee << Facts->File;
  for (const Expr *Hop : Path->Hops) {
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Hop))
      diag(Hop->getBeginLoc(), "%0 is constructed here", DiagnosticIDs::Note)
          << Construct->getConstructor()->getParent();
    else if (const auto *HopCall = llvm::dyn_cast<CallExpr>(Hop))
      diag(::grpcleak::compat::callBeginLoc(*HopCall), "%0 is called here",
           DiagnosticIDs::Note)
          << HopCall->getDirectCallee();
  }
  switch (Entry.Kind) {
  case CallbackEntryKind::Reaction:
    diag(Entry.Function->getLocation(),
         "%0 is a reaction; gRPC runs it on its callback threads",
         DiagnosticIDs::Note)
        << Entry.Function;
    break;
  case CallbackEntryKind::Handler:
    diag(Entry.Function->getLocation(),
         "%0 is a callback service handler; gRPC runs it on its callback "
         "threads",
         DiagnosticIDs::Note)
        << Entry.Function;
    break;
  case CallbackEntryKind::Completion:
    diag(Entry.TakenBy->getExprLoc(),
         "the callback passed to %0 here runs on gRPC's callback threads",
         DiagnosticIDs::Note)
        << Entry.TakenBy->getDirectCallee()->getDeclName();
    break;
  }
}

} // namespace clang::tidy::grpcleak
