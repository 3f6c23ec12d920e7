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

/// The shape of a generated async service's `RequestX` method: a method of
/// a class derived from grpc::Service that takes a
/// `grpc::ServerCompletionQueue*` and ends with a `void*` tag.
bool isAsyncRequestShape(const FunctionProtoType *Type,
                         const CXXRecordDecl *Class) {
  if (!Type || !Class || Type->getNumParams() < 2 ||
      !Type->getParamType(Type->getNumParams() - 1)->isVoidPointerType())
    return false;
  bool ServerQueue = llvm::any_of(Type->getParamTypes(), [](QualType Param) {
    const CXXRecordDecl *RD =
        Param->isPointerType() ? Param->getPointeeType()->getAsCXXRecordDecl()
                               : nullptr;
    return RD && hasQualifiedName(RD, "::grpc::ServerCompletionQueue");
  });
  auto IsService = [](const CXXRecordDecl &RD) {
    return hasQualifiedName(&RD, "::grpc::Service");
  };
  return ServerQueue && (IsService(*Class) || derivesFrom(*Class, IsService));
}

/// True if \p Call calls an async request method, directly or through a
/// member-function pointer (`(service->*request)(..., tag)`).
bool isAsyncRequestCall(const CallExpr &Call) {
  if (Call.getNumArgs() < 2)
    return false;
  if (const auto *MD =
          llvm::dyn_cast_or_null<CXXMethodDecl>(Call.getDirectCallee()))
    return isAsyncRequestShape(MD->getType()->getAs<FunctionProtoType>(),
                               MD->getParent());
  const auto *PtrMem =
      llvm::dyn_cast<BinaryOperator>(Call.getCallee()->IgnoreParens());
  if (!PtrMem || !PtrMem->isPtrMemOp())
    return false;
  const auto *Pointer = PtrMem->getRHS()->getType()->getAs<MemberPointerType>();
  return Pointer &&
         isAsyncRequestShape(
             Pointer->getPointeeType()->getAs<FunctionProtoType>(),
             Pointer->getMostRecentCXXRecordDecl());
}

bool isMakeSmartPointer(const FunctionDecl &FD) {
  return hasQualifiedName(&FD, "::std::make_unique") ||
         hasQualifiedName(&FD, "::std::make_shared");
}

/// True if \p Call names its method with a qualifier (`Base::f()`): no
/// virtual dispatch.
bool isQualifiedCall(const CXXMemberCallExpr &Call) {
  const auto *Member =
      llvm::dyn_cast<MemberExpr>(Call.getCallee()->IgnoreParenImpCasts());
  return Member && Member->hasQualifier();
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
    if (isAsyncRequestCall(*Call) &&
        !isInGeneratedFile(Call->getBeginLoc(), SM))
      Index.RequestCalls.push_back({Call, Call->getArg(Call->getNumArgs() - 1)});
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return true;
    Index.Sites[Callee->getCanonicalDecl()].push_back(Call);
    noteLaunch(*Call);
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->isVirtual() && !isQualifiedCall(*Member))
          Index.VirtualSites[MD->getCanonicalDecl()].push_back(Call);
    if (isMakeSmartPointer(*Callee))
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
    // The members and bases a constructor builds without the user writing
    // it (in implicit constructors too): not traversed, so recorded here.
    // A template's pattern has none; its instantiations do.
    if (RD->isDependentContext())
      return true;
    for (const CXXConstructorDecl *Ctor : RD->ctors()) {
      const FunctionDecl *Def = nullptr;
      if (!Ctor->isDefined(Def))
        continue;
      const auto *CtorDef = llvm::cast<CXXConstructorDecl>(Def);
      for (const CXXCtorInitializer *Init : CtorDef->inits()) {
        if (Init->isWritten() || !Init->getInit())
          continue;
        const auto *Construct =
            llvm::dyn_cast<CXXConstructExpr>(Init->getInit()->IgnoreImplicit());
        if (!Construct || Index.ImplicitInits.count(Construct))
          continue;
        Index.Sites[Construct->getConstructor()->getCanonicalDecl()].push_back(
            Construct);
        Index.ImplicitInits[Construct] = {CtorDef, Init};
      }
    }
    return true;
  }

  bool VisitCXXMethodDecl(CXXMethodDecl *MD) {
    if (MD->size_overridden_methods() == 0)
      return true;
    const CXXMethodDecl *Overrider = MD->getCanonicalDecl();
    llvm::SmallVector<const CXXMethodDecl *, 4> Work(
        MD->overridden_methods().begin(), MD->overridden_methods().end());
    llvm::SmallPtrSet<const CXXMethodDecl *, 4> Seen;
    while (!Work.empty()) {
      const CXXMethodDecl *Base = Work.pop_back_val()->getCanonicalDecl();
      if (!Seen.insert(Base).second)
        continue;
      auto &List = Index.Overriders[Base];
      if (!llvm::is_contained(List, Overrider))
        List.push_back(Overrider);
      Work.append(Base->overridden_methods().begin(),
                  Base->overridden_methods().end());
    }
    return true;
  }

  /// Calls of a std::function are calls of the lambdas it is given.
  void finish() {
    // A std::function given a parameter of a function: given what that
    // function's callers pass (a constructor storing its callback).
    for (const auto &[Object, Param] : ParamTargets) {
      const auto *Fn = llvm::dyn_cast<FunctionDecl>(Param->getDeclContext());
      auto Callers = Fn ? Index.Sites.find(Fn->getCanonicalDecl())
                        : Index.Sites.end();
      if (Callers == Index.Sites.end())
        continue;
      unsigned I = Param->getFunctionScopeIndex();
      for (const Expr *Site : Callers->second) {
        const Expr *Arg = nullptr;
        if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Site))
          Arg = I < Construct->getNumArgs() ? Construct->getArg(I) : nullptr;
        else if (const auto *Call = llvm::dyn_cast<CallExpr>(Site)) {
          // The function itself, or std::make_unique/make_shared<T>, which
          // pass their arguments on to T's constructor.
          const FunctionDecl *Callee = Call->getDirectCallee();
          unsigned Offset = llvm::isa<CXXOperatorCallExpr>(Call) ? 1 : 0;
          if (Callee && (Callee->getCanonicalDecl() == Fn->getCanonicalDecl() ||
                         isMakeSmartPointer(*Callee)))
            Arg = I + Offset < Call->getNumArgs() ? Call->getArg(I + Offset) : nullptr;
        }
        noteTarget(Object, Arg);
      }
    }
    for (const auto &[Object, Call] : FunctionCalls) {
      auto It = Targets.find(Object);
      if (It == Targets.end())
        continue;
      for (const LambdaExpr *Lambda : It->second) {
        Index.Sites[Lambda->getCallOperator()->getCanonicalDecl()].push_back(Call);
        Index.FunctionTargets[Call].push_back(Lambda->getCallOperator());
      }
    }
  }

