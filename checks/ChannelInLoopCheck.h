//===- ChannelInLoopCheck.h - grpc-leak-channel-in-loop ---------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H
#define GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H

#include "TemporaryClientCheck.h"

namespace clang::tidy::grpcleak {

/// Finds gRPC channels created and destroyed again in every iteration of a
/// loop: in the loop body itself, or in a helper, lambda or client wrapper
/// constructor that the loop runs.
///
/// For the user-facing documentation see docs/checks/grpc-leak-channel-in-loop.md.
class ChannelInLoopCheck : public TemporaryClientCheck {
public:
  ChannelInLoopCheck(StringRef Name, ClangTidyContext *Context)
      : TemporaryClientCheck(Name, Context, ::grpcleak::RepeatKind::Loop) {}
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CHANNEL_IN_LOOP_CHECK_H
