//===- SarifExport.h - clang-tidy's fixes YAML as SARIF 2.1.0 ---*- C++ -*-===//
//
// grpc-leak-tidy --export-sarif=<file> runs clang-tidy with --export-fixes
// and turns the YAML it writes (clang::tooling::TranslationUnitDiagnostics)
// into a SARIF 2.1.0 log: one run, a rule per check, a result per warning
// with its notes as related locations and as a code flow, and its fix-its as
// SARIF fixes. docs/sarif.md describes the mapping.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_TOOLS_GRPC_LEAK_TIDY_SARIF_EXPORT_H
#define GRPCLEAK_TOOLS_GRPC_LEAK_TIDY_SARIF_EXPORT_H

#include "clang/Tooling/Core/Diagnostic.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>
#include <vector>

namespace grpcleak {

/// What the SARIF log says about the tool that produced it.
struct SarifToolInfo {
  std::string Name;
  std::string Version;
  /// Absolute URI of the tool's documentation; empty for none.
  std::string InformationUri;
  /// Absolute URI of the project's source tree, ending in '/': rule help
  /// links are <DocsBaseUri>docs/checks/<check>.md. Empty for none.
  std::string DocsBaseUri;
  /// Checks listed as rules even when they found nothing (ours).
  std::vector<std::string> KnownChecks;
};

/// The diagnostics in a clang-tidy --export-fixes YAML file. An empty file
/// holds none (clang-tidy writes nothing when it finds nothing).
llvm::Expected<std::vector<clang::tooling::Diagnostic>>
readExportedDiagnostics(llvm::StringRef YamlPath);

/// The SARIF 2.1.0 log of one clang-tidy run that found \p Diags and ended
/// with \p ExitCode. Positions are read from the source files, which must
/// still be there (an unreadable file keeps its URI but loses its regions).
llvm::json::Value
buildSarifLog(llvm::ArrayRef<clang::tooling::Diagnostic> Diags,
              const SarifToolInfo &Tool, int ExitCode);

/// Writes \p Log to \p Path (atomically: a temporary file renamed over it).
llvm::Error writeSarifLog(llvm::StringRef Path, const llvm::json::Value &Log);

/// The file:// URI of the absolute path \p Path.
std::string fileUri(llvm::StringRef Path);

} // namespace grpcleak

#endif // GRPCLEAK_TOOLS_GRPC_LEAK_TIDY_SARIF_EXPORT_H
