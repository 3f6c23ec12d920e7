//===- StreamDeadlineCheck.h - grpc-leak-stream-deadline --------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_STREAM_DEADLINE_CHECK_H
#define GRPCLEAK_CHECKS_STREAM_DEADLINE_CHECK_H

#include "GrpcLeakCheck.h"

namespace clang::tidy::grpcleak {

/// Finds streaming RPCs started on a grpc::ClientContext that has no
/// deadline set on every path before the call.
///
/// For the user-facing documentation see docs/checks/grpc-leak-stream-deadline.md.
class StreamDeadlineCheck : public GrpcLeakCheck {
public:
  StreamDeadlineCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;

private:
  /// The note that offers to set a deadline right before the RPC starts,
  /// when that edit is safe; see the .cpp.
  void offerDeadlineFix(const CallExpr &Call, const VarDecl &Context,
                        ASTContext &Ctx);

  const bool CheckUnary;
  const bool TrustServerContextPropagation;
  const bool TreatTryCancelAsBounded;
  const bool IgnoreContextParameters;
  const unsigned FixItTimeoutSeconds;
  const RegexOption DeadlineSetterFunctions;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_STREAM_DEADLINE_CHECK_H
