//===- ChannelPerRequestCheck.h - grpc-leak-channel-per-request -*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CHANNEL_PER_REQUEST_CHECK_H
#define GRPCLEAK_CHECKS_CHANNEL_PER_REQUEST_CHECK_H

#include "TemporaryClientCheck.h"

namespace clang::tidy::grpcleak {

/// Finds gRPC channels created and destroyed again for every request a
/// server handles: in a service method, a reactor reaction or an async
/// request step, or in a helper or client wrapper they call.
///
/// For the user-facing documentation see docs/checks/grpc-leak-channel-per-request.md.
class ChannelPerRequestCheck : public TemporaryClientCheck {
public:
  ChannelPerRequestCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CHANNEL_PER_REQUEST_CHECK_H
