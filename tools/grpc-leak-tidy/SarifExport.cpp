//===- SarifExport.cpp - clang-tidy's exported fixes as SARIF 2.1.0 -------===//
//
// The mapping (docs/sarif.md has the user's view of it):
//   Diagnostic.DiagnosticName   -> result.ruleId (+ ruleIndex), a rule
//   Diagnostic.DiagLevel        -> result.level (error, warning, note)
//   DiagnosticMessage           -> result.message, result.locations[0]
//   Diagnostic.Notes            -> result.relatedLocations (ids 1..N) and
//                                  result.codeFlows[0].threadFlows[0]
//                                  (the warning first, then the notes)
//   DiagnosticMessage.Fix       -> result.fixes (one per message with fix-its)
// clang-tidy gives positions as byte offsets; SARIF wants lines and columns,
// so each file is read once and its line starts are kept. Columns are in
// UTF-16 code units (the SARIF default, declared in run.columnKind): on an
// ASCII line that is the byte column clang prints.
//
//===----------------------------------------------------------------------===//

#include "SarifExport.h"

#include "clang/Tooling/DiagnosticsYaml.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/YAMLTraits.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

using clang::tooling::Diagnostic;
using clang::tooling::DiagnosticMessage;
using llvm::StringRef;
namespace json = llvm::json;

namespace grpcleak {

namespace {

/// One line of text for each of our checks: the rule's shortDescription.
/// (The first sentence of docs/checks/<check>.md.)
struct CheckSummary {
  StringRef Name;
  StringRef Summary;
};
const CheckSummary GrpcLeakCheckSummaries[] = {
    {"grpc-leak-blocking-reaction",
     "Blocking call made in code that gRPC runs on its callback threads."},
    {"grpc-leak-channel-in-loop",
     "gRPC channel created and destroyed again in every iteration of a loop."},
    {"grpc-leak-channel-per-request",
     "gRPC channel created and destroyed again for every request a server "
     "handles."},
    {"grpc-leak-context-lifetime",
     "grpc::ClientContext, or an object an RPC writes into, that can be "
     "destroyed before the async or callback RPC using it completes, or that "
     "is used for a second RPC."},
    {"grpc-leak-core-handle",
     "gRPC C-core handle not released on every path out of the function that "
     "created it."},
    {"grpc-leak-cq-shutdown",
     "grpc::CompletionQueue polled but never shut down, destroyed before it "
     "is drained, or shut down before its server."},
    {"grpc-leak-infinite-deadline",
     "Deadline that never expires given to an RPC, a connectivity wait or an "
     "alarm."},
    {"grpc-leak-reactor-finish",
     "Callback-API reactor whose RPC never completes: DefaultReactor() "
     "returned without Finish(), a server reactor that never finishes, a "
     "client reactor never started or holding a hold."},
    {"grpc-leak-server-shutdown",
     "gRPC server that can be destroyed without Shutdown(), or gRPC shutdown "
     "called from a signal handler."},
    {"grpc-leak-stream-deadline",
     "Streaming RPC started on a grpc::ClientContext with no deadline set."},
    {"grpc-leak-stream-finish",
     "Client stream not finished on every path, or finished without "
     "WritesDone()."},
};

/// A 1-based line and column; the column counts UTF-16 code units.
struct Position {
  unsigned Line;
  unsigned Column;
};

/// Turns byte offsets into positions, reading each file once.
class SourcePositions {
public:
  /// The position of byte \p Offset of \p Path (absolute), or nothing if the
  /// file cannot be read or is shorter than that.
  std::optional<Position> get(StringRef Path, unsigned Offset) {
    const File &F = load(Path);
    if (!F.Buffer || Offset > F.Buffer->getBufferSize())
      return std::nullopt;
    // The last line that starts at or before Offset.
    auto Next = llvm::upper_bound(F.LineStarts, Offset);
    unsigned LineIndex = static_cast<unsigned>(Next - F.LineStarts.begin()) - 1;
    StringRef Before =
        F.Buffer->getBuffer().slice(F.LineStarts[LineIndex], Offset);
    return Position{LineIndex + 1, utf16Length(Before) + 1};
  }

private:
  struct File {
    std::unique_ptr<llvm::MemoryBuffer> Buffer; // null: unreadable
    std::vector<unsigned> LineStarts;           // byte offsets, first is 0
  };

