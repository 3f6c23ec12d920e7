//===- ContextLifetimeCheck.h - grpc-leak-context-lifetime ------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CONTEXT_LIFETIME_CHECK_H
#define GRPCLEAK_CHECKS_CONTEXT_LIFETIME_CHECK_H

#include "GrpcLeakCheck.h"
#include "grpcleak/ContextLifetime.h"
#include "llvm/ADT/DenseSet.h"

namespace clang::tidy::grpcleak {

/// Finds grpc::ClientContext objects (and the objects an RPC writes into)
/// that can be destroyed before the async or callback RPC using them
/// completes, contexts used for more than one RPC, and async call members
/// declared before the context member they were started on.
///
/// For the user-facing documentation see docs/checks/grpc-leak-context-lifetime.md.
class ContextLifetimeCheck : public GrpcLeakCheck {
public:
  ContextLifetimeCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  void checkRpcStart(const CallExpr &Call, ASTContext &Ctx);
  void checkAsyncOutput(const CallExpr &Op, ASTContext &Ctx);
  void checkLocalReactor(const VarDecl &Reactor, ASTContext &Ctx);
  void checkMemberOrder(const CXXRecordDecl &Class, ASTContext &Ctx);
  void reportShortLived(const ::grpcleak::ShortLivedObject &Found,
                        const ::grpcleak::FunctionFlow &Flow);
  void reportReuse(const ::grpcleak::ContextReuse &Reuse, ASTContext &Ctx);
  void offerMemberOrderFix(const ::grpcleak::MemberOrderViolation &V,
                           ASTContext &Ctx);
  ::grpcleak::LifetimeOptions lifetimeOptions() const;

  const bool CheckLocalLifetime;
  const bool CheckReuse;
  const bool CheckMemberOrder;
  const RegexOption WaitFunctions;
  /// What was reported already, per kind of finding: the call that hands an
  /// object over, the start that reuses a context, the start a misplaced
  /// member holds.
  llvm::DenseSet<const Expr *> ReportedLifetime, ReportedReuse, ReportedOrder;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CONTEXT_LIFETIME_CHECK_H
