//===- GrpcLeakTidyMain.cpp - clang-tidy with the grpc-leak checks built in ===//
//
// Exactly clang-tidy (every flag works), with the grpc-leak module linked in
// and Clang's resource directory found for the user. One flag of our own:
// --export-sarif=<file> writes the run's diagnostics as SARIF 2.1.0 (see
// SarifExport.h and docs/sarif.md).
//
//===----------------------------------------------------------------------===//

#include "DriverSupport.h"
#include "SarifExport.h"
#include "grpcleak/Compat.h"

#include "clang-tidy/ClangTidyModule.h"
#include GRPCLEAK_CLANG_TIDY_MODULE_REGISTRY_H
#include "clang-tidy/tool/ClangTidyMain.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#ifndef GRPCLEAK_VERSION
#define GRPCLEAK_VERSION ""
#endif
#ifndef GRPCLEAK_DOCS_URL
#define GRPCLEAK_DOCS_URL ""
#endif
#ifndef GRPCLEAK_INSTALL_DOCDIR
#define GRPCLEAK_INSTALL_DOCDIR "share/doc/grpc-leak-tidy"
#endif
#ifndef GRPCLEAK_SOURCE_DIR
#define GRPCLEAK_SOURCE_DIR ""
#endif

namespace clang::tidy {
// Defined by the module; referencing it keeps the module in the link.
extern volatile int GrpcLeakModuleAnchorSource;
} // namespace clang::tidy

using llvm::StringRef;

namespace {

/// What the command line asks of the SARIF export.
struct SarifRequest {
  /// --export-sarif's file; empty when not asked.
  std::string SarifPath;
  /// Whether the user gave --export-fixes, and its file.
  bool FixesGiven = false;
  std::string FixesPath;
};

} // namespace

/// If \p Arg is the option \p Name ("-name", "--name", "-name=v",
/// "--name=v"), its value after '=' (empty for the separate-value form).
static std::optional<StringRef> matchOption(StringRef Arg, StringRef Name) {
  if (!Arg.consume_front("--") && !Arg.consume_front("-"))
    return std::nullopt;
  if (!Arg.consume_front(Name))
    return std::nullopt;
  if (Arg.empty())
    return StringRef();
  if (Arg.consume_front("="))
    return Arg;
  return std::nullopt; // a longer option that starts with Name
}

/// Takes --export-sarif out of \p Args (clang-tidy does not know it) and
/// notes the user's --export-fixes. Stops at "--": what follows is the
/// compiler's. Returns false, having said why, on a malformed option.
static bool takeSarifOptions(std::vector<char *> &Args, SarifRequest &Request) {
  bool SarifSeen = false;
  for (unsigned I = 1; I < Args.size(); ++I) {
    StringRef Arg = Args[I];
    if (Arg == "--")
      break;
    // Both take their value after '=' or as the next argument, as
    // clang-tidy's options do.
    bool Separate = !Arg.contains('=');
    if (std::optional<StringRef> Fixes = matchOption(Arg, "export-fixes")) {
      Request.FixesGiven = true;
      if (!Separate)
        Request.FixesPath = Fixes->str();
      else if (I + 1 < Args.size())
        Request.FixesPath = Args[I + 1];
      continue;
    }
    std::optional<StringRef> Sarif = matchOption(Arg, "export-sarif");
    if (!Sarif)
      continue;
    unsigned Taken = 1;
    if (Separate && I + 1 < Args.size() && StringRef(Args[I + 1]) != "--") {
      Sarif = StringRef(Args[I + 1]);
      Taken = 2;
    }
    if (Sarif->empty()) {
      llvm::errs() << "grpc-leak-tidy: error: --export-sarif needs a file "
                      "name: --export-sarif=<file>\n";
      return false;
    }
    if (SarifSeen) {
      llvm::errs() << "grpc-leak-tidy: error: --export-sarif may be given "
                      "only once\n";
      return false;
    }
    SarifSeen = true;
    Request.SarifPath = Sarif->str();
    Args.erase(Args.begin() + I, Args.begin() + I + Taken);
    --I;
  }
  // clang-tidy takes --export-fixes once: we cannot add ours to an empty one.
  if (SarifSeen && Request.FixesGiven && Request.FixesPath.empty()) {
    llvm::errs() << "grpc-leak-tidy: error: --export-sarif needs "
                    "--export-fixes, if given, to name a file\n";
    return false;
  }
  return true;
}