  const File &load(StringRef Path) {
    auto [It, Inserted] = Files.try_emplace(Path);
    File &F = It->second;
    if (!Inserted)
      return F;
    auto Buffer = llvm::MemoryBuffer::getFile(Path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!Buffer)
      return F;
    F.Buffer = std::move(*Buffer);
    // Line breaks as Clang counts them: "\n", "\r\n" and a lone "\r".
    StringRef Text = F.Buffer->getBuffer();
    F.LineStarts.push_back(0);
    for (size_t I = 0, E = Text.size(); I != E; ++I) {
      if (Text[I] == '\r' && I + 1 != E && Text[I + 1] == '\n')
        ++I;
      if (Text[I] == '\n' || Text[I] == '\r')
        F.LineStarts.push_back(static_cast<unsigned>(I + 1));
    }
    return F;
  }

  /// UTF-16 code units of the UTF-8 text \p S: one per character, two for a
  /// character outside the Basic Multilingual Plane (a 4-byte sequence).
  /// Bytes that are not valid UTF-8 count one each.
  static unsigned utf16Length(StringRef S) {
    unsigned Units = 0;
    for (unsigned char C : S) {
      if ((C & 0xC0) == 0x80)
        continue; // a continuation byte
      Units += C >= 0xF0 ? 2 : 1;
    }
    return Units;
  }

  llvm::StringMap<File> Files;
};

/// Builds the SARIF objects of one run.
class SarifBuilder {
public:
  explicit SarifBuilder(const SarifToolInfo &Tool) : Tool(Tool) {}

  json::Object run(llvm::ArrayRef<Diagnostic> Diags, int ExitCode);

private:
  static StringRef ruleIdOf(const Diagnostic &D);
  json::Object rule(StringRef Id) const;
  json::Object result(const Diagnostic &D, unsigned RuleIndex);
  std::optional<json::Object> physicalLocation(const DiagnosticMessage &M,
                                               StringRef BuildDirectory);
  json::Object location(const DiagnosticMessage &M, StringRef BuildDirectory);
  std::optional<json::Object> region(StringRef Path, unsigned Offset,
                                     unsigned Length);
  std::optional<json::Object> fix(const DiagnosticMessage &M,
                                  StringRef BuildDirectory);

