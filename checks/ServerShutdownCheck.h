//===- ServerShutdownCheck.h - grpc-leak-server-shutdown --------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_SERVER_SHUTDOWN_CHECK_H
#define GRPCLEAK_CHECKS_SERVER_SHUTDOWN_CHECK_H

#include "GrpcLeakCheck.h"

namespace clang::tidy::grpcleak {

/// Finds gRPC servers that can reach the end of their owner's life without
/// Shutdown(), and gRPC shutdown or blocking calls made from a signal
/// handler.
///
/// For the user-facing documentation see docs/checks/grpc-leak-server-shutdown.md.
class ServerShutdownCheck : public GrpcLeakCheck {
public:
  ServerShutdownCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;

private:
  void checkStartedServer(const CallExpr &Start, ASTContext &Ctx);
  void checkSignalHandler(const FunctionDecl &Handler, const Expr &Registration,
                          ASTContext &Ctx);
  void checkShutdownDeadline(const CXXMemberCallExpr &Shutdown, ASTContext &Ctx);

  const bool CheckShutdownDeadline;
  const unsigned GraceSeconds;
  const bool CheckSignalHandlers;
  const unsigned SignalHandlerCallDepth;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_SERVER_SHUTDOWN_CHECK_H