/// Our check names, from the module registry (so a new check is listed
/// without touching this file).
static std::vector<std::string> grpcLeakCheckNames() {
  std::vector<std::string> Names;
  for (const auto &Entry : clang::tidy::ClangTidyModuleRegistry::entries()) {
    clang::tidy::ClangTidyCheckFactories Factories;
    Entry.instantiate()->addCheckFactories(Factories);
    for (const auto &Factory : Factories)
      if (Factory.getKey().starts_with("grpc-leak-"))
        Names.push_back(Factory.getKey().str());
  }
  llvm::sort(Names);
  return Names;
}

/// Whether \p Uri is absolute (has a scheme), as SARIF requires of its links.
static bool isAbsoluteUri(StringRef Uri) {
  size_t Colon = Uri.find(':');
  return Colon != 0 && Colon != StringRef::npos && llvm::isAlpha(Uri.front()) &&
         llvm::all_of(Uri.take_front(Colon), [](char C) {
           return llvm::isAlnum(C) || C == '+' || C == '-' || C == '.';
         });
}

/// Where the project's sources can be browsed, for documentation links:
/// $GRPC_LEAK_TIDY_DOCS_URL, else the GRPCLEAK_DOCS_URL the build was
/// configured with, else the documentation installed with the binary, else
/// the source tree the binary was built from if it is still there (file://
/// URIs). Ends in '/'; empty if none.
static std::string docsBaseUri(const char *Argv0) {
  std::string Base = GRPCLEAK_DOCS_URL;
  if (std::optional<std::string> Env =
          llvm::sys::Process::GetEnv("GRPC_LEAK_TIDY_DOCS_URL"))
    Base = *Env;
  if (!Base.empty()) {
    if (!isAbsoluteUri(Base)) {
      llvm::errs() << "grpc-leak-tidy: warning: ignoring documentation URL '"
                   << Base << "': it is not an absolute URI\n";
      return "";
    }
    if (!StringRef(Base).ends_with("/"))
      Base += '/';
    return Base;
  }
  auto HasDocs = [](StringRef Root) {
    llvm::SmallString<256> Docs(Root);
    llvm::sys::path::append(Docs, "docs", "checks");
    return !Root.empty() && llvm::sys::fs::is_directory(Docs);
  };
  std::string Prefix = grpcleak::ourPrefix(Argv0);
  llvm::SmallString<256> Installed(Prefix);
  llvm::sys::path::append(Installed, GRPCLEAK_INSTALL_DOCDIR);
  if (!Prefix.empty() && HasDocs(Installed))
    return grpcleak::fileUri(Installed) + "/";
  if (HasDocs(GRPCLEAK_SOURCE_DIR))
    return grpcleak::fileUri(GRPCLEAK_SOURCE_DIR) + "/";
  return "";
}

/// Writes the SARIF log of a run that returned \p ExitCode and exported its
/// fixes to \p FixesPath. \p FixesWritten is false when the run left that
/// file alone (clang-tidy writes nothing when it finds nothing): it holds no
/// diagnostics of this run then. Returns false, having said why, on failure.
static bool exportSarif(const char *Argv0, const SarifRequest &Request,
                        StringRef FixesPath, bool FixesWritten, int ExitCode) {
  std::vector<clang::tooling::Diagnostic> Diags;
  if (FixesWritten) {
    auto Read = grpcleak::readExportedDiagnostics(FixesPath);
    if (!Read) {
      llvm::errs() << "grpc-leak-tidy: error: cannot write the SARIF log '"
                   << Request.SarifPath << "': cannot read the exported fixes: "
                   << llvm::toString(Read.takeError()) << "\n";
      return false;
    }
    Diags = std::move(*Read);
  }
  grpcleak::SarifToolInfo Tool;
  Tool.Name = "grpc-leak-tidy";
  Tool.Version = GRPCLEAK_VERSION;
  Tool.DocsBaseUri = docsBaseUri(Argv0);
  if (!Tool.DocsBaseUri.empty())
    Tool.InformationUri = Tool.DocsBaseUri + "README.md";
  Tool.KnownChecks = grpcLeakCheckNames();
  if (llvm::Error Err = grpcleak::writeSarifLog(
          Request.SarifPath, grpcleak::buildSarifLog(Diags, Tool, ExitCode))) {
    // The message names the file.
    llvm::errs() << "grpc-leak-tidy: error: cannot write the SARIF log: "
                 << llvm::toString(std::move(Err)) << "\n";
    return false;
  }
  return true;
}

