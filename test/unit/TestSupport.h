//===- TestSupport.h - Parsing snippets against the real gRPC headers ----===//

#ifndef GRPCLEAK_TEST_UNIT_TEST_SUPPORT_H
#define GRPCLEAK_TEST_UNIT_TEST_SUPPORT_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Frontend/ASTUnit.h"
#include "llvm/ADT/StringRef.h"
#include <memory>
#include <string>
#include <vector>

namespace grpcleak::test {

/// Parses \p Code as C++17 with the gRPC 1.51 headers and the generated
/// test stubs on the include path. Fails the test on a compile error.
std::unique_ptr<clang::ASTUnit> parse(llvm::StringRef Code);

/// Every local variable whose name starts with \p Prefix (the role markers
/// of the tests: `leaked_channel`, `kept_channel`, ...).
std::vector<const clang::VarDecl *> varsNamed(clang::ASTContext &Ctx,
                                              llvm::StringRef Prefix);

/// The call that initialises (or is assigned to) \p Var, looking through
/// casts; null if none.
const clang::CallExpr *initialisingCall(const clang::VarDecl &Var);

/// Every call in the TU's main file whose callee is named \p Name.
std::vector<const clang::CallExpr *> callsTo(clang::ASTContext &Ctx,
                                             llvm::StringRef Name);

/// The function named \p Name, if the TU defines one.
const clang::FunctionDecl *functionNamed(clang::ASTContext &Ctx,
                                         llvm::StringRef Name);

} // namespace grpcleak::test

#endif // GRPCLEAK_TEST_UNIT_TEST_SUPPORT_H
