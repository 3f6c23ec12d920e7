//===- ChannelInLoopCheck.cpp - grpc-leak-channel-in-loop -----------------===//

#include "ChannelInLoopCheck.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/Repetition.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "utils/OptionsUtils.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

ChannelInLoopCheck::ChannelInLoopCheck(StringRef Name,
                                       ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      ExtraChannelFactories(Options.get("ExtraChannelFactories", "").str()),
      ExtraFactoryList(utils::options::parseStringList(ExtraChannelFactories)) {
}

void ChannelInLoopCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ExtraChannelFactories", ExtraChannelFactories);
}

void ChannelInLoopCheck::registerMatchers(MatchFinder *Finder) {
  // A cheap name filter first; the API model confirms the factory.
  auto Factory = functionDecl(hasAnyName("CreateChannel", "CreateCustomChannel",
                                         "CreateCustomChannelWithInterceptors",
                                         "CreateInsecureChannelFromFd",
                                         "CreateCustomInsecureChannelFromFd"));
  Finder->addMatcher(callExpr(callee(Factory)).bind("create"), this);
  if (!ExtraFactoryList.empty())
    Finder->addMatcher(
        callExpr(callee(functionDecl(hasAnyName(ExtraFactoryList))))
            .bind("user-create"),
        this);
}

void ChannelInLoopCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Create = Result.Nodes.getNodeAs<CallExpr>("create");
  if (Create && !::grpcleak::isChannelFactory(Create->getDirectCallee()))
    return;
  if (!Create)
    Create = Result.Nodes.getNodeAs<CallExpr>("user-create");
  ASTContext &Ctx = *Result.Context;
  // Only code we may analyse: not generated, no errors, not a template.
  if (!flowAround(*Create, Ctx))
    return;
  const Stmt *Loop = ::grpcleak::enclosingLoop(*Create, Ctx);
  if (!Loop)
    return;
  llvm::SmallVector<const VarDecl *, 4> Holders;
  if (::grpcleak::mayOutliveIteration(*Create, *Loop, Ctx, Holders))
    return;

  diag(Create->getBeginLoc(),
       "gRPC channel created by %0 in every loop iteration is destroyed "
       "before the next one; create it once outside the loop and reuse it")
      << Create->getDirectCallee();
  diag(::grpcleak::loopKeywordLoc(*Loop), "the loop that repeats it is here",
       DiagnosticIDs::Note);
}

} // namespace clang::tidy::grpcleak
