//===- GrpcLeakClangdMain.cpp - clangd with the grpc-leak checks built in -===//
//
// Stock clangd would hide our diagnostics twice over: it runs only the
// clang-tidy checks it has measured as fast (FastCheckFilter: Strict), and
// with no .clang-tidy and no config it enables only its own small default
// list. Users must not have to configure either. clangd's two policy
// functions live in TidyProvider.cpp and are called from other objects of
// libclangDaemon/libclangdMain, so the link step (--wrap, see
// tools/CMakeLists.txt) routes those calls here:
//   - isFastTidyCheck: grpc-leak-* checks are fast (they cost well under
//     clangd's 8% bar, see bench/), everything else as clangd decides;
//   - provideDefaultChecks: when nothing configured any check, clangd's
//     defaults plus grpc-leak-*. Any user configuration wins as usual.
// Also finds Clang's resource directory, like grpc-leak-tidy.
//
//===----------------------------------------------------------------------===//

#include "DriverSupport.h"
#include "grpcleak/Compat.h"

#include "clang-tidy/ClangTidyOptions.h"
#include "llvm/ADT/StringRef.h"
#include <optional>

namespace clang {
namespace clangd {
int clangdMain(int Argc, char **Argv);
} // namespace clangd
namespace tidy {
extern volatile int GrpcLeakModuleAnchorSource;
} // namespace tidy
} // namespace clang

namespace {

// What clangd's provideDefaultChecks() returns (its TidyProvider.h is not
// installed): a function that adjusts the clang-tidy options for one file.
// Owning in LLVM 22, a function_ref in LLVM 19 (see grpcleak/Compat.h).
using TidyProvider = grpcleak::compat::ClangdDefaultChecksProvider;

constexpr llvm::StringLiteral OurChecks = "grpc-leak-*";

} // namespace

// The real functions, and our replacements, by their linker names.
std::optional<bool> realIsFastTidyCheck(llvm::StringRef Check) __asm__(
    "__real__ZN5clang6clangd15isFastTidyCheckEN4llvm9StringRefE");
std::optional<bool> grpcLeakIsFastTidyCheck(llvm::StringRef Check) __asm__(
    "__wrap__ZN5clang6clangd15isFastTidyCheckEN4llvm9StringRefE");
TidyProvider realProvideDefaultChecks() __asm__(
    "__real__ZN5clang6clangd20provideDefaultChecksEv");
TidyProvider grpcLeakProvideDefaultChecks() __asm__(
    "__wrap__ZN5clang6clangd20provideDefaultChecksEv");

std::optional<bool> grpcLeakIsFastTidyCheck(llvm::StringRef Check) {
  if (Check.starts_with("grpc-leak-"))
    return true;
  return realIsFastTidyCheck(Check);
}

// A captureless lambda with static storage: a TidyProvider can own a copy
// (LLVM 22) or refer to it (LLVM 19's function_ref) alike.
TidyProvider grpcLeakProvideDefaultChecks() {
  static const auto WithOurChecks = [](clang::tidy::ClangTidyOptions &Opts,
                                       llvm::StringRef File) {
    static const TidyProvider Defaults = realProvideDefaultChecks();
    bool Unconfigured = !Opts.Checks || Opts.Checks->empty();
    Defaults(Opts, File);
    if (Unconfigured)
      Opts.Checks = (Opts.Checks ? *Opts.Checks + "," : std::string()) +
                    OurChecks.str();
  };
  return WithOurChecks;
}

int main(int Argc, char **Argv) {
  (void)clang::tidy::GrpcLeakModuleAnchorSource;
  std::string Storage;
  std::vector<char *> Args =
      grpcleak::withResourceDir(Argc, Argv, "--resource-dir=", Storage);
  return clang::clangd::clangdMain(static_cast<int>(Args.size()), Args.data());
}