private:
  void noteLaunch(const Expr &Site) {
    unsigned FirstArg = 0;
    if (const FunctionDecl *Runs = TuIndex::launchedFunction(Site, FirstArg))
      Index.Sites[Runs->getCanonicalDecl()].push_back(&Site);
  }

  void noteTarget(const ValueDecl *Object, const Expr *Value) {
    if (!Object || !Value)
      return;
    // A parameter (moved or copied): resolved in finish().
    const Expr *Source = stripValue(Value);
    if (const auto *Copy = llvm::dyn_cast<CXXConstructExpr>(Source))
      if (Copy->getNumArgs() == 1)
        Source = stripValue(Copy->getArg(0));
    if (const auto *Move = llvm::dyn_cast<CallExpr>(Source))
      if (Move->getNumArgs() == 1 && Move->getDirectCallee() &&
          hasQualifiedName(Move->getDirectCallee(), "::std::move"))
        Source = stripValue(Move->getArg(0));
    if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Source))
      if (const auto *Param = llvm::dyn_cast<ParmVarDecl>(Ref->getDecl())) {
        if (isStdFunction(Param->getType()))
          ParamTargets.push_back({Object, Param});
        return;
      }
    if (const LambdaExpr *Lambda = lambdaOf(Value)) {
      auto &List = Targets[Object];
      if (!llvm::is_contained(List, Lambda))
        List.push_back(Lambda);
    }
  }

  TuIndex &Index;
  const SourceManager &SM;
  llvm::SmallVector<std::pair<const ValueDecl *, const Expr *>, 4> FunctionCalls;
  llvm::SmallVector<std::pair<const ValueDecl *, const ParmVarDecl *>, 2>
      ParamTargets;
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

llvm::SmallVector<const CXXMethodDecl *, 4>
TuIndex::overridersOf(const CXXMethodDecl &Method) const {
  llvm::SmallVector<const CXXMethodDecl *, 4> Result;
  auto It = Overriders.find(Method.getCanonicalDecl());
  if (It != Overriders.end())
    Result.append(It->second.begin(), It->second.end());
  return Result;
}

llvm::SmallVector<const FunctionDecl *, 4>
TuIndex::possibleCallees(const Expr &Site) const {
  llvm::SmallVector<const FunctionDecl *, 4> Result;
  if (auto It = FunctionTargets.find(&Site); It != FunctionTargets.end()) {
    Result.append(It->second.begin(), It->second.end());
    return Result;
  }
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&Site)) {
    Result.push_back(Construct->getConstructor());
    return Result;
  }
  const auto *Call = llvm::dyn_cast<CallExpr>(&Site);
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee)
    return Result;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
    if (Op->getOperator() == OO_Call && Op->getNumArgs() >= 1 &&
        isStdFunction(Op->getArg(0)->getType()))
      return Result; // given something we do not know
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (const CXXMethodDecl *MD = Member->getMethodDecl())
      if (MD->isVirtual() && !isQualifiedCall(*Member)) {
        if (!MD->isPureVirtual())
          Result.push_back(MD);
        for (const CXXMethodDecl *Overrider : overridersOf(*MD))
          Result.push_back(Overrider);
        return Result;
      }
  Result.push_back(Callee);
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
