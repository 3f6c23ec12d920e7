//===- TuIndex.cpp - What the analyses look up across the TU --------------===//

#include "grpcleak/TuIndex.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <memory>

using namespace clang;

namespace grpcleak {
namespace {

/// std algorithms that call their function argument once per element.
bool isRepeatingAlgorithm(const FunctionDecl &FD) {
  static const llvm::StringRef Names[] = {
      "::std::for_each",   "::std::for_each_n", "::std::transform",
      "::std::generate",   "::std::generate_n", "::std::all_of",
      "::std::any_of",     "::std::none_of",    "::std::count_if",
      "::std::find_if",    "::std::find_if_not", "::std::remove_if",
      "::std::copy_if",    "::std::accumulate", "::std::transform_reduce"};
  for (llvm::StringRef Name : Names)
    if (hasQualifiedName(&FD, Name))
      return true;
  return false;
}

const LambdaExpr *lambdaOf(const Expr *E) {
  if (!E)
    return nullptr;
  E = stripValue(E);
  if (const auto *Copy = llvm::dyn_cast<CXXConstructExpr>(E))
    if (Copy->getNumArgs() == 1)
      E = stripValue(Copy->getArg(0));
  if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(E))
    return Lambda;
  if (const VarDecl *Var = referencedVar(E))
    if (Var->getInit())
      return llvm::dyn_cast<LambdaExpr>(stripValue(Var->getInit()));
  return nullptr;
}

bool isStdFunction(QualType T) {
  const auto *RD = T.isNull() ? nullptr : T.getNonReferenceType()->getAsCXXRecordDecl();
  return RD && isInstanceOfTemplate(*RD, "::std::function");
}

/// The variable or field \p E names (a std::function called or assigned, a
/// pointer deleted).
const ValueDecl *namedHolder(const Expr *E) {
  E = stripValue(E);
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E))
    return Ref->getDecl();
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(E))
    return Member->getMemberDecl();
  return nullptr;
}

thread_local llvm::DenseMap<const ASTContext *, std::unique_ptr<TuIndex>>
    IndexByContext;

} // namespace

class TuIndexer : public RecursiveASTVisitor<TuIndexer> {
public:
  TuIndexer(TuIndex &Index, const SourceManager &SM) : Index(Index), SM(SM) {}
  bool shouldVisitTemplateInstantiations() const { return true; }

  // System headers (the standard library, gRPC's own inline code) are not
  // indexed: no user code is reached through them, and they are most of the
  // TU. std::make_unique<T>/make_shared<T> calls are recorded below as sites
  // of T's constructors instead.
  bool TraverseDecl(Decl *D) {
    if (D && !llvm::isa<TranslationUnitDecl>(D) && D->getLocation().isValid() &&
        SM.isInSystemHeader(D->getLocation()))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }

  bool VisitCallExpr(CallExpr *Call) {
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
      if (Op->getOperator() == OO_Call && Op->getNumArgs() >= 1 &&
          isStdFunction(Op->getArg(0)->getType()))
        if (const ValueDecl *Object = namedHolder(Op->getArg(0)))
          FunctionCalls.push_back({Object, Call});
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return true;
    Index.Sites[Callee->getCanonicalDecl()].push_back(Call);
    noteLaunch(*Call);
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->isVirtual() && !isQualifiedCall(*Member))
          Index.VirtualSites[MD->getCanonicalDecl()].push_back(Call);
    if (hasQualifiedName(Callee, "::std::make_unique") ||
        hasQualifiedName(Callee, "::std::make_shared"))
      if (const TemplateArgumentList *Args =
              Callee->getTemplateSpecializationArgs())
        if (Args->size() >= 1 && Args->get(0).getKind() == TemplateArgument::Type)
          if (const CXXRecordDecl *Made =
                  Args->get(0).getAsType()->getAsCXXRecordDecl())
            for (const CXXConstructorDecl *Ctor : Made->ctors())
              Index.Sites[Ctor->getCanonicalDecl()].push_back(Call);
    if (isRepeatingAlgorithm(*Callee))
      for (const Expr *Arg : Call->arguments())
        if (const LambdaExpr *Lambda = lambdaOf(Arg)) {
          Index.Sites[Lambda->getCallOperator()->getCanonicalDecl()]
              .push_back(Call);
          Index.Repeating[Call] = true;
        }
    // `f = [..] {..}` on a std::function.
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
      if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
          isStdFunction(Op->getArg(0)->getType()))
        noteTarget(namedHolder(Op->getArg(0)), Op->getArg(1));
    return true;
  }

  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    Index.Sites[Construct->getConstructor()->getCanonicalDecl()].push_back(
        Construct);
    noteLaunch(*Construct);
    return true;
  }

  bool VisitFunctionDecl(FunctionDecl *FD) {
    if (FD->doesThisDeclarationHaveABody())
      Index.Definitions.push_back(FD);
    return true;
  }

  // What a std::function variable or member is given.
  bool VisitVarDecl(VarDecl *Var) {
    if (isStdFunction(Var->getType()))
      noteTarget(Var, Var->getInit());
    return true;
  }
  bool VisitFieldDecl(FieldDecl *Field) {
    if (isStdFunction(Field->getType()))
      noteTarget(Field, Field->getInClassInitializer());
    return true;
  }
  bool VisitCXXConstructorDecl(CXXConstructorDecl *Ctor) {
    for (const CXXCtorInitializer *Init : Ctor->inits())
      if (const FieldDecl *Field = Init->getMember())
        if (isStdFunction(Field->getType()))
          noteTarget(Field, Init->getInit());
    return true;
  }

  bool VisitCXXDeleteExpr(CXXDeleteExpr *Delete) {
    if (const ValueDecl *Deleted = namedHolder(Delete->getArgument()))
      Index.Deleted.insert(Deleted);
    return true;
  }

  bool VisitCXXRecordDecl(CXXRecordDecl *RD) {
    if (!RD->isThisDeclarationADefinition())
      return true;
    for (const CXXBaseSpecifier &Base : RD->bases())
      if (const CXXRecordDecl *BaseDecl = Base.getType()->getAsCXXRecordDecl())
        Index.DirectSubclasses[BaseDecl->getCanonicalDecl()].push_back(RD);
    return true;
  }

  /// Calls of a std::function are calls of the lambdas it is given.
  void finish() {
    for (const auto &[Object, Call] : FunctionCalls) {
      auto It = Targets.find(Object);
      if (It == Targets.end())
        continue;
      for (const LambdaExpr *Lambda : It->second) {
        Index.Sites[Lambda->getCallOperator()->getCanonicalDecl()].push_back(Call);
      }
    }
  }

