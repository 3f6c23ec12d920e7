//===- ReactorFinishCheck.h - grpc-leak-reactor-finish ----------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_REACTOR_FINISH_CHECK_H
#define GRPCLEAK_CHECKS_REACTOR_FINISH_CHECK_H

#include "GrpcLeakCheck.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include <vector>

namespace clang::tidy::grpcleak {

/// Finds callback-API reactors whose RPC never completes: a DefaultReactor()
/// returned by a callback handler without Finish() on some path, a server
/// reactor class that never finishes, a reaction that returns on `!ok`
/// when nothing else finishes the RPC, and a client reactor that is never
/// started or keeps a hold for ever.
///
/// For the user-facing documentation see docs/checks/grpc-leak-reactor-finish.md.
class ReactorFinishCheck : public GrpcLeakCheck {
public:
  ReactorFinishCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  void checkDefaultReactor(const CallExpr &Call, ASTContext &Ctx);
  /// The class-level findings, once the whole TU has been seen.
  void checkClasses(ASTContext &Ctx);

  const bool CheckDefaultReactor;
  const bool CheckReactorClasses;
  const bool CheckNotOkPaths;
  const bool CheckClientStartCall;
  const bool CheckHolds;

  /// Collected during matching, judged at the end of the TU.
  ASTContext *Context = nullptr;
  llvm::SetVector<const CXXRecordDecl *> ServerClasses;
  llvm::SetVector<const CXXMethodDecl *> Reactions;
  /// Where objects of a reactor class are created (first place each).
  llvm::MapVector<const CXXRecordDecl *, const Expr *> Creations;
  /// Callback stub calls and the client reactor class they are given.
  std::vector<std::pair<const CallExpr *, const CXXRecordDecl *>> ClientCalls;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_REACTOR_FINISH_CHECK_H
