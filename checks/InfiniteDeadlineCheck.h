//===- InfiniteDeadlineCheck.h - grpc-leak-infinite-deadline ----*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_INFINITE_DEADLINE_CHECK_H
#define GRPCLEAK_CHECKS_INFINITE_DEADLINE_CHECK_H

#include "GrpcLeakCheck.h"
#include <cstdint>

namespace clang::tidy::grpcleak {

/// Finds deadlines that never expire given to an RPC, a connectivity wait
/// or an alarm: gpr_inf_future(), time_point::max(), or a duration longer
/// than a limit.
///
/// For the user-facing documentation see docs/checks/grpc-leak-infinite-deadline.md.
class InfiniteDeadlineCheck : public GrpcLeakCheck {
public:
  InfiniteDeadlineCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  bool isLanguageVersionSupported(const LangOptions &) const override {
    return true; // the C core's deadlines are checked in C too
  }

private:
  const int64_t MaxDeadlineSeconds;
  const bool CheckConnectivityWaits;
  const bool CheckAlarms;
  const RegexOption InfiniteDeadlineNames;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_INFINITE_DEADLINE_CHECK_H