private:
  void noteLaunch(const Expr &Site) {
    unsigned FirstArg = 0;
    if (const FunctionDecl *Runs = TuIndex::launchedFunction(Site, FirstArg))
      Index.Sites[Runs->getCanonicalDecl()].push_back(&Site);
  }

  static bool isQualifiedCall(const CXXMemberCallExpr &Call) {
    const auto *Member =
        llvm::dyn_cast<MemberExpr>(Call.getCallee()->IgnoreParenImpCasts());
    return Member && Member->hasQualifier();
  }

  void noteTarget(const ValueDecl *Object, const Expr *Value) {
    if (!Object)
      return;
    if (const LambdaExpr *Lambda = lambdaOf(Value)) {
      auto &List = Targets[Object];
      if (!llvm::is_contained(List, Lambda))
        List.push_back(Lambda);
    }
  }

  TuIndex &Index;
  const SourceManager &SM;
  llvm::SmallVector<std::pair<const ValueDecl *, const Expr *>, 4> FunctionCalls;
  llvm::DenseMap<const ValueDecl *, llvm::SmallVector<const LambdaExpr *, 1>>
      Targets;
};

namespace {

bool isThreadType(QualType T) {
  const auto *RD = T.isNull() ? nullptr : T.getNonReferenceType()->getAsCXXRecordDecl();
  return RD && (hasQualifiedName(RD, "::std::thread") ||
                hasQualifiedName(RD, "::std::jthread"));
}

/// A container (std::vector<std::thread>, ...) whose elements are threads.
bool isThreadContainer(QualType T) {
  const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T.isNull() ? nullptr : T.getNonReferenceType()->getAsCXXRecordDecl());
  return Spec && Spec->getTemplateArgs().size() >= 1 &&
         Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type &&
         isThreadType(Spec->getTemplateArgs()[0].getAsType());
}

/// The function \p Callable names: a lambda, `&Class::Method`, `Function`.
const FunctionDecl *callableFunction(const Expr *Callable) {
  if (const LambdaExpr *Lambda = lambdaOf(Callable))
    return Lambda->getCallOperator();
  const Expr *E = stripValue(Callable);
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf)
      E = stripValue(U->getSubExpr());
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E))
    return llvm::dyn_cast<FunctionDecl>(Ref->getDecl());
  return nullptr;
}

} // namespace

const FunctionDecl *TuIndex::launchedFunction(const Expr &Site,
                                              unsigned &FirstArg) {
  llvm::SmallVector<const Expr *, 4> Args;
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&Site)) {
    if (!isThreadType(Construct->getType()) || Construct->getNumArgs() == 0 ||
        Construct->getConstructor()->isCopyOrMoveConstructor())
      return nullptr;
    Args.append(Construct->arg_begin(), Construct->arg_end());
  } else if (const auto *Call = llvm::dyn_cast<CallExpr>(&Site)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return nullptr;
    if (hasQualifiedName(Callee, "::std::async")) {
      Args.append(Call->arg_begin(), Call->arg_end());
      // std::async(std::launch::async, f, args...)
      if (!Args.empty() && !callableFunction(Args.front()))
        Args.erase(Args.begin());
    } else if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      const CXXMethodDecl *MD = Member->getMethodDecl();
      if (!MD || !MD->getIdentifier() ||
          !(MD->getName() == "emplace_back" || MD->getName() == "emplace") ||
          !isThreadContainer(Member->getImplicitObjectArgument()->getType()))
        return nullptr;
      Args.append(Call->arg_begin(), Call->arg_end());
    } else {
      return nullptr;
    }
  } else {
    return nullptr;
  }
  if (Args.empty())
    return nullptr;
  const FunctionDecl *Runs = callableFunction(Args.front());
  if (!Runs)
    return nullptr;
  // Where the first parameter's argument is: after the callable, and after
  // the object for a member function.
  const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Runs);
  bool NeedsObject = Method && !Method->isStatic() && !Method->getParent()->isLambda();
  // Index of Args.front() within the site's own argument list.
  unsigned CallableAt = 0;
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&Site))
    for (unsigned I = 0; I < Call->getNumArgs(); ++I)
      if (Call->getArg(I) == Args.front())
        CallableAt = I;
  FirstArg = CallableAt + 1 + (NeedsObject ? 1 : 0);
  return Runs;
}