  const SarifToolInfo &Tool;
  SourcePositions Positions;
};

} // namespace

/// \p Path as an absolute, dot-free path: clang-tidy writes paths as the
/// compiler saw them, relative to the compile command's directory.
static std::string absolutePath(StringRef Path, StringRef BuildDirectory) {
  llvm::SmallString<256> Abs;
  if (llvm::sys::path::is_relative(Path) && !BuildDirectory.empty())
    llvm::sys::path::append(Abs, BuildDirectory, Path);
  else
    Abs = Path;
  // Without a current directory a relative path stays relative.
  if (std::error_code EC = llvm::sys::fs::make_absolute(Abs))
    return std::string(Abs);
  llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
  return std::string(Abs);
}

/// clang-tidy names a diagnostic that several aliases of one check report
/// "a,b": the first name is the rule, the rest are kept in the result.
StringRef SarifBuilder::ruleIdOf(const Diagnostic &D) {
  return StringRef(D.DiagnosticName).split(',').first.trim();
}

/// A rule's "friendly name", which SARIF wants in Pascal case:
/// grpc-leak-core-handle -> GrpcLeakCoreHandle.
static std::string pascalCase(StringRef Id) {
  std::string Name;
  bool StartWord = true;
  for (char C : Id) {
    if (!llvm::isAlnum(C)) {
      StartWord = true;
      continue;
    }
    Name += StartWord ? llvm::toUpper(C) : C;
    StartWord = false;
  }
  return Name;
}

json::Object SarifBuilder::rule(StringRef Id) const {
  json::Object Rule{
      {"id", Id.str()},
      {"name", pascalCase(Id)},
      {"defaultConfiguration", json::Object{{"level", "warning"}}}};
  const CheckSummary *Ours =
      llvm::find_if(GrpcLeakCheckSummaries,
                    [&](const CheckSummary &S) { return S.Name == Id; });
  if (Ours != std::end(GrpcLeakCheckSummaries) ||
      Id.starts_with("grpc-leak-")) {
    std::string Doc = ("docs/checks/" + Id + ".md").str();
    std::string Summary = Ours != std::end(GrpcLeakCheckSummaries)
                              ? Ours->Summary.str()
                              : ("grpc-leak-tidy check " + Id + ".").str();
    Rule["shortDescription"] = json::Object{{"text", Summary}};
    Rule["help"] =
        json::Object{{"text", Summary + " Documentation: " + Doc +
                                  " in the grpc-leak-tidy sources."}};
    Rule["properties"] = json::Object{{"docs", Doc}};
    if (!Tool.DocsBaseUri.empty())
      Rule["helpUri"] = Tool.DocsBaseUri + Doc;
    return Rule;
  }
  if (Id.starts_with("clang-diagnostic-")) {
    // The compiler's own warnings and errors, passed on by clang-tidy.
    StringRef Flag = Id.drop_front(StringRef("clang-diagnostic-").size());
    std::string Summary =
        Flag == "error" || Flag == "warning"
            ? ("Clang compiler " + Flag + ".").str()
            : ("Clang compiler warning -W" + Flag + ".").str();
    Rule["shortDescription"] = json::Object{{"text", Summary}};
    return Rule;
  }
  // Another clang-tidy check: its page in clang-tidy's documentation, which
  // is laid out as checks/<module>/<check>.html.
  Rule["shortDescription"] =
      json::Object{{"text", ("clang-tidy check " + Id + ".").str()}};
  StringRef Module, Check;
  if (Id.starts_with("clang-analyzer-")) {
    Module = "clang-analyzer";
    Check = Id.drop_front(Module.size() + 1);
  } else {
    std::tie(Module, Check) = Id.split('-');
  }
  if (!Module.empty() && !Check.empty())
    Rule["helpUri"] = ("https://clang.llvm.org/extra/clang-tidy/checks/" +
                       Module + "/" + Check + ".html")
                          .str();
  return Rule;
}

std::optional<json::Object>
SarifBuilder::region(StringRef Path, unsigned Offset, unsigned Length) {
  std::optional<Position> Start = Positions.get(Path, Offset);
  std::optional<Position> End = Positions.get(Path, Offset + Length);
  if (!Start || !End)
    return std::nullopt;
  return json::Object{{"startLine", Start->Line},
                      {"startColumn", Start->Column},
                      {"endLine", End->Line},
                      {"endColumn", End->Column}};
}

std::optional<json::Object>
SarifBuilder::physicalLocation(const DiagnosticMessage &M,
                               StringRef BuildDirectory) {
  if (M.FilePath.empty())
    return std::nullopt; // e.g. an error in the command line
  std::string Path = absolutePath(M.FilePath, BuildDirectory);
  json::Object Physical{
      {"artifactLocation", json::Object{{"uri", fileUri(Path)}}}};
  // A highlighted range that starts at the location gives the region's end;
  // otherwise the region is the location alone.
  unsigned Length = 0;
  for (const clang::tooling::FileByteRange &R : M.Ranges)
    if (R.FileOffset == M.FileOffset &&
        absolutePath(R.FilePath, BuildDirectory) == Path) {
      Length = R.Length;
      break;
    }
  if (std::optional<json::Object> Region = region(Path, M.FileOffset, Length)) {
    if (Length == 0) {
      // A point: SARIF would read the missing end as "to the end of the
      // line", which is as much as a point can say.
      Region->erase("endLine");
      Region->erase("endColumn");
    }
    Physical["region"] = std::move(*Region);
  } else {
    // The file is gone: the byte offset is all there is.
    Physical["region"] =
        json::Object{{"byteOffset", M.FileOffset}, {"byteLength", Length}};
  }
  return Physical;
}

json::Object SarifBuilder::location(const DiagnosticMessage &M,
                                    StringRef BuildDirectory) {
  json::Object Location{{"message", json::Object{{"text", M.Message}}}};
  if (std::optional<json::Object> Physical =
          physicalLocation(M, BuildDirectory))
    Location["physicalLocation"] = std::move(*Physical);
  return Location;
}

std::optional<json::Object> SarifBuilder::fix(const DiagnosticMessage &M,
                                              StringRef BuildDirectory) {
  // Files in a stable order: M.Fix is a hash map.
  std::vector<StringRef> Files;
  for (const auto &Entry : M.Fix)
    if (!Entry.second.empty())
      Files.push_back(Entry.first());
  if (Files.empty())
    return std::nullopt;
  llvm::sort(Files);
  json::Array Changes;
  for (StringRef File : Files) {
    std::string Path = absolutePath(File, BuildDirectory);
    json::Array Replacements;
    for (const clang::tooling::Replacement &R : M.Fix.find(File)->second) {
      std::optional<json::Object> Deleted =
          region(Path, R.getOffset(), R.getLength());
      json::Object Replacement{
          {"deletedRegion", Deleted
                                ? std::move(*Deleted)
                                : json::Object{{"byteOffset", R.getOffset()},
                                               {"byteLength", R.getLength()}}}};
      if (!R.getReplacementText().empty())
        Replacement["insertedContent"] =
            json::Object{{"text", R.getReplacementText().str()}};
      Replacements.push_back(std::move(Replacement));
    }
    Changes.push_back(
        json::Object{{"artifactLocation", json::Object{{"uri", fileUri(Path)}}},
                     {"replacements", std::move(Replacements)}});
  }
  return json::Object{{"description", json::Object{{"text", M.Message}}},
                      {"artifactChanges", std::move(Changes)}};
}

json::Object SarifBuilder::result(const Diagnostic &D, unsigned RuleIndex) {
  // (String literals: json::Value does not copy a StringRef.)
  const char *Level = "warning";
  switch (D.DiagLevel) {
  case Diagnostic::Error:
    Level = "error";
    break;
  case Diagnostic::Warning:
    Level = "warning";
    break;
  case Diagnostic::Remark:
    Level = "note";
    break;
  }
  json::Object Result{{"ruleId", ruleIdOf(D).str()},
                      {"ruleIndex", RuleIndex},
                      {"level", Level},
                      {"message", json::Object{{"text", D.Message.Message}}}};

  std::optional<json::Object> Main =
      physicalLocation(D.Message, D.BuildDirectory);
  if (Main)
    Result["locations"] =
        json::Array{json::Object{{"physicalLocation", json::Object(*Main)}}};

  if (!D.Notes.empty()) {
    // The notes: as related locations, and as the path from the warning
    // through them, in the order the check gave them.
    json::Array Related;
    json::Array Flow;
    if (Main)
      Flow.push_back(json::Object{
          {"location",
           json::Object{
               {"physicalLocation", std::move(*Main)},
               {"message", json::Object{{"text", D.Message.Message}}}}}});
    for (auto [Index, Note] : llvm::enumerate(D.Notes)) {
      json::Object Location = location(Note, D.BuildDirectory);
      if (Location.get("physicalLocation"))
        Flow.push_back(json::Object{{"location", json::Object(Location)}});
      Location["id"] = static_cast<int64_t>(Index + 1);
      Related.push_back(std::move(Location));
    }
    Result["relatedLocations"] = std::move(Related);
    if (Flow.size() > 1)
      Result["codeFlows"] = json::Array{json::Object{
          {"threadFlows",
           json::Array{json::Object{{"locations", std::move(Flow)}}}}}};
  }

  // Fix-its, of the warning and of its notes (a check often offers its fix
  // on a note, as clang-tidy's --fix-notes applies them).
  json::Array Fixes;
  if (std::optional<json::Object> Fix = fix(D.Message, D.BuildDirectory))
    Fixes.push_back(std::move(*Fix));
  for (const DiagnosticMessage &Note : D.Notes)
    if (std::optional<json::Object> Fix = fix(Note, D.BuildDirectory))
      Fixes.push_back(std::move(*Fix));
  if (!Fixes.empty())
    Result["fixes"] = std::move(Fixes);

  // The other names of a diagnostic that aliases of one check reported.
  if (StringRef(D.DiagnosticName).contains(',')) {
    llvm::SmallVector<StringRef, 4> Names;
    StringRef(D.DiagnosticName).split(Names, ',', -1, /*KeepEmpty=*/false);
    json::Array Checks;
    for (StringRef Name : Names)
      Checks.push_back(Name.trim().str());
    Result["properties"] = json::Object{{"checks", std::move(Checks)}};
  }
  return Result;
}

json::Object SarifBuilder::run(llvm::ArrayRef<Diagnostic> Diags, int ExitCode) {
  // The rules: every check we know of and every check that reported, sorted
  // by name; results point at them by index.
  std::map<std::string, unsigned> RuleIndex;
  for (const std::string &Name : Tool.KnownChecks)
    RuleIndex.emplace(Name, 0);
  for (const Diagnostic &D : Diags)
    RuleIndex.emplace(ruleIdOf(D).str(), 0);
  json::Array Rules;
  for (auto &[Name, Index] : RuleIndex) {
    Index = static_cast<unsigned>(Rules.size());
    Rules.push_back(rule(Name));
  }

  json::Array Results;
  for (const Diagnostic &D : Diags)
    Results.push_back(result(D, RuleIndex[ruleIdOf(D).str()]));

  json::Object Driver{{"name", Tool.Name}, {"rules", std::move(Rules)}};
  if (!Tool.Version.empty()) {
    Driver["version"] = Tool.Version;
    Driver["semanticVersion"] = Tool.Version;
  }
  if (!Tool.InformationUri.empty())
    Driver["informationUri"] = Tool.InformationUri;

  return json::Object{
      {"tool", json::Object{{"driver", std::move(Driver)}}},
      {"invocations",
       json::Array{json::Object{{"executionSuccessful", ExitCode == 0},
                                {"exitCode", ExitCode}}}},
      {"columnKind", "utf16CodeUnits"},
      {"results", std::move(Results)}};
}

llvm::Expected<std::vector<Diagnostic>>
readExportedDiagnostics(StringRef YamlPath) {
  auto Buffer = llvm::MemoryBuffer::getFile(YamlPath, /*IsText=*/true);
  if (!Buffer)
    return llvm::createFileError(YamlPath, Buffer.getError());
  if ((*Buffer)->getBuffer().trim().empty())
    return std::vector<Diagnostic>();
  clang::tooling::TranslationUnitDiagnostics TUD;
  llvm::yaml::Input YamlIn((*Buffer)->getBuffer());
  YamlIn >> TUD;
  if (YamlIn.error())
    // LLVM 19 has no createFileError(File, EC, Message); this spelling
    // means the same on 19 and 22.
    return llvm::createFileError(
        YamlPath,
        llvm::createStringError(YamlIn.error(), "not a clang-tidy fixes file"));
  return std::move(TUD.Diagnostics);
}

json::Value buildSarifLog(llvm::ArrayRef<Diagnostic> Diags,
                          const SarifToolInfo &Tool, int ExitCode) {
  SarifBuilder Builder(Tool);
  return json::Object{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", json::Array{Builder.run(Diags, ExitCode)}}};
}

llvm::Error writeSarifLog(StringRef Path, const json::Value &Log) {
  return llvm::writeToOutput(Path, [&](llvm::raw_ostream &OS) {
    json::OStream(OS, /*IndentSize=*/2).value(Log);
    OS << '\n';
    return llvm::Error::success();
  });
}

std::string fileUri(StringRef Path) {
  std::string Slashed = llvm::sys::path::convert_to_slash(Path);
  std::string Uri = "file://";
  if (!StringRef(Slashed).starts_with("/"))
    Uri += '/'; // a drive letter: file:///C:/...
  // Unreserved characters, '/' and ':' stay; every other byte (of UTF-8 too)
  // is percent-encoded.
  for (char C : Slashed) {
    if (llvm::isAlnum(C) || StringRef("-._~/:").contains(C)) {
      Uri += C;
    } else {
      auto Byte = static_cast<unsigned char>(C);
      Uri += '%';
      Uri += llvm::hexdigit(Byte >> 4);
      Uri += llvm::hexdigit(Byte & 0xF);
    }
  }
  return Uri;
}

} // namespace grpcleak
