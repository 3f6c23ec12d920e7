//===- CoreHandleCheck.h - grpc-leak-core-handle ----------------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H
#define GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H

#include "GrpcLeakCheck.h"
#include "grpcleak/ApiModel.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"
#include <vector>

namespace clang::tidy::grpcleak {

/// Finds gRPC C-core handles (channels, calls, completion queues, servers,
/// credentials, byte buffers, strings, ...) created in a function and not
/// released on every path out of it.
///
/// For the user-facing documentation see docs/checks/grpc-leak-core-handle.md.
class CoreHandleCheck : public GrpcLeakCheck {
public:
  CoreHandleCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  bool isLanguageVersionSupported(const LangOptions &) const override {
    return true; // the C core is used from C as well as C++
  }

private:
  /// A completion queue or server released before it was shut down (and a
  /// queue before it was drained).
  void checkReleaseOrder(const CallExpr &Release, ASTContext &Ctx);

  const RegexOption ReleaseFunctions;
  std::string AcquireReleasePairs;
  llvm::BumpPtrAllocator Names;
  llvm::StringSaver NameSaver{Names};
  std::vector<::grpcleak::CoreHandlePair> ExtraPairs;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H