const Expr *TuIndex::argumentFor(const Expr &Site, const FunctionDecl &Fn,
                                 unsigned Param) {
  const FunctionDecl *Canonical = Fn.getCanonicalDecl();
  unsigned FirstArg = 0;
  if (const FunctionDecl *Runs = launchedFunction(Site, FirstArg);
      Runs && Runs->getCanonicalDecl() == Canonical) {
    unsigned At = FirstArg + Param;
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&Site))
      return At < Construct->getNumArgs() ? Construct->getArg(At) : nullptr;
    const auto *Call = llvm::cast<CallExpr>(&Site);
    return At < Call->getNumArgs() ? Call->getArg(At) : nullptr;
  }
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&Site))
    return Construct->getConstructor()->getCanonicalDecl() == Canonical &&
                   Param < Construct->getNumArgs()
               ? Construct->getArg(Param)
               : nullptr;
  const auto *Call = llvm::dyn_cast<CallExpr>(&Site);
  if (!Call)
    return nullptr;
  const FunctionDecl *Callee = Call->getDirectCallee();
  // make_unique<T>(args...) for T's constructor: the same arguments.
  if (Callee && llvm::isa<CXXConstructorDecl>(Fn) &&
      (hasQualifiedName(Callee, "::std::make_unique") ||
       hasQualifiedName(Callee, "::std::make_shared")))
    return Param < Call->getNumArgs() ? Call->getArg(Param) : nullptr;
  // operator(): a lambda or std::function call passes the object first.
  unsigned At = Param;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
    if (Op->getOperator() == OO_Call)
      At = Param + 1;
  if (Callee && isRepeatingAlgorithm(*Callee))
    return nullptr; // an element of the range
  return At < Call->getNumArgs() ? Call->getArg(At) : nullptr;
}

const TuIndex &TuIndex::get(ASTContext &Ctx) {
  std::unique_ptr<TuIndex> &Index = IndexByContext[&Ctx];
  if (!Index) {
    Index = std::make_unique<TuIndex>();
    TuIndexer Indexer(*Index, Ctx.getSourceManager());
    Indexer.TraverseAST(Ctx);
    Indexer.finish();
  }
  return *Index;
}

void TuIndex::clear(ASTContext &Ctx) { IndexByContext.erase(&Ctx); }

llvm::SmallVector<const Expr *, 4>
TuIndex::callSitesOf(const FunctionDecl &Fn) const {
  llvm::SmallVector<const Expr *, 4> Result;
  auto Add = [&](const llvm::DenseMap<const FunctionDecl *, SiteList> &Map,
                 const FunctionDecl *Key) {
    auto It = Map.find(Key->getCanonicalDecl());
    if (It != Map.end())
      Result.append(It->second.begin(), It->second.end());
  };
  Add(Sites, &Fn);
  // A virtual call of a method this one overrides may dispatch here.
  if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn)) {
    llvm::SmallVector<const CXXMethodDecl *, 4> Work(
        Method->overridden_methods().begin(), Method->overridden_methods().end());
    llvm::SmallPtrSet<const CXXMethodDecl *, 4> Seen;
    while (!Work.empty()) {
      const CXXMethodDecl *Base = Work.pop_back_val();
      if (!Seen.insert(Base).second)
        continue;
      Add(VirtualSites, Base);
      Work.append(Base->overridden_methods().begin(),
                  Base->overridden_methods().end());
    }
  }
  return Result;
}

llvm::SmallVector<const CXXRecordDecl *, 4>
TuIndex::subclassesOf(const CXXRecordDecl &Class) const {
  llvm::SmallVector<const CXXRecordDecl *, 4> Result;
  llvm::SmallPtrSet<const CXXRecordDecl *, 4> Seen;
  llvm::SmallVector<const CXXRecordDecl *, 4> Work{Class.getCanonicalDecl()};
  while (!Work.empty()) {
    const CXXRecordDecl *Current = Work.pop_back_val();
    auto It = DirectSubclasses.find(Current->getCanonicalDecl());
    if (It == DirectSubclasses.end())
      continue;
    for (const CXXRecordDecl *Sub : It->second)
      if (Seen.insert(Sub).second) {
        Result.push_back(Sub);
        Work.push_back(Sub->getCanonicalDecl());
      }
  }
  return Result;
}

} // namespace grpcleak
