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
// Also finds Clang's resource directory, like grpc-leak-tidy, and makes
// `--check=<file>` print warnings (see withCheckWarnings below).
//
//===----------------------------------------------------------------------===//

#include "DriverSupport.h"
#include "grpcleak/Compat.h"
#include "grpcleak/Summaries.h"

#include "clang-tidy/ClangTidyOptions.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Process.h"
#include <optional>
#include <string>
#include <vector>

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

namespace {

/// The name of a command-line flag (`--name=value`, `-name`) without its
/// dashes and value; empty for anything else.
llvm::StringRef flagName(llvm::StringRef Arg) {
  if (!Arg.consume_front("-"))
    return {};
  Arg.consume_front("-");
  return Arg.split('=').first;
}

/// Whether a flag called \p Name is among \p Args or in $CLANGD_FLAGS,
/// which clangd reads as well.
bool hasFlag(llvm::ArrayRef<char *> Args, llvm::StringRef Name) {
  for (const char *Arg : Args.drop_front())
    if (flagName(Arg) == Name)
      return true;
  if (std::optional<std::string> Env =
          llvm::sys::Process::GetEnv("CLANGD_FLAGS")) {
    llvm::SmallVector<llvm::StringRef> Words;
    llvm::StringRef(*Env).split(Words, ' ', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef Word : Words)
      if (flagName(Word.trim()) == Name)
        return true;
  }
  return false;
}

/// `clangd --check=<file>` prints only errors unless given --check-warnings,
/// and every grpc-leak-* diagnostic is a warning: the first thing users run
/// when their editor shows nothing would show nothing either. In check mode,
/// --check-warnings is on unless the user sets it (--check-warnings=false
/// gives clangd's own behaviour); clangd rejects the flag given twice.
void withCheckWarnings(std::vector<char *> &Args) {
  static char CheckWarnings[] = "--check-warnings";
  if (hasFlag(Args, "check") && !hasFlag(Args, "check-warnings"))
    Args.insert(Args.begin() + 1, CheckWarnings);
}

} // namespace

int main(int Argc, char **Argv) {
  (void)clang::tidy::GrpcLeakModuleAnchorSource;
  std::string Storage;
  std::vector<char *> Args =
      grpcleak::withResourceDir(Argc, Argv, "--resource-dir=", Storage);
  withCheckWarnings(Args);
  // The editor reads the project's summaries (docs/summaries.md) that CI or
  // the last build wrote, and never writes them: a half-edited file's facts
  // are not the project's.
  grpcleak::SummaryStore::setReadOnly(true);
  return clang::clangd::clangdMain(static_cast<int>(Args.size()), Args.data());
}
