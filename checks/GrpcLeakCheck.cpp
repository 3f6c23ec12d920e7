//===- GrpcLeakCheck.cpp - What every grpc-leak check shares --------------===//

#include "GrpcLeakCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Repetition.h"

namespace clang::tidy::grpcleak {

void GrpcLeakCheck::onEndOfTranslationUnit() {
  if (LastContext) {
    ::grpcleak::FlowCache::clear(*LastContext);
    ::grpcleak::CallSites::clear(*LastContext);
    ::grpcleak::clearParentIndex(*LastContext);
  }
  LastContext = nullptr;
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

} // namespace clang::tidy::grpcleak