/// Whether a .clang-tidy file is in \p Path's directory or above it.
static bool configFileAbove(StringRef Path) {
  llvm::SmallString<256> Dir(Path);
  if (llvm::sys::fs::make_absolute(Dir))
    return false;
  if (!llvm::sys::fs::is_directory(Dir))
    Dir = llvm::sys::path::parent_path(Dir);
  for (; !Dir.empty(); Dir = llvm::sys::path::parent_path(Dir)) {
    llvm::SmallString<256> Config(Dir);
    llvm::sys::path::append(Config, ".clang-tidy");
    if (llvm::sys::fs::exists(Config))
      return true;
    if (Dir == llvm::sys::path::parent_path(Dir))
      break;
  }
  return false;
}

/// With no configuration at all (no --checks, --config or --config-file, and
/// no .clang-tidy above the working directory or any path given), clang-tidy's
/// own default list enables nothing in this binary (its static analyzer checks
/// are not built in), and it stops with "no checks enabled". Add ours to the
/// defaults then, as grpc-leak-clangd does; any configuration wins.
static void addDefaultChecks(std::vector<char *> &Args) {
  static char DefaultChecks[] = "--checks=grpc-leak-*";
  std::vector<StringRef> Paths = {"."};
  for (size_t I = 1; I < Args.size(); ++I) {
    StringRef Arg = Args[I];
    if (Arg == "--")
      break;
    StringRef Name = Arg.ltrim('-');
    if (Name.size() < Arg.size()) {
      if (Name.starts_with("checks") || Name.starts_with("config"))
        return;
      continue;
    }
    if (llvm::sys::fs::exists(Arg))
      Paths.push_back(Arg);
  }
  if (llvm::any_of(Paths, configFileAbove))
    return;
  Args.insert(Args.begin() + 1, DefaultChecks);
}

int main(int Argc, char **Argv) {
  (void)clang::tidy::GrpcLeakModuleAnchorSource;
  std::vector<char *> Args(Argv, Argv + Argc);
  SarifRequest Request;
  if (!takeSarifOptions(Args, Request))
    return 1;

  // The SARIF log is made from clang-tidy's --export-fixes YAML: the user's
  // file if they asked for one, else a temporary one. The temporary file goes
  // away however clang-tidy ends, --help's exit() included (hence static).
  static llvm::FileRemover TempFixesRemover;
  std::string FixesFlag;
  llvm::SmallString<128> FixesPath(Request.FixesPath);
  std::optional<llvm::sys::fs::file_status> FixesBefore;
  if (!Request.SarifPath.empty()) {
    if (!Request.FixesGiven) {
      if (std::error_code EC = llvm::sys::fs::createTemporaryFile(
              "grpc-leak-tidy-fixes", "yaml", FixesPath)) {
        llvm::errs() << "grpc-leak-tidy: error: cannot create a temporary "
                        "file for --export-sarif: "
                     << EC.message() << "\n";
        return 1;
      }
      TempFixesRemover.setFile(FixesPath);
      llvm::sys::RemoveFileOnSignal(FixesPath);
      FixesFlag = ("--export-fixes=" + FixesPath).str();
      Args.insert(Args.begin() + 1, FixesFlag.data());
    } else {
      llvm::sys::fs::file_status Status;
      if (!llvm::sys::fs::status(FixesPath, Status))
        FixesBefore = Status;
    }
  }

  addDefaultChecks(Args);
  std::string Storage;
  Args =
      grpcleak::withResourceDir(static_cast<int>(Args.size()), Args.data(),
                                "--extra-arg-before=-resource-dir=", Storage);
  int ExitCode = clang::tidy::clangTidyMain(
      static_cast<int>(Args.size()), const_cast<const char **>(Args.data()));
  if (Request.SarifPath.empty())
    return ExitCode;

  // Did clang-tidy write the fixes file? Ours exists from the start (empty
  // when nothing was found); the user's may be missing, or stale from an
  // earlier run.
  bool FixesWritten = true;
  if (Request.FixesGiven) {
    llvm::sys::fs::file_status After;
    bool Missing = llvm::sys::fs::status(FixesPath, After) ||
                   !llvm::sys::fs::exists(After);
    bool Untouched = FixesBefore &&
                     llvm::sys::fs::equivalent(*FixesBefore, After) &&
                     FixesBefore->getLastModificationTime() ==
                         After.getLastModificationTime() &&
                     FixesBefore->getSize() == After.getSize();
    FixesWritten = !Missing && !Untouched;
  }
  if (!exportSarif(Argv[0], Request, FixesPath, FixesWritten, ExitCode))
    return ExitCode != 0 ? ExitCode : 1;
  return ExitCode;
}
