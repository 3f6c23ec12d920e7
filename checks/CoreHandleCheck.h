//===- CoreHandleCheck.h - grpc-leak-core-handle ----------------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H
#define GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H

#include "GrpcLeakCheck.h"

namespace clang::tidy::grpcleak {

/// Finds gRPC C-core handles (channels, calls, completion queues, servers,
/// credentials, byte buffers, strings, ...) created in a function and not
/// released on every path out of it.
///
/// For the user-facing documentation see docs/checks/grpc-leak-core-handle.md.
class CoreHandleCheck : public GrpcLeakCheck {
public:
  CoreHandleCheck(StringRef Name, ClangTidyContext *Context);
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  bool isLanguageVersionSupported(const LangOptions &) const override {
    return true; // the C core is used from C as well as C++
  }

private:
  const RegexOption ReleaseFunctions;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_CORE_HANDLE_CHECK_H
