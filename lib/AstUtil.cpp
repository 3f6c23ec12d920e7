//===- AstUtil.cpp - Small AST helpers shared by the analyses --------------===//

#include "grpcleak/AstUtil.h"
#include "grpcleak/ApiModel.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"

using namespace clang;

namespace grpcleak {

bool hasQualifiedName(const NamedDecl *D, llvm::StringRef Qualified) {
  if (!D)
    return false;
  Qualified.consume_front("::");
  const DeclContext *Ctx = nullptr;
  const NamedDecl *Current = D;
  while (true) {
    llvm::StringRef Rest, Last = Qualified;
    if (Qualified.contains("::"))
      std::tie(Rest, Last) = Qualified.rsplit("::");
    if (!Current->getIdentifier() || Current->getName() != Last)
      return false;
    Ctx = Current->getDeclContext();
    // Skip contexts that do not contribute to the qualified name.
    while (Ctx && (Ctx->isTransparentContext() || Ctx->isInlineNamespace()))
      Ctx = Ctx->getParent();
    if (Rest.empty())
      return Ctx && Ctx->isTranslationUnit();
    Current = llvm::dyn_cast_or_null<NamedDecl>(Ctx);
    if (!Current)
      return false;
    Qualified = Rest;
  }
}

const Expr *stripValue(const Expr *E) {
  while (E) {
    const Expr *Next = E->IgnoreParenCasts();
    if (const auto *M = llvm::dyn_cast<MaterializeTemporaryExpr>(Next))
      Next = M->getSubExpr();
    else if (const auto *B = llvm::dyn_cast<CXXBindTemporaryExpr>(Next))
      Next = B->getSubExpr();
    else if (const auto *C = llvm::dyn_cast<ExprWithCleanups>(Next))
      Next = C->getSubExpr();
    if (Next == E)
      return E;
    E = Next;
  }
  return E;
}

const VarDecl *referencedVar(const Expr *E) {
  if (!E)
    return nullptr;
  if (const auto *DRE = llvm::dyn_cast<DeclRefExpr>(stripValue(E)))
    return llvm::dyn_cast<VarDecl>(DRE->getDecl());
  return nullptr;
}

bool isRefToDecl(const Expr *E, const ValueDecl *D) {
  if (!E || !D)
    return false;
  E = stripValue(E);
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E))
    return Ref->getDecl() == D;
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(E))
    return Member->getMemberDecl() == D;
  return false;
}

bool isRefTo(const Expr *E, const VarDecl *Var) {
  return Var && referencedVar(E) == Var;
}

bool isAutomaticLocal(const VarDecl *Var) {
  return Var && Var->hasLocalStorage() && !llvm::isa<ParmVarDecl>(Var);
}

const Stmt *parentStmt(const Stmt &S, ASTContext &Ctx) {
  auto Parents = Ctx.getParents(S);
  if (Parents.size() != 1)
    return nullptr;
  return Parents[0].get<Stmt>();
}

const FunctionDecl *enclosingCallable(const Stmt &S, ASTContext &Ctx) {
  DynTypedNodeList Parents = Ctx.getParents(S);
  while (!Parents.empty()) {
    const DynTypedNode &P = Parents[0];
    if (const auto *Lambda = P.get<LambdaExpr>())
      return Lambda->getCallOperator();
    if (const auto *FD = P.get<FunctionDecl>())
      return FD;
    // A local class or block body is not part of the enclosing function.
    if (const auto *D = P.get<Decl>())
      if (llvm::isa<RecordDecl>(D) || llvm::isa<BlockDecl>(D))
        return nullptr;
    Parents = Ctx.getParents(P);
  }
  return nullptr;
}

namespace {
/// Finds expressions Clang built while recovering from errors.
class RecoveryFinder : public RecursiveASTVisitor<RecoveryFinder> {
public:
  bool Found = false;
  bool VisitRecoveryExpr(RecoveryExpr *) {
    Found = true;
    return false;
  }
  bool VisitExpr(Expr *E) {
    if (E->containsErrors()) {
      Found = true;
      return false;
    }
    return true;
  }
};
} // namespace

bool isUnanalyzable(const FunctionDecl &FD) {
  if (FD.isTemplated() || FD.isInvalidDecl() || !FD.hasBody())
    return true;
  RecoveryFinder Finder;
  Finder.TraverseStmt(FD.getBody());
  return Finder.Found;
}

bool isInGeneratedFile(SourceLocation Loc, const SourceManager &SM) {
  if (Loc.isInvalid())
    return false;
  return isGeneratedFileName(SM.getFilename(SM.getSpellingLoc(Loc)));
}

} // namespace grpcleak
