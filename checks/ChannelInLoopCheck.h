//===- ChannelInLoopCheck.h - grpc-leak-channel-in-loop ---------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H
#define GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H

#include "GrpcLeakCheck.h"
#include <string>
#include <vector>

namespace clang::tidy::grpcleak {

/// Finds gRPC channels created in a loop body that do not outlive the
/// iteration: a new channel (connection, resolver, timers) per iteration.
///
/// For the user-facing documentation see docs/checks/grpc-leak-channel-in-loop.md.
class ChannelInLoopCheck : public GrpcLeakCheck {
public:
  ChannelInLoopCheck(StringRef Name, ClangTidyContext *Context);
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;

private:
  const std::string ExtraChannelFactories;
  const std::vector<StringRef> ExtraFactoryList;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H
