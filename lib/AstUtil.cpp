//===- AstUtil.cpp - Small AST helpers shared by the analyses --------------===//

#include "grpcleak/AstUtil.h"
#include "grpcleak/ApiModel.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseSet.h"

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

bool returnsObject(const ReturnStmt &Return, const ValueDecl *D) {
  const Expr *Value = stripValue(Return.getRetValue());
  if (const auto *Construct = llvm::dyn_cast_or_null<CXXConstructExpr>(Value))
    if (Construct->getNumArgs() >= 1)
      Value = Construct->getArg(0);
  return namesObject(Value, D);
}

bool namesObject(const Expr *E, const ValueDecl *D) {
  if (!E || !D)
    return false;
  E = stripValue(E);
  if (isRefToDecl(E, D))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref)
      return namesObject(U->getSubExpr(), D);
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    if (const FunctionDecl *FD = Call->getDirectCallee())
      if (hasQualifiedName(FD, "::std::move") && Call->getNumArgs() == 1)
        return namesObject(Call->getArg(0), D);
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
      if ((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
          Op->getNumArgs() >= 1)
        return namesObject(Op->getArg(0), D);
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if ((MD->getIdentifier() && MD->getName() == "get") ||
            llvm::isa<CXXConversionDecl>(MD)) // `!server`: operator bool
          return namesObject(Member->getImplicitObjectArgument(), D);
  }
  return false;
}

bool isRefTo(const Expr *E, const VarDecl *Var) {
  return Var && referencedVar(E) == Var;
}

static bool derivesFrom(const CXXRecordDecl &RD,
                        llvm::function_ref<bool(const CXXRecordDecl &)> Pred,
                        unsigned Depth) {
  if (!RD.hasDefinition() || Depth > 16)
    return false;
  for (const CXXBaseSpecifier &Base : RD.getDefinition()->bases()) {
    const CXXRecordDecl *BaseDecl = Base.getType()->getAsCXXRecordDecl();
    if (!BaseDecl)
      continue;
    if (Pred(*BaseDecl) || derivesFrom(*BaseDecl, Pred, Depth + 1))
      return true;
  }
  return false;
}

bool derivesFrom(const CXXRecordDecl &RD,
                 llvm::function_ref<bool(const CXXRecordDecl &)> Pred) {
  return derivesFrom(RD, Pred, 0);
}

bool isInstanceOfTemplate(const CXXRecordDecl &RD, llvm::StringRef Qualified) {
  const auto *Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(&RD);
  return Spec && hasQualifiedName(Spec->getSpecializedTemplate(), Qualified);
}

bool isAutomaticLocal(const VarDecl *Var) {
  return Var && Var->hasLocalStorage() && !llvm::isa<ParmVarDecl>(Var);
}

namespace {

/// Records the parent of every Stmt and Decl under one declaration, the way
/// ParentMapContext does (template instantiations and implicit code
/// included), but for that declaration only.
class LocalParentIndexer : public RecursiveASTVisitor<LocalParentIndexer> {
public:
  explicit LocalParentIndexer(llvm::DenseMap<const void *, DynTypedNode> &Parents)
      : Parents(Parents) {}
  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitImplicitCode() const { return true; }

  bool TraverseDecl(Decl *D) {
    if (!D)
      return true;
    note(D);
    Stack.push_back(DynTypedNode::create(*D));
    bool Result = RecursiveASTVisitor::TraverseDecl(D);
    Stack.pop_back();
    return Result;
  }
  // The one-argument overload: no data recursion, so the stack is right.
  bool TraverseStmt(Stmt *S) {
    if (!S)
      return true;
    note(S);
    Stack.push_back(DynTypedNode::create(*S));
    bool Result = RecursiveASTVisitor::TraverseStmt(S);
    Stack.pop_back();
    return Result;
  }

private:
  void note(const void *Node) {
    if (!Stack.empty())
      Parents.try_emplace(Node, Stack.back());
  }
  llvm::DenseMap<const void *, DynTypedNode> &Parents;
  llvm::SmallVector<DynTypedNode, 32> Stack;
};

struct TuParentIndex {
  llvm::DenseMap<const void *, DynTypedNode> Parents;
  llvm::DenseSet<const Decl *> Indexed;
};
thread_local llvm::DenseMap<const ASTContext *, std::unique_ptr<TuParentIndex>>
    ParentIndexByContext;

/// The outermost declaration below namespaces that contains \p Loc.
const Decl *topLevelDeclAt(const DeclContext &DC, SourceLocation Loc,
                           const SourceManager &SM) {
  for (const Decl *D : DC.decls()) {
    SourceRange Range = D->getSourceRange();
    if (Range.isInvalid())
      continue;
    SourceLocation Begin = SM.getExpansionLoc(Range.getBegin());
    SourceLocation End = SM.getExpansionLoc(Range.getEnd());
    if (SM.isBeforeInTranslationUnit(Loc, Begin) ||
        SM.isBeforeInTranslationUnit(End, Loc))
      continue;
    if (llvm::isa<NamespaceDecl, LinkageSpecDecl, ExportDecl>(D))
      if (const Decl *Inner =
              topLevelDeclAt(*llvm::cast<DeclContext>(D), Loc, SM))
        return Inner;
    return D;
  }
  return nullptr;
}

SourceLocation locationOf(const DynTypedNode &Node) {
  if (const auto *S = Node.get<Stmt>())
    return S->getBeginLoc();
  if (const auto *D = Node.get<Decl>())
    return D->getLocation();
  return SourceLocation();
}

const void *keyOf(const DynTypedNode &Node) {
  if (const auto *S = Node.get<Stmt>())
    return S;
  if (const auto *D = Node.get<Decl>())
    return D;
  return nullptr;
}

} // namespace

