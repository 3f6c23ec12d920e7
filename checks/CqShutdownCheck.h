//===- CqShutdownCheck.h - grpc-leak-cq-shutdown ----------------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CQ_SHUTDOWN_CHECK_H
#define GRPCLEAK_CHECKS_CQ_SHUTDOWN_CHECK_H

#include "GrpcLeakCheck.h"
#include "llvm/ADT/DenseSet.h"

namespace clang::tidy::grpcleak {

/// Finds grpc::CompletionQueue lifecycle mistakes: a queue polled with
/// Next() but never shut down, shut down but not drained before it is
/// destroyed, shut down before the server that uses it, a poller thread
/// joined before its queue is shut down, or a queue destroyed on an
/// AsyncNext() timeout with an operation still pending.
///
/// For the user-facing documentation see docs/checks/grpc-leak-cq-shutdown.md.
class CqShutdownCheck : public GrpcLeakCheck {
public:
  CqShutdownCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  void checkPoller(const CXXMemberCallExpr &Next, ASTContext &Ctx);
  void checkShutdown(const CXXMemberCallExpr &Shutdown, ASTContext &Ctx);
  void checkJoin(const CXXMemberCallExpr &Join, ASTContext &Ctx);
  void checkAsyncNext(const CXXMemberCallExpr &AsyncNext, ASTContext &Ctx);
  /// Where a poller reached through a parameter gets its queue.
  void notePassedQueue(const CXXMemberCallExpr &Poll, const ValueDecl &Queue,
                       ASTContext &Ctx);

  const bool CheckPollerWithoutShutdown;
  const bool CheckShutdownWithoutDrain;
  const bool CheckServerOrder;
  const bool CheckJoinOrder;
  const bool CheckAbandonedOperations;
  /// One poller finding per queue.
  llvm::DenseSet<const ValueDecl *> ReportedPollers;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CQ_SHUTDOWN_CHECK_H
