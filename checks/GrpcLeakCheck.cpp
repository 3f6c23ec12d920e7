//===- GrpcLeakCheck.cpp - What every grpc-leak check shares --------------===//

#include "GrpcLeakCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ProjectFacts.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/Summaries.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

namespace clang::tidy::grpcleak {

namespace {
constexpr llvm::StringLiteral TuTag = "grpc-leak-tu";
} // namespace

GrpcLeakCheck::GrpcLeakCheck(StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), TidyContext(Context),
      SummariesOption(Options.getLocalOrGlobal("SummariesDir", "").str()) {}

void GrpcLeakCheck::registerMatchers(ast_matchers::MatchFinder *Finder) {
  // The TU is the root of the traversal: this match comes first. (clangd
  // traverses only the main file's top-level declarations: there the first
  // match of any kind starts the TU.)
  Finder->addMatcher(ast_matchers::translationUnitDecl().bind(TuTag), this);
  registerCheckMatchers(Finder);
}

void GrpcLeakCheck::check(const ast_matchers::MatchFinder::MatchResult &Result) {
  startTranslationUnit(*Result.Context);
  if (Result.Nodes.getNodeAs<TranslationUnitDecl>(TuTag))
    return;
  checkMatch(Result);
}

/// The build directory of the compile database that covers \p From: the
/// first directory, from \p From up, that holds a compile_commands.json or
/// a build/compile_commands.json (as clangd looks), resolved through links
/// (a compile_commands.json linked from the source tree is the build's).
static std::string buildDirectoryAbove(llvm::StringRef From) {
  for (llvm::SmallString<256> Dir(From); !Dir.empty();
       Dir = llvm::sys::path::parent_path(Dir)) {
    for (llvm::StringRef Sub : {"", "build"}) {
      llvm::SmallString<256> Db(Dir), Real;
      llvm::sys::path::append(Db, Sub, "compile_commands.json");
      if (!llvm::sys::fs::real_path(Db, Real) && llvm::sys::fs::is_regular_file(Real))
        return std::string(llvm::sys::path::parent_path(Real));
    }
    if (llvm::sys::path::parent_path(Dir) == Dir)
      break;
  }
  return "";
}

std::string GrpcLeakCheck::summariesDirectory() {
  std::string Option = SummariesOption;
  if (std::optional<std::string> Env =
          llvm::sys::Process::GetEnv("GRPC_LEAK_SUMMARIES_DIR"))
    Option = *Env;
  if (Option == "off")
    return "";
  SummariesChosen = !Option.empty();
  // The directory the compile command runs in (a CMake target's binary
  // directory); clangd leaves it empty: the main file's directory then.
  llvm::SmallString<256> Start(TidyContext->getCurrentBuildDirectory());
  if (Start.empty()) {
    Start = getCurrentMainFile();
    llvm::sys::path::remove_filename(Start);
  }
  std::string Build = buildDirectoryAbove(Start);
  if (!Option.empty()) {
    llvm::SmallString<256> Path(Option);
    if (llvm::sys::path::is_relative(Path) && !Build.empty()) {
      llvm::SmallString<256> Joined(Build);
      llvm::sys::path::append(Joined, Path);
      Path = Joined;
    }
    return std::string(Path);
  }
  if (Build.empty())
    return "";
  llvm::SmallString<256> Dir(Build);
  llvm::sys::path::append(Dir, ".grpc-leak", "summaries");
  return std::string(Dir);
}

void GrpcLeakCheck::startTranslationUnit(ASTContext &Ctx) {
  if (SummaryContext == &Ctx)
    return;
  SummaryContext = &Ctx;
  ::grpcleak::beginSummaries(Ctx, summariesDirectory());
}

void GrpcLeakCheck::onEndOfTranslationUnit() {
  if (SummaryContext) {
    ASTContext &Ctx = *SummaryContext;
    if (::grpcleak::SummaryStore *Store = ::grpcleak::summariesFor(Ctx)) {
      // The first check to end the TU records its facts; a TU with errors
      // records nothing (the dropped code may be what a fact rests on).
      if (::grpcleak::claimSummaryWrite(Ctx) &&
          !Ctx.getDiagnostics().hasUncompilableErrorOccurred() &&
          !::grpcleak::SummaryStore::readOnly()) {
        std::string Error = Store->write(::grpcleak::summarizeTu(Ctx));
        // A directory found by default may be out of reach (a build
        // sandbox, a read-only checkout): only a chosen one must work.
        if (!Error.empty() && SummariesChosen)
          configurationDiag("%0") << Error;
      }
      for (const std::string &Problem : Store->takeProblems())
        configurationDiag("%0") << Problem;
    }
    ::grpcleak::endSummaries(Ctx);
    SummaryContext = nullptr;
  }
  if (LastContext) {
    ::grpcleak::FlowCache::clear(*LastContext);
    ::grpcleak::TuIndex::clear(*LastContext);
    ::grpcleak::clearParentIndex(*LastContext);
  }
  LastContext = nullptr;
  ReportedTemplateCode.clear();
}

GrpcLeakCheck::RegexOption GrpcLeakCheck::readRegexOption(StringRef Name) {
  RegexOption Option;
  Option.Text = Options.get(Name, "").str();
  if (Option.Text.empty())
    return Option;
  llvm::Regex Compiled(Option.Text);
  std::string Error;
  if (!Compiled.isValid(Error)) {
    configurationDiag("invalid regular expression '%0' in option '%1.%2': %3")
        << Option.Text << getID() << Name << Error;
    return Option;
  }
  Option.Compiled.emplace(std::move(Compiled));
  return Option;
}

FixItHint GrpcLeakCheck::insertStatementBefore(SourceLocation Insert,
                                               StringRef Code,
                                               const SourceManager &SM) {
  StringRef Indent;
  bool Invalid = false;
  StringRef Buffer = SM.getBufferData(SM.getFileID(Insert), &Invalid);
  unsigned Column = SM.getSpellingColumnNumber(Insert);
  unsigned Offset = SM.getFileOffset(Insert);
  if (!Invalid && Column >= 1 && Offset + 1 >= Column) {
    StringRef Before = Buffer.substr(Offset - (Column - 1), Column - 1);
    if (Before.find_first_not_of(" \t") == StringRef::npos)
      Indent = Before;
  }
  std::string Text = Code.str() + (Indent.empty() && Column > 1
                                       ? std::string(" ")
                                       : "\n" + Indent.str());
  return FixItHint::CreateInsertion(Insert, Text);
}

void GrpcLeakCheck::noteSummarisedCalls(
    const FunctionDecl &Fn, const ValueDecl &Object, const Stmt *Before,
    llvm::function_ref<bool(const ::grpcleak::FunctionFacts &, unsigned)> DidIt,
    StringRef Verb) {
  if (!Fn.getBody() || !::grpcleak::summariesFor(Fn.getASTContext()))
    return;
  const SourceManager &SM = Fn.getASTContext().getSourceManager();
  ::grpcleak::anyStatement(Fn.getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
    if (!Callee || Callee->hasBody() ||
        (Before && !SM.isBeforeInTranslationUnit(Call->getBeginLoc(),
                                                 Before->getBeginLoc())))
      return false;
    std::shared_ptr<const ::grpcleak::FunctionFacts> Facts =
        ::grpcleak::projectFacts(*Callee);
    if (!Facts)
      return false;
    for (unsigned I = 0, E = std::min(Call->getNumArgs(), Callee->getNumParams());
         I != E; ++I)
      if (::grpcleak::namesObject(Call->getArg(I), &Object) && !DidIt(*Facts, I)) {
        diag(Call->getBeginLoc(),
             "%0, defined in %1, %2 (from the project's summaries)",
             DiagnosticIDs::Note)
            << Callee << Facts->File << Verb;
        break;
      }
    return false;
  });
}