ParentList parentsOf(ASTContext &Ctx, const DynTypedNode &Node) {
  std::unique_ptr<TuParentIndex> &Index = ParentIndexByContext[&Ctx];
  if (!Index)
    Index = std::make_unique<TuParentIndex>();
  const void *Key = keyOf(Node);
  if (Key) {
    auto It = Index->Parents.find(Key);
    if (It != Index->Parents.end())
      return ParentList{It->second};
    SourceLocation Loc = locationOf(Node);
    if (Loc.isValid()) {
      const SourceManager &SM = Ctx.getSourceManager();
      const Decl *Root = topLevelDeclAt(*Ctx.getTranslationUnitDecl(),
                                        SM.getExpansionLoc(Loc), SM);
      if (Root && Index->Indexed.insert(Root).second) {
        // The root's parent is its declaration context, as in Clang's map.
        if (const auto *Context = llvm::dyn_cast<Decl>(Root->getDeclContext()))
          Index->Parents.try_emplace(Root, DynTypedNode::create(*Context));
        LocalParentIndexer(Index->Parents)
            .TraverseDecl(const_cast<Decl *>(Root));
        It = Index->Parents.find(Key);
        if (It != Index->Parents.end())
          return ParentList{It->second};
      }
    }
  }
  // Outside any top-level declaration (or not a Stmt/Decl): Clang's map.
  ParentList Result;
  for (const DynTypedNode &Parent : Ctx.getParents(Node))
    Result.push_back(Parent);
  return Result;
}

void clearParentIndex(ASTContext &Ctx) { ParentIndexByContext.erase(&Ctx); }


const FunctionDecl *enclosingCallable(const Stmt &S, ASTContext &Ctx) {
  ParentList Parents = parentsOf(Ctx, S);
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
    Parents = parentsOf(Ctx, P);
  }
  return nullptr;
}

namespace {
class StatementFinder : public RecursiveASTVisitor<StatementFinder> {
public:
  explicit StatementFinder(llvm::function_ref<bool(const Stmt &)> Pred)
      : Pred(Pred) {}
  bool Found = false;
  bool VisitStmt(Stmt *S) {
    if (Pred(*S)) {
      Found = true;
      return false;
    }
    return true;
  }

private:
  llvm::function_ref<bool(const Stmt &)> Pred;
};
} // namespace

