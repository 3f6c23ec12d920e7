//===- TemporaryClientCheck.h - Clients made over and over ------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_TEMPORARY_CLIENT_CHECK_H
#define GRPCLEAK_CHECKS_TEMPORARY_CLIENT_CHECK_H

#include "GrpcLeakCheck.h"
#include "grpcleak/Repetition.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <string>
#include <vector>

namespace clang::tidy::grpcleak {

/// What grpc-leak-channel-in-loop and grpc-leak-channel-per-request share:
/// the creations they look at (channel factories, the user's own, stubs on
/// request), the analysis (lib/Repetition), and how a finding is explained
/// (a note at every call or construction site on the way, then at the loop
/// or the handler). They differ only in the kind of repetition.
class TemporaryClientCheck : public GrpcLeakCheck {
public:
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

protected:
  TemporaryClientCheck(StringRef Name, ClangTidyContext *Context,
                       ::grpcleak::RepeatKind Kind);

  /// Options of the request kind only (HandlerFunctionRegex, ...).
  ::grpcleak::RepetitionOptions RepetitionOpts;
  RegexOption HandlerFunctions;

private:
  /// True if \p E is one of the creations this check looks for.
  bool isCreation(const Expr &E) const;
  /// True if \p Callee is one of ExtraChannelFactories.
  bool isUserFactory(const FunctionDecl &Callee) const;
  void notePath(const ::grpcleak::RepeatedCreation &Found, bool IsStub);

  const ::grpcleak::RepeatKind Kind;
  const std::string ExtraChannelFactories;
  const std::vector<StringRef> ExtraFactoryList;
  const bool IncludeStubs;
  const unsigned CallDepth;
  const unsigned MinLoopTripCount;
  /// The creations already reported in this TU.
  llvm::SmallPtrSet<const Expr *, 8> Reported;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_TEMPORARY_CLIENT_CHECK_H
