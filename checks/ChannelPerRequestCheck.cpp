//===- ChannelPerRequestCheck.cpp - grpc-leak-channel-per-request ---------===//

#include "ChannelPerRequestCheck.h"

namespace clang::tidy::grpcleak {

ChannelPerRequestCheck::ChannelPerRequestCheck(StringRef Name,
                                               ClangTidyContext *Context)
    : TemporaryClientCheck(Name, Context, ::grpcleak::RepeatKind::Request) {
  HandlerFunctions = readRegexOption("HandlerFunctionRegex");
  RepetitionOpts.TreatReactionsAsHandlers =
      Options.get("TreatReactionsAsHandlers", true);
  RepetitionOpts.TreatCqLoopCalleesAsHandlers =
      Options.get("TreatCqLoopCalleesAsHandlers", true);
}

void ChannelPerRequestCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  TemporaryClientCheck::storeOptions(Opts);
  Options.store(Opts, "HandlerFunctionRegex", HandlerFunctions.Text);
  Options.store(Opts, "TreatReactionsAsHandlers",
                RepetitionOpts.TreatReactionsAsHandlers);
  Options.store(Opts, "TreatCqLoopCalleesAsHandlers",
                RepetitionOpts.TreatCqLoopCalleesAsHandlers);
}

} // namespace clang::tidy::grpcleak