bool anyStatement(const Stmt *Body,
                  llvm::function_ref<bool(const Stmt &)> Pred) {
  if (!Body)
    return false;
  StatementFinder Finder(Pred);
  Finder.TraverseStmt(const_cast<Stmt *>(Body));
  return Finder.Found;
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

/// True if the tokens of \p Range do not balance: a statement the parser
/// dropped mid-expression (`destroy(handle;`) leaves no node behind, but its
/// brackets still tell.
static bool hasUnbalancedTokens(SourceRange Range, const ASTContext &Ctx,
                                unsigned &Semicolons) {
  Semicolons = 0;
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation Begin = SM.getSpellingLoc(Range.getBegin());
  SourceLocation End = SM.getSpellingLoc(Range.getEnd());
  auto [File, BeginOffset] = SM.getDecomposedLoc(Begin);
  if (SM.getFileID(End) != File)
    return true;
  unsigned EndOffset = SM.getFileOffset(End);
  bool Invalid = false;
  llvm::StringRef Buffer = SM.getBufferData(File, &Invalid);
  if (Invalid)
    return true;
  // The raw lexer needs the whole (NUL-terminated) buffer.
  Lexer Lex(SM.getLocForStartOfFile(File), Ctx.getLangOpts(), Buffer.begin(),
            Buffer.begin() + BeginOffset, Buffer.end());
  int Parens = 0, Squares = 0, Braces = 0;
  Token Tok;
  while (true) {
    bool Last = Lex.LexFromRawLexer(Tok);
    if (Tok.is(tok::eof) || SM.getFileOffset(Tok.getLocation()) > EndOffset)
      break;
    switch (Tok.getKind()) {
    case tok::l_paren: ++Parens; break;
    case tok::r_paren: --Parens; break;
    case tok::l_square: ++Squares; break;
    case tok::r_square: --Squares; break;
    case tok::l_brace: ++Braces; break;
    case tok::r_brace: --Braces; break;
    case tok::semi:
      if (Parens == 0) // not a for (;;) header
        ++Semicolons;
      break;
    default: break;
    }
    if (Parens < 0 || Squares < 0 || Braces < 0 || Last)
      break;
  }
  return Parens != 0 || Squares != 0 || Braces != 0;
}

namespace {
/// Finds declarations Clang marked invalid (a local of an unknown type), and
/// counts the statements that end with a semicolon in the source.
class InvalidDeclFinder : public RecursiveASTVisitor<InvalidDeclFinder> {
public:
  bool Found = false;
  unsigned Terminated = 0;
  bool TraverseLambdaExpr(LambdaExpr *Lambda) {
    // A lambda's own statements count too: traverse its body.
    return RecursiveASTVisitor::TraverseLambdaExpr(Lambda);
  }
  bool VisitStmt(Stmt *S) {
    // Statements written with a terminating ';': expression statements
    // (children of a compound or a branch), declarations, jumps, null
    // statements and do-while loops.
    if (llvm::isa<DeclStmt, ReturnStmt, BreakStmt, ContinueStmt, GotoStmt,
                  NullStmt, DoStmt>(S))
      ++Terminated;
    return true;
  }
  bool VisitCompoundStmt(CompoundStmt *C) {
    for (Stmt *Child : C->body())
      if (llvm::isa<Expr>(Child))
        ++Terminated;
    return true;
  }
  bool VisitIfStmt(IfStmt *If) { return countBranch(If->getThen()) && countBranch(If->getElse()); }
  bool VisitForStmt(ForStmt *For) { return countBranch(For->getBody()); }
  bool VisitCXXForRangeStmt(CXXForRangeStmt *For) { return countBranch(For->getBody()); }
  bool VisitWhileStmt(WhileStmt *While) { return countBranch(While->getBody()); }
  bool VisitDoStmt(DoStmt *Do) { return countBranch(Do->getBody()); }
  bool countBranch(Stmt *Branch) {
    if (Branch && llvm::isa<Expr>(Branch))
      ++Terminated;
    return true;
  }
  bool VisitDecl(Decl *D) {
    if (D->isInvalidDecl()) {
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
  if (Finder.Found)
    return true;
  // When the file has errors, Clang may have dropped a whole statement of
  // this body without a trace in the AST (the dropped statement may be the
  // release). Then also look at what is left: an unclosed body, unbalanced
  // brackets, an invalid declaration. Only then: it costs a re-lex.
  const ASTContext &Ctx = FD.getASTContext();
  if (!Ctx.getDiagnostics().hasUncompilableErrorOccurred())
    return false;
  const auto *Body = llvm::dyn_cast<CompoundStmt>(FD.getBody());
  if (!Body || Body->getRBracLoc().isInvalid() || Body->getLBracLoc().isMacroID() ||
      Body->getRBracLoc().isMacroID())
    return true;
  unsigned Semicolons = 0;
  if (hasUnbalancedTokens(Body->getSourceRange(), Ctx, Semicolons))
    return true;
  InvalidDeclFinder Invalid;
  Invalid.TraverseStmt(FD.getBody());
  // More statement-ending semicolons in the text than statements in the
  // AST: the parser dropped one (`UnknownType x(handle);`).
  return Invalid.Found || Semicolons > Invalid.Terminated;
}

bool isInGeneratedFile(SourceLocation Loc, const SourceManager &SM) {
  if (Loc.isInvalid())
    return false;
  return isGeneratedFileName(SM.getFilename(SM.getSpellingLoc(Loc)));
}

} // namespace grpcleak
