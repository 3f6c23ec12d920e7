//===- GrpcLeakCheck.cpp - What every grpc-leak check shares --------------===//

#include "GrpcLeakCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Repetition.h"

#include "clang/AST/DeclTemplate.h"

namespace clang::tidy::grpcleak {

void GrpcLeakCheck::onEndOfTranslationUnit() {
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
