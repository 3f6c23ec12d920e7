//===- Compat.h - What differs between the LLVM/Clang versions we build on -===//
//
// grpc-leak-tidy builds from one set of sources against LLVM/Clang 19 and 22
// (GRPCLEAK_LLVM_VERSION in the top CMakeLists.txt). Every difference in
// their C++ APIs that our sources meet is handled here, keyed on
// CLANG_VERSION_MAJOR, so that no other file needs a version #if. Build-level
// differences (library names, link flags, where lit lives) are in CMake,
// keyed on LLVM_VERSION_MAJOR.
//
// It includes no clang-tidy or clangd header: the analysis library (lib/)
// must not depend on clang-tidy, so clang-tidy headers are named here as
// macros for a computed #include, and clang-tidy types are only declared.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_COMPAT_H
#define GRPCLEAK_COMPAT_H

#include "clang/AST/Expr.h"
#include "clang/Basic/Version.h"
#include "llvm/ADT/FunctionExtras.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#if CLANG_VERSION_MAJOR < 19
#error "grpc-leak-tidy needs LLVM/Clang 19 or newer"
#endif

/// The header that declares clang::tidy::ClangTidyModuleRegistry: in LLVM 19
/// ClangTidyModuleRegistry.h; LLVM 22 declares it in ClangTidyModule.h and
/// deprecates the old header (#warning on inclusion). Built and tested on
/// 19 and 22 only.
/// Use as: #include GRPCLEAK_CLANG_TIDY_MODULE_REGISTRY_H
#if CLANG_VERSION_MAJOR >= 22
#define GRPCLEAK_CLANG_TIDY_MODULE_REGISTRY_H "clang-tidy/ClangTidyModule.h"
#else
#define GRPCLEAK_CLANG_TIDY_MODULE_REGISTRY_H                                  \
  "clang-tidy/ClangTidyModuleRegistry.h"
#endif

namespace clang::tidy {
struct ClangTidyOptions;
} // namespace clang::tidy

namespace grpcleak::compat {

/// Where \p Call begins, as its own class records it (the AST dump's range).
/// Called through a CallExpr, getBeginLoc() answers differently for a call to
/// an overloaded operator(), `probe(x)`: LLVM 19's CallExpr::getBeginLoc()
/// defers to CXXOperatorCallExpr (the start of `probe`); LLVM 22's, inline
/// since LLVM 21 (llvm-project PR 141058), does not and gives the callee's
/// location (the `(`). Stmt::getBeginLoc() dispatches on the node's class,
/// and so agrees on both.
inline clang::SourceLocation callBeginLoc(const clang::CallExpr &Call) {
  return static_cast<const clang::Stmt &>(Call).getBeginLoc();
}

/// What clang::clangd::provideDefaultChecks() returns (clangd's
/// TidyProvider.h, not installed; grpc-leak-clangd wraps the function at link
/// time, so this must match the library's ABI exactly). LLVM 22 returns an
/// owning TidyProvider; LLVM 19 returns a TidyProviderRef (a function_ref, to
/// a captureless lambda), returned in registers rather than through memory.
#if CLANG_VERSION_MAJOR >= 22
using ClangdDefaultChecksProvider = llvm::unique_function<void(
    clang::tidy::ClangTidyOptions &, llvm::StringRef /*File*/) const>;
#else
using ClangdDefaultChecksProvider = llvm::function_ref<void(
    clang::tidy::ClangTidyOptions &, llvm::StringRef /*File*/)>;
#endif

} // namespace grpcleak::compat

#endif // GRPCLEAK_COMPAT_H
