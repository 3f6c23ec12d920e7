//===- StreamDeadlineCheck.cpp - grpc-leak-stream-deadline ----------------===//

#include "StreamDeadlineCheck.h"
#include "grpcleak/DeadlineAnalysis.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

StreamDeadlineCheck::StreamDeadlineCheck(StringRef Name,
                                         ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckUnary(Options.get("CheckUnary", false)),
      TrustServerContextPropagation(
          Options.get("TrustServerContextPropagation", true)),
      DeadlineSetterFunctions(readRegexOption("DeadlineSetterFunctions")) {}

void StreamDeadlineCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckUnary", CheckUnary);
  Options.store(Opts, "TrustServerContextPropagation",
                TrustServerContextPropagation);
  Options.store(Opts, "DeadlineSetterFunctions", DeadlineSetterFunctions.Text);
}

void StreamDeadlineCheck::registerMatchers(MatchFinder *Finder) {
  // Every generated, generic and callback RPC start takes the context as
  // argument 0; the API model decides the rest.
  Finder->addMatcher(
      cxxMemberCallExpr(
          hasArgument(0, hasType(hasCanonicalType(pointsTo(
                             cxxRecordDecl(hasName("::grpc::ClientContext")))))))
          .bind("call"),
      this);
}

void StreamDeadlineCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<CXXMemberCallExpr>("call");
  std::optional<::grpcleak::RpcStart> Start =
      ::grpcleak::classifyRpcStart(Call);
  if (!Start || (!Start->Streaming && !CheckUnary))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(*Call, *Result.Context);
  if (!Flow)
    return;

  ::grpcleak::DeadlineOptions Opts;
  Opts.TrustServerContextPropagation = TrustServerContextPropagation;
  Opts.DeadlineSetterFunctions = DeadlineSetterFunctions.get();
  ::grpcleak::DeadlineAnalysis Analysis(Opts);
  std::optional<::grpcleak::MissingDeadline> Missing =
      Analysis.analyze(*Start, *Flow);
  if (!Missing)
    return;

  SourceLocation Loc = Call->getExprLoc();
  diag(Loc, "%select{|streaming }0RPC %1 is started on %2 with no deadline "
            "set on some path to it")
      << Start->Streaming << Start->Method << Missing->Context;
  diag(Missing->Context->getLocation(),
       "%0 is declared here; call 'set_deadline' on it before the RPC starts",
       DiagnosticIDs::Note)
      << Missing->Context;
  if (Missing->LateSetter)
    diag(Missing->LateSetter->getExprLoc(),
         "a deadline set after the RPC has started has no effect on it",
         DiagnosticIDs::Note);
}

} // namespace clang::tidy::grpcleak