ast_matchers::StatementMatcher GrpcLeakCheck::rpcStartCandidate(StringRef Id) {
  using namespace ast_matchers;
  return cxxMemberCallExpr(hasArgument(
                               0, hasType(hasCanonicalType(pointsTo(cxxRecordDecl(
                                      hasName("::grpc::ClientContext")))))))
      .bind(Id);
}

bool GrpcLeakCheck::isGenerated(SourceLocation Loc,
                                const SourceManager &SM) const {
  return ::grpcleak::isInGeneratedFile(Loc, SM);
}

const FunctionDecl *GrpcLeakCheck::analyzableFunctionAround(const Stmt &S,
                                                            ASTContext &Ctx) {
  LastContext = &Ctx;
  if (isGenerated(S.getBeginLoc(), Ctx.getSourceManager()))
    return nullptr;
  const FunctionDecl *FD = ::grpcleak::enclosingCallable(S, Ctx);
  if (!FD || ::grpcleak::isUnanalyzable(*FD))
    return nullptr;
  return FD;
}

const ::grpcleak::FunctionFlow *GrpcLeakCheck::flowAround(const Stmt &S,
                                                          ASTContext &Ctx) {
  const FunctionDecl *FD = analyzableFunctionAround(S, Ctx);
  return FD ? ::grpcleak::FlowCache::get(*FD, Ctx) : nullptr;
}

/// The function whose instantiation \p Fn is part of: \p Fn, or for a
/// lambda, the function that contains it.
static const FunctionDecl *outermostFunction(const FunctionDecl &Fn) {
  const FunctionDecl *Current = &Fn;
  while (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Current)) {
    if (!Method->getParent()->isLambda())
      break;
    const auto *Outer = llvm::dyn_cast_or_null<FunctionDecl>(
        Method->getParent()->getParentFunctionOrMethod());
    if (!Outer)
      break;
    Current = Outer;
  }
  return Current;
}

bool GrpcLeakCheck::isTemplateInstance(const FunctionDecl &Fn) {
  return outermostFunction(Fn)->getTemplateInstantiationPattern() != nullptr;
}

bool GrpcLeakCheck::firstInstance(SourceLocation Loc, const FunctionDecl &Fn) {
  if (!isTemplateInstance(Fn))
    return true;
  return ReportedTemplateCode.insert(Loc.getRawEncoding()).second;
}

void GrpcLeakCheck::noteInstantiation(const FunctionDecl &Fn) {
  const FunctionDecl *Outer = outermostFunction(Fn);
  if (!Outer->getTemplateInstantiationPattern())
    return;
  SourceLocation At = Outer->getPointOfInstantiation();
  if (At.isInvalid())
    if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
            Outer->getDeclContext()))
      At = Spec->getPointOfInstantiation();
  if (At.isInvalid())
    return;
  std::string Name;
  llvm::raw_string_ostream OS(Name);
  Outer->getNameForDiagnostic(OS, Outer->getASTContext().getPrintingPolicy(),
                              /*Qualified=*/true);
  diag(At, "in the instance '%0' of a template, used here", DiagnosticIDs::Note)
      << Name;
}

} // namespace clang::tidy::grpcleak
