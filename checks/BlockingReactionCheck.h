//===- BlockingReactionCheck.h - grpc-leak-blocking-reaction ----*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_BLOCKING_REACTION_CHECK_H
#define GRPCLEAK_CHECKS_BLOCKING_REACTION_CHECK_H

#include "GrpcLeakCheck.h"
#include "llvm/ADT/DenseSet.h"
#include <string>
#include <vector>

namespace clang::tidy::grpcleak {

/// Finds blocking calls (synchronous RPCs, waits, sleeps, joins) made in
/// code that gRPC runs on its callback threads: reactions of client and
/// server reactors, callback service handlers, completion callbacks of
/// callback calls, and the functions of the file they call.
///
/// For the user-facing documentation see docs/checks/grpc-leak-blocking-reaction.md.
class BlockingReactionCheck : public GrpcLeakCheck {
public:
  BlockingReactionCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  const std::string BlockingFunctions;
  const std::vector<std::string> BlockingFunctionList;
  const bool CheckCallbackHandlers;
  const bool CheckCompletionCallbacks;
  const unsigned CallDepth;
  /// Functions with a finding already.
  llvm::DenseSet<const FunctionDecl *> Reported;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_BLOCKING_REACTION_CHECK_H
