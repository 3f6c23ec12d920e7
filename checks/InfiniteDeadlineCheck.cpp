//===- InfiniteDeadlineCheck.cpp - grpc-leak-infinite-deadline ------------===//

#include "InfiniteDeadlineCheck.h"
#include "grpcleak/DeadlineValue.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

// One year: a deadline further away than that is, for a request or a wait,
// indistinguishable from none.
static constexpr int64_t DefaultMaxDeadlineSeconds = 365LL * 24 * 3600;

InfiniteDeadlineCheck::InfiniteDeadlineCheck(StringRef Name,
                                             ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      MaxDeadlineSeconds(
          Options.get("MaxDeadlineSeconds", DefaultMaxDeadlineSeconds)),
      CheckConnectivityWaits(Options.get("CheckConnectivityWaits", true)),
      CheckAlarms(Options.get("CheckAlarms", true)),
      InfiniteDeadlineNames(readRegexOption("InfiniteDeadlineNames")) {}

void InfiniteDeadlineCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "MaxDeadlineSeconds", MaxDeadlineSeconds);
  Options.store(Opts, "CheckConnectivityWaits", CheckConnectivityWaits);
  Options.store(Opts, "CheckAlarms", CheckAlarms);
  Options.store(Opts, "InfiniteDeadlineNames", InfiniteDeadlineNames.Text);
}

void InfiniteDeadlineCheck::registerCheckMatchers(MatchFinder *Finder) {
  // A cheap name filter; the API model (GRPC_DEADLINE_TAKER) decides.
  Finder->addMatcher(
      callExpr(callee(functionDecl(hasAnyName(
                   "set_deadline", "grpc_channel_create_call",
                   "grpc_channel_create_registered_call", "WaitForConnected",
                   "WaitForStateChange", "NotifyOnStateChange",
                   "grpc_channel_watch_connectivity_state", "Set"))))
          .bind("call"),
      this);
  Finder->addMatcher(cxxConstructExpr(hasDeclaration(cxxConstructorDecl(
                                          ofClass(hasName("::grpc::Alarm")))))
                         .bind("call"),
                     this);
}

void InfiniteDeadlineCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<Expr>("call");
  std::optional<::grpcleak::DeadlineArgument> Arg =
      ::grpcleak::deadlineArgument(*Call);
  if (!Arg)
    return;
  if ((Arg->Use == ::grpcleak::DeadlineUse::ConnectivityWait &&
       !CheckConnectivityWaits) ||
      (Arg->Use == ::grpcleak::DeadlineUse::Alarm && !CheckAlarms))
    return;
  if (!analyzableFunctionAround(*Call, *Result.Context))
    return;
  ::grpcleak::InfiniteDeadlineOptions Opts;
  Opts.MaxDeadlineSeconds = MaxDeadlineSeconds;
  Opts.InfiniteNames = InfiniteDeadlineNames.get();
  std::optional<::grpcleak::InfiniteDeadline> Infinite =
      ::grpcleak::classifyInfiniteDeadline(Arg->Deadline, *Result.Context,
                                           Opts);
  if (!Infinite)
    return;
  const FunctionDecl *Callee = nullptr;
  if (const auto *C = llvm::dyn_cast<CallExpr>(Call))
    Callee = C->getDirectCallee();
  else
    Callee = llvm::cast<CXXConstructExpr>(Call)->getConstructor();
  diag(Arg->Deadline->getBeginLoc(),
       "%0 is given a deadline that never expires (%1); %select{a stalled "
       "peer can hold the call forever|the wait can block forever|the alarm "
       "never fires and its tag stays pending}2")
      << Callee->getDeclName() << Infinite->Why << static_cast<int>(Arg->Use);
}

} // namespace clang::tidy::grpcleak
