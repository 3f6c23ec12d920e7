//===- GrpcLeakTidyModule.cpp - registers the grpc-leak checks ------------===//

#include "BlockingReactionCheck.h"
#include "ChannelInLoopCheck.h"
#include "ChannelPerRequestCheck.h"
#include "ContextLifetimeCheck.h"
#include "CoreHandleCheck.h"
#include "CqShutdownCheck.h"
#include "InfiniteDeadlineCheck.h"
#include "ReactorFinishCheck.h"
#include "ServerShutdownCheck.h"
#include "StreamDeadlineCheck.h"
#include "StreamFinishCheck.h"

#include "grpcleak/Compat.h"

#include "clang-tidy/ClangTidyModule.h"
#include GRPCLEAK_CLANG_TIDY_MODULE_REGISTRY_H

namespace clang::tidy {
namespace grpcleak {

class GrpcLeakModule : public ClangTidyModule {
public:
  void addCheckFactories(ClangTidyCheckFactories &CheckFactories) override {
    CheckFactories.registerCheck<BlockingReactionCheck>(
        "grpc-leak-blocking-reaction");
    CheckFactories.registerCheck<ChannelInLoopCheck>(
        "grpc-leak-channel-in-loop");
    CheckFactories.registerCheck<ChannelPerRequestCheck>(
        "grpc-leak-channel-per-request");
    CheckFactories.registerCheck<ContextLifetimeCheck>(
        "grpc-leak-context-lifetime");
    CheckFactories.registerCheck<CoreHandleCheck>("grpc-leak-core-handle");
    CheckFactories.registerCheck<CqShutdownCheck>("grpc-leak-cq-shutdown");
    CheckFactories.registerCheck<InfiniteDeadlineCheck>(
        "grpc-leak-infinite-deadline");
    CheckFactories.registerCheck<ReactorFinishCheck>(
        "grpc-leak-reactor-finish");
    CheckFactories.registerCheck<ServerShutdownCheck>(
        "grpc-leak-server-shutdown");
    CheckFactories.registerCheck<StreamDeadlineCheck>(
        "grpc-leak-stream-deadline");
    CheckFactories.registerCheck<StreamFinishCheck>("grpc-leak-stream-finish");
  }
};

} // namespace grpcleak

static ClangTidyModuleRegistry::Add<grpcleak::GrpcLeakModule>
    X("grpc-leak-module", "Checks for gRPC C++ handle, deadline and client "
                          "leaks.");

// Referenced by the drivers so that static linking keeps this module.
// NOLINTNEXTLINE(misc-use-internal-linkage)
volatile int GrpcLeakModuleAnchorSource = 0;

} // namespace clang::tidy
