//===- ReactorProtocol.cpp - Callback-API reactors that never complete ----===//

#include "grpcleak/ReactorProtocol.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"

using namespace clang;

namespace grpcleak {
namespace {

const CXXRecordDecl *canonical(const CXXRecordDecl *RD) {
  return RD ? RD->getCanonicalDecl() : nullptr;
}

/// The class whose method bodies tell what \p RD's methods do: for an
/// instance of a class template, the template's pattern (member functions
/// of an instance have bodies only once used).
const CXXRecordDecl *bodiesOf(const CXXRecordDecl &RD) {
  if (const auto *Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(&RD))
    if (!Spec->isExplicitSpecialization())
      if (const ClassTemplateDecl *Template = Spec->getSpecializedTemplate())
        if (const CXXRecordDecl *Pattern = Template->getTemplatedDecl())
          if (Pattern->hasDefinition())
            return Pattern->getDefinition();
  return RD.hasDefinition() ? RD.getDefinition() : &RD;
}

/// A user-written reactor class (not gRPC's own), as a type names it: the
/// class, a pointer or reference to it, or a smart pointer to it.
const CXXRecordDecl *userReactorClassOf(QualType T) {
  if (T.isNull())
    return nullptr;
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  const auto *RD = T->getAsCXXRecordDecl();
  if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
    if ((hasQualifiedName(Spec, "::std::unique_ptr") ||
         hasQualifiedName(Spec, "::std::shared_ptr")) &&
        Spec->getTemplateArgs().size() >= 1 &&
        Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
      RD = Spec->getTemplateArgs()[0].getAsType()->getAsCXXRecordDecl();
  if (!RD || !RD->hasDefinition() || isInGrpcNamespace(*RD))
    return nullptr;
  return reactorBaseOf(*RD->getDefinition()) ? RD->getDefinition() : nullptr;
}

/// The class of the object a member call is made on (`r->Finish()`,
/// `Finish()` in a method: the method's class).
const CXXRecordDecl *objectClass(const CXXMemberCallExpr &Call) {
  const Expr *Object = Call.getImplicitObjectArgument();
  if (!Object)
    return nullptr;
  QualType T = Object->IgnoreParenImpCasts()->getType();
  if (T->isPointerType())
    T = T->getPointeeType();
  const auto *RD = T->getAsCXXRecordDecl();
  return RD && RD->hasDefinition() ? RD->getDefinition() : RD;
}

/// True if \p E is a DefaultReactor() call, or a variable initialised by one.
bool isDefaultReactorValue(const Expr *E) {
  E = stripValue(E);
  if (const auto *Call = llvm::dyn_cast_or_null<CallExpr>(E))
    return isDefaultReactorCall(*Call);
  if (const VarDecl *Var = referencedVar(E))
    if (const Expr *Init = Var->getInit())
      if (const auto *Call = llvm::dyn_cast<CallExpr>(stripValue(Init)))
        return isDefaultReactorCall(*Call);
  return false;
}

/// The name of the method \p S calls on `this` (implicitly or not), also
/// through a name that depends on a template parameter; empty otherwise.
llvm::StringRef thisCallName(const Stmt &S) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return {};
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
    const CXXMethodDecl *MD = Member->getMethodDecl();
    const Expr *Object = Member->getImplicitObjectArgument();
    if (MD && MD->getIdentifier() && Object &&
        llvm::isa<CXXThisExpr>(Object->IgnoreParenImpCasts()))
      return MD->getName();
    return {};
  }
  const Expr *Callee = Call->getCallee()->IgnoreParenImpCasts();
  if (const auto *Dependent = llvm::dyn_cast<CXXDependentScopeMemberExpr>(Callee))
    if ((Dependent->isImplicitAccess() ||
         llvm::isa<CXXThisExpr>(Dependent->getBase()->IgnoreParenImpCasts())) &&
        Dependent->getMember().isIdentifier())
      return Dependent->getMember().getAsIdentifierInfo()->getName();
  if (const auto *Unresolved = llvm::dyn_cast<UnresolvedMemberExpr>(Callee))
    if ((Unresolved->isImplicitAccess() ||
         llvm::isa<CXXThisExpr>(Unresolved->getBase()->IgnoreParenImpCasts())) &&
        Unresolved->getMemberName().isIdentifier())
      return Unresolved->getMemberName().getAsIdentifierInfo()->getName();
  return {};
}

llvm::StringRef nameOf(const NamedDecl &D) {
  return D.getIdentifier() ? D.getName() : llvm::StringRef();
}

bool isFinish(const Stmt &S) {
  std::optional<ReactorCallRole> Role = reactorCallRole(S);
  return Role && *Role == ReactorCallRole::Finish;
}

/// A callee that never keeps or finishes a user's reactor: gRPC's own API
/// and the generated stubs and services (they take it to start a call).
bool isGrpcOrGenerated(const FunctionDecl &FD) {
  return isInGrpcNamespace(FD) ||
         isInGeneratedFile(FD.getLocation(),
                           FD.getASTContext().getSourceManager());
}

/// Walks the user code of a TU (not system headers, where gRPC's library
/// is, nor generated files) and records reactor classes, reactor calls and the
/// places where reactor objects are handed to other code.
class IndexBuilder : public RecursiveASTVisitor<IndexBuilder> {
public:
  IndexBuilder(ASTContext &Ctx, std::vector<const CXXRecordDecl *> &Classes,
               std::vector<std::tuple<const CXXRecordDecl *, ReactorCallRole,
                                      const Stmt *, bool>> &Calls,
               llvm::DenseSet<const CXXRecordDecl *> &HandedOff)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Classes(Classes), Calls(Calls),
        HandedOff(HandedOff) {}

  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitLambdaBody() const { return true; }

  void run() {
    for (Decl *D : Ctx.getTranslationUnitDecl()->decls()) {
      SourceLocation Loc = D->getLocation();
      if (Loc.isValid() && (SM.isInSystemHeader(SM.getExpansionLoc(Loc)) ||
                            isInGeneratedFile(Loc, SM)))
        continue;
      TraverseDecl(D);
    }
  }

  bool TraverseFunctionDecl(FunctionDecl *FD) { return inFunction(FD, [&] {
      return RecursiveASTVisitor::TraverseFunctionDecl(FD); }); }
  bool TraverseCXXMethodDecl(CXXMethodDecl *FD) { return inFunction(FD, [&] {
      return RecursiveASTVisitor::TraverseCXXMethodDecl(FD); }); }
  bool TraverseCXXConstructorDecl(CXXConstructorDecl *FD) { return inFunction(FD, [&] {
      return RecursiveASTVisitor::TraverseCXXConstructorDecl(FD); }); }

  bool VisitCXXRecordDecl(CXXRecordDecl *RD) {
    if (RD->isThisDeclarationADefinition() && !RD->isDependentType() &&
        !isInGrpcNamespace(*RD) && reactorBaseOf(*RD))
      Classes.push_back(RD);
    return true;
  }

  bool VisitCXXMemberCallExpr(CXXMemberCallExpr *Call) {
    if (std::optional<ReactorCallRole> Role = reactorCallRole(*Call))
      Calls.emplace_back(objectClass(*Call), *Role, Call,
                         isDefaultReactorValue(Call->getImplicitObjectArgument()));
    return true;
  }

  bool VisitCallExpr(CallExpr *Call) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (Callee && isGrpcOrGenerated(*Callee))
      return true;
    unsigned First = 0;
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call)) {
      if (Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star ||
          Op->getOperator() == OO_EqualEqual ||
          Op->getOperator() == OO_ExclaimEqual)
        return true;
      if (Callee && llvm::isa<CXXMethodDecl>(Callee))
        First = 1;
    }
    for (unsigned I = First, E = Call->getNumArgs(); I != E; ++I)
      handOff(Call->getArg(I));
    return true;
  }

  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    const CXXRecordDecl *Made = Construct->getConstructor()->getParent();
    if (isInGrpcNamespace(*Made) || Construct->getNumArgs() == 0)
      return true;
    // A smart pointer built from `new X` only owns it; its uses are judged.
    if (hasQualifiedName(Made, "::std::unique_ptr") ||
        hasQualifiedName(Made, "::std::shared_ptr"))
      return true;
    // Copying or moving a holder of one is no hand-off either.
    if (Construct->getConstructor()->isCopyOrMoveConstructor())
      return true;
    for (const Expr *Arg : Construct->arguments())
      handOff(Arg);
    return true;
  }

  bool VisitBinaryOperator(BinaryOperator *Assign) {
    if (!Assign->isAssignmentOp())
      return true;
    const VarDecl *Target = referencedVar(Assign->getLHS());
    if (!Target || !isAutomaticLocal(Target))
      handOff(Assign->getRHS()); // stored in a member, a global, an array
    return true;
  }

  bool VisitCXXOperatorCallExpr(CXXOperatorCallExpr *Op) {
    // `holder_ = std::move(r)`: a smart pointer stored outside the function.
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2) {
      const VarDecl *Target = referencedVar(Op->getArg(0));
      if (!Target || !isAutomaticLocal(Target))
        handOff(Op->getArg(1));
    }
    return true;
  }

  bool VisitReturnStmt(ReturnStmt *Return) {
    // Returned by a factory: the caller decides. A callback handler returns
    // its reactor to gRPC.
    if (Function && !isCallbackHandler(*Function))
      handOff(Return->getRetValue());
    return true;
  }

  bool VisitVarDecl(VarDecl *Var) {
    if (Var->hasInit() && !isAutomaticLocal(Var) && !llvm::isa<ParmVarDecl>(Var))
      handOff(Var->getInit());
    return true;
  }

  bool VisitInitListExpr(InitListExpr *List) {
    for (const Expr *Init : List->inits())
      handOff(Init);
    return true;
  }

private:
  template <typename Fn> bool inFunction(const FunctionDecl *FD, Fn Traverse) {
    const FunctionDecl *Outer = Function;
    Function = FD;
    bool Result = Traverse();
    Function = Outer;
    return Result;
  }

  void handOff(const Expr *E) {
    if (!E)
      return;
    if (const CXXRecordDecl *RD = userReactorClassOf(stripValue(E)->getType()))
      HandedOff.insert(canonical(RD));
  }

  ASTContext &Ctx;
  const SourceManager &SM;
  std::vector<const CXXRecordDecl *> &Classes;
  std::vector<std::tuple<const CXXRecordDecl *, ReactorCallRole, const Stmt *,
                         bool>> &Calls;
  llvm::DenseSet<const CXXRecordDecl *> &HandedOff;
  const FunctionDecl *Function = nullptr;
};

/// True if \p Cond is `!ok`, `ok == false` or `false == ok` for \p Ok.
bool testsNotOk(const Expr *Cond, const ParmVarDecl &Ok) {
  if (!Cond)
    return false;
  Cond = Cond->IgnoreParenImpCasts();
  if (const auto *Not = llvm::dyn_cast<UnaryOperator>(Cond))
    return Not->getOpcode() == UO_LNot && isRefTo(Not->getSubExpr(), &Ok);
  if (const auto *Compare = llvm::dyn_cast<BinaryOperator>(Cond)) {
    if (Compare->getOpcode() != BO_EQ)
      return false;
    auto IsFalse = [](const Expr *E) {
      const auto *Literal =
          llvm::dyn_cast<CXXBoolLiteralExpr>(E->IgnoreParenImpCasts());
      return Literal && !Literal->getValue();
    };
    return (isRefTo(Compare->getLHS(), &Ok) && IsFalse(Compare->getRHS())) ||
           (isRefTo(Compare->getRHS(), &Ok) && IsFalse(Compare->getLHS()));
  }
  return false;
}

/// True if \p S calls anything on the reactor (a method through `this`, a
/// reactor method) or hands it to a call; reading and writing its fields
/// is fine.
bool usesReactor(const Stmt &S) {
  return anyStatement(&S, [](const Stmt &Inner) {
    if (!thisCallName(Inner).empty() || reactorCallRole(Inner).has_value())
      return true;
    if (const auto *Call = llvm::dyn_cast<CallExpr>(&Inner))
      for (const Expr *Arg : Call->arguments())
        if (llvm::isa<CXXThisExpr>(Arg->IgnoreParenImpCasts()))
          return true;
    return false;
  });
}

/// The `return` of the direct shape `if (!ok) return;` (or
/// `if (!ok) { log...; return; }`) at the top level of \p Body, with no
/// statement before it that uses the reactor.
const ReturnStmt *directNotOkReturn(const CompoundStmt &Body,
                                    const ParmVarDecl &Ok) {
  for (const Stmt *S : Body.body()) {
    const auto *If = llvm::dyn_cast<IfStmt>(S);
    if (If && !If->getElse() && !If->getInit() && !If->getConditionVariable() &&
        testsNotOk(If->getCond(), Ok)) {
      const Stmt *Then = If->getThen();
      if (const auto *Return = llvm::dyn_cast<ReturnStmt>(Then))
        return Return->getRetValue() ? nullptr : Return;
      const auto *Block = llvm::dyn_cast<CompoundStmt>(Then);
      if (!Block || Block->body_empty())
        return nullptr;
      const auto *Return = llvm::dyn_cast<ReturnStmt>(Block->body_back());
      if (!Return || Return->getRetValue())
        return nullptr;
      for (const Stmt *Inner : Block->body())
        if (Inner != Return && usesReactor(*Inner))
          return nullptr;
      return Return;
    }
    if (usesReactor(*S))
      return nullptr;
  }
  return nullptr;
}

} // namespace

//===--- DefaultReactor() ------------------------------------------------===//

std::optional<UnfinishedDefaultReactor>
findUnfinishedDefaultReactor(const CallExpr &Call, const FunctionFlow &Flow) {
  ASTContext &Ctx = Flow.context();
  UnfinishedDefaultReactor Result;
  const ValueDecl *Holder = resultHolder(Call, Ctx);
  if (!Holder) {
    // `return context->DefaultReactor();`: nothing can have finished it,
    // unless another DefaultReactor() call of the handler did (the same
    // reactor, set up again).
    const Stmt *Current = &Call;
    ParentList Parents = parentsOf(Ctx, Call);
    while (Parents.size() == 1 && (Parents[0].get<ImplicitCastExpr>() ||
                                   Parents[0].get<ParenExpr>() ||
                                   Parents[0].get<ExprWithCleanups>())) {
      Current = Parents[0].get<Stmt>();
      Parents = parentsOf(Ctx, *Current);
    }
    const auto *Return =
        Parents.size() == 1 ? Parents[0].get<ReturnStmt>() : nullptr;
    if (!Return)
      return std::nullopt;
    unsigned Calls = 0;
    anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
      const auto *Other = llvm::dyn_cast<CallExpr>(&S);
      Calls += Other && isDefaultReactorCall(*Other);
      return false;
    });
    if (Calls != 1)
      return std::nullopt;
    Result.Return = Return;
    return Result;
  }
  const auto *Var = llvm::dyn_cast<VarDecl>(Holder);
  if (!Var || !isAutomaticLocal(Var) || Var->isStaticLocal())
    return std::nullopt; // stored in a member: another method's concern
  std::optional<CfgPoint> At = Flow.locate(Call);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    if (llvm::isa<CXXThrowExpr>(&S))
      return Verdict::Discharged;
    if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S))
      return namesObject(Return->getRetValue(), Var) ? Verdict::Violated
                                                     : Verdict::Discharged;
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&S))
      if (isFinish(S) && namesObject(Member->getImplicitObjectArgument(), Var))
        return Verdict::Discharged;
    if (const auto *Other = llvm::dyn_cast<CallExpr>(&S)) {
      const FunctionDecl *Callee = Other->getDirectCallee();
      const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Other);
      if (Op && (Op->getOperator() == OO_EqualEqual ||
                 Op->getOperator() == OO_ExclaimEqual))
        return Verdict::Continue;
      for (const Expr *Arg : Other->arguments())
        if (namesObject(Arg, Var) && (!Callee || !isGrpcOrGenerated(*Callee)))
          return Verdict::Discharged; // handed to code that may finish it
      return Verdict::Continue;
    }
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&S)) {
      for (const Expr *Arg : Construct->arguments())
        if (namesObject(Arg, Var))
          return Verdict::Discharged;
      return Verdict::Continue;
    }
    if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S))
      return Assign->isAssignmentOp() && namesObject(Assign->getRHS(), Var)
                 ? Verdict::Discharged
                 : Verdict::Continue;
    if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S)) {
      for (const clang::Decl *D : Decl->decls())
        if (const auto *Other = llvm::dyn_cast<VarDecl>(D))
          if (Other != Var && Other->hasInit() && namesObject(Other->getInit(), Var))
            return Verdict::Discharged;
      return Verdict::Continue;
    }
    if (const auto *List = llvm::dyn_cast<InitListExpr>(&S)) {
      for (const Expr *Init : List->inits())
        if (namesObject(Init, Var))
          return Verdict::Discharged;
      return Verdict::Continue;
    }
    if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S)) {
      for (const LambdaCapture &Capture : Lambda->captures())
        if (Capture.capturesVariable() && Capture.getCapturedVar() == Var)
          return Verdict::Discharged; // finished later, where it runs
      return Verdict::Continue;
    }
    return Verdict::Continue;
  };
  std::optional<FlowPath> Path = findViolationForward(Flow, *At, Judge);
  if (!Path || !Path->ViolatedAt)
    return std::nullopt;
  Result.Reactor = Var;
  Result.Return = llvm::dyn_cast<ReturnStmt>(Path->ViolatedAt);
  Result.Path = *Path;
  return Result;
}

//===--- Reactor classes -------------------------------------------------===//

void ReactorIndex::build() {
  if (Built)
    return;
  Built = true;
  std::vector<std::tuple<const CXXRecordDecl *, ReactorCallRole, const Stmt *, bool>>
      Found;
  IndexBuilder(Ctx, Classes, Found, HandedOff).run();
  for (auto &[Class, Role, Call, Default] : Found)
    Calls.push_back({canonical(Class), Role, Call, Default});
}

llvm::SmallVector<const CXXRecordDecl *, 4>
ReactorIndex::family(const CXXRecordDecl &Class, bool &TrustedBase) {
  build();
  llvm::SmallVector<const CXXRecordDecl *, 4> Family;
  llvm::SmallPtrSet<const CXXRecordDecl *, 8> Seen;
  auto Add = [&](const CXXRecordDecl &RD) {
    const CXXRecordDecl *Def = RD.hasDefinition() ? RD.getDefinition() : &RD;
    if (Seen.insert(canonical(Def)).second)
      Family.push_back(Def);
  };
  Add(Class);
  // User-written bases, up to the reactor base; a gRPC helper base (like
  // internal::FinishOnlyReactor) is trusted.
  derivesFrom(Class, [&](const CXXRecordDecl &Base) {
    if (asReactorBase(Base))
      return false;
    if (isInGrpcNamespace(Base)) {
      if (!hasQualifiedName(&Base, "::grpc::internal::ServerReactor") &&
          !hasQualifiedName(&Base, "::grpc::internal::ClientReactor"))
        TrustedBase = true;
      return false;
    }
    Add(Base);
    return false;
  });
  // Classes of the TU derived from it.
  const CXXRecordDecl *Self = canonical(&Class);
  for (const CXXRecordDecl *Other : Classes)
    if (derivesFrom(*Other, [&](const CXXRecordDecl &Base) {
          return canonical(&Base) == Self;
        }))
      Add(*Other);
  return Family;
}

bool ReactorIndex::concerns(const RoleCall &Call,
                            llvm::ArrayRef<const CXXRecordDecl *> Family) const {
  if (!Call.ObjectClass)
    return false;
  for (const CXXRecordDecl *Member : Family)
    if (canonical(Member) == Call.ObjectClass)
      return true;
  // Made through a pointer to the gRPC base: it may point to one of ours.
  if (Call.FromDefaultReactor || !asReactorBase(*Call.ObjectClass))
    return false;
  for (const CXXRecordDecl *Member : Family)
    if (std::optional<ReactorBase> Base = reactorBaseOf(*Member))
      if (canonical(Base->Base) == Call.ObjectClass)
        return true;
  return false;
}

bool ReactorIndex::handedOff(llvm::ArrayRef<const CXXRecordDecl *> Family) const {
  for (const CXXRecordDecl *Member : Family)
    if (HandedOff.contains(canonical(Member)))
      return true;
  return false;
}

const Stmt *ReactorIndex::findCall(const CXXRecordDecl &Class,
                                   ReactorCallRole Role) {
  bool Trusted = false;
  auto Family = family(Class, Trusted);
  for (const CXXRecordDecl *Member : Family) {
    const Stmt *Found = nullptr;
    bool Unseen = false;
    anyMethodStatement(
        *bodiesOf(*Member),
        [&](const Stmt &S) {
          std::optional<ReactorCallRole> Called = reactorCallRole(S);
          if (!Called || *Called != Role)
            return false;
          Found = &S;
          return true;
        },
        Unseen);
    if (Found)
      return Found;
  }
  for (const RoleCall &Call : Calls)
    if (Call.Role == Role && concerns(Call, Family))
      return Call.Call;
  return nullptr;
}

bool ReactorIndex::mayCall(const CXXRecordDecl &Class, ReactorCallRole Role) {
  bool Trusted = false;
  auto Family = family(Class, Trusted);
  if (Trusted && Role == ReactorCallRole::Finish)
    return true;
  for (const CXXRecordDecl *Member : Family) {
    bool Unseen = false;
    if (anyMethodStatement(
            *bodiesOf(*Member),
            [&](const Stmt &S) {
              std::optional<ReactorCallRole> Called = reactorCallRole(S);
              return Called && *Called == Role;
            },
            Unseen) ||
        Unseen)
      return true;
  }
  for (const RoleCall &Call : Calls)
    if (Call.Role == Role && concerns(Call, Family))
      return true;
  return handedOff(Family);
}

std::vector<const CXXRecordDecl *> ReactorIndex::reactorClasses(ReactorSide Side) {
  build();
  std::vector<const CXXRecordDecl *> Result;
  llvm::SmallPtrSet<const CXXRecordDecl *, 8> Patterns;
  for (const CXXRecordDecl *Class : Classes) {
    std::optional<ReactorBase> Base = reactorBaseOf(*Class);
    if (!Base || Base->Side != Side)
      continue;
    if (Patterns.insert(canonical(bodiesOf(*Class))).second)
      Result.push_back(Class);
  }
  return Result;
}

std::optional<UnhandledFailure>
ReactorIndex::findUnhandledFailure(const CXXMethodDecl &Reaction) {
  const CXXRecordDecl *Class = Reaction.getParent();
  std::optional<ReactorBase> Base = Class ? reactorBaseOf(*Class) : std::nullopt;
  if (!Base || Base->Side != ReactorSide::Server || !Reaction.getIdentifier() ||
      !isOperationReaction(Reaction.getName()) || Reaction.getNumParams() != 1 ||
      !Reaction.getParamDecl(0)->getType()->isBooleanType())
    return std::nullopt;
  const FunctionDecl *Def = nullptr;
  if (!Reaction.hasBody(Def))
    return std::nullopt;
  const auto *Body = llvm::dyn_cast_or_null<CompoundStmt>(Def->getBody());
  const ReturnStmt *Return =
      Body ? directNotOkReturn(*Body, *Def->getParamDecl(0)) : nullptr;
  if (!Return)
    return std::nullopt;
  // A class that never finishes is grpc-leak-reactor-finish's other finding.
  if (!findCall(*Class, ReactorCallRole::Finish))
    return std::nullopt;

  bool Trusted = false;
  auto Family = family(*Class, Trusted);
  if (Trusted || handedOff(Family))
    return std::nullopt;
  for (const RoleCall &Call : Calls)
    if (Call.Role == ReactorCallRole::Finish && concerns(Call, Family) &&
        !llvm::isa<CXXThisExpr>(llvm::cast<CXXMemberCallExpr>(Call.Call)
                                    ->getImplicitObjectArgument()
                                    ->IgnoreParenImpCasts()))
      return std::nullopt; // finished from outside the class

  // Every method of the family, by name (calls through `this` are matched
  // by name: a virtual helper may be overridden in the family).
  llvm::StringMap<llvm::SmallVector<const FunctionDecl *, 2>> ByName;
  std::vector<const CXXMethodDecl *> Methods;
  for (const CXXRecordDecl *Member : Family) {
    for (const CXXMethodDecl *MD : bodiesOf(*Member)->methods()) {
      const FunctionDecl *MethodDef = nullptr;
      if (!MD->hasBody(MethodDef)) {
        if (MD->isUserProvided() && !MD->isPureVirtual())
          return std::nullopt; // defined elsewhere: it may finish
        continue;
      }
      Methods.push_back(MD);
      if (MD->getIdentifier())
        ByName[MD->getName()].push_back(MethodDef);
    }
  }
  // Does a body (transitively, through calls on `this`) satisfy Pred?
  llvm::DenseMap<const FunctionDecl *, bool> Memo;
  llvm::function_ref<bool(const Stmt &)> Current;
  std::function<bool(const FunctionDecl &)> Visit = [&](const FunctionDecl &Fn) {
    auto [It, Inserted] = Memo.try_emplace(&Fn, false);
    if (!Inserted)
      return It->second; // known, or on the stack (no more than that)
    bool Found = anyStatement(Fn.getBody(), [&](const Stmt &S) {
      if (Current(S))
        return true;
      llvm::StringRef Name = thisCallName(S);
      if (Name.empty())
        return false;
      auto Callees = ByName.find(Name);
      if (Callees == ByName.end())
        return false;
      for (const FunctionDecl *Callee : Callees->second)
        if (Callee != &Fn && Visit(*Callee))
          return true;
      return false;
    });
    Memo[&Fn] = Found;
    return Found;
  };
  auto Does = [&](const FunctionDecl &Fn, llvm::function_ref<bool(const Stmt &)> Pred) {
    Memo.clear();
    Current = Pred;
    return Visit(Fn);
  };
  auto DefOf = [](const CXXMethodDecl &MD) {
    const FunctionDecl *D = nullptr;
    MD.hasBody(D);
    return D;
  };
  // A lambda that finishes runs whenever it is called: not ordered.
  for (const CXXMethodDecl *MD : Methods) {
    bool LambdaFinishes = anyStatement(DefOf(*MD)->getBody(), [&](const Stmt &S) {
      const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S);
      return Lambda && Does(*Lambda->getCallOperator(), isFinish);
    });
    if (LambdaFinishes)
      return std::nullopt;
  }

  llvm::StringRef Self = Reaction.getName();
  auto IsEntry = [&](const CXXMethodDecl &MD) {
    if (llvm::isa<CXXConstructorDecl>(MD))
      return true;
    if (llvm::isa<CXXDestructorDecl>(MD) || MD.isOverloadedOperator() ||
        !MD.getIdentifier())
      return false;
    return isReactionName(MD.getName()) || MD.getAccess() == AS_public;
  };
  // Entries that start the operation a reaction reports.
  auto Starters = [&](llvm::StringRef Of) {
    llvm::SmallVector<const CXXMethodDecl *, 4> Found;
    for (const CXXMethodDecl *MD : Methods)
      if (IsEntry(*MD) && Does(*DefOf(*MD), [&](const Stmt &S) {
            return startsReactionOperation(S, Of);
          }))
        Found.push_back(MD);
    return Found;
  };
  UnhandledFailure Result;
  Result.Return = Return;
  for (const CXXMethodDecl *MD : Methods) {
    if (!IsEntry(*MD) || nameOf(*MD) == "OnDone")
      continue;
    const FunctionDecl *Fn = DefOf(*MD);
    if (!Does(*Fn, isFinish))
      continue;
    llvm::StringRef Name = nameOf(*MD);
    if (Name == Self) {
      anyStatement(Fn->getBody(), [&](const Stmt &S) {
        if (isFinish(S))
          Result.Unreachable.push_back(&S);
        return false;
      });
      continue;
    }
    if (!isOperationReaction(Name))
      return std::nullopt; // OnCancel, a constructor, a public method
    // Another reaction finishes. It can follow this return only if its
    // operation may be in flight when this one fails: unless its operation
    // is started only by this reaction, and this reaction's only by
    // constructors and by that reaction.
    for (const CXXMethodDecl *Starter : Starters(Name))
      if (nameOf(*Starter) != Self)
        return std::nullopt;
    for (const CXXMethodDecl *Starter : Starters(Self))
      if (!llvm::isa<CXXConstructorDecl>(Starter) && nameOf(*Starter) != Name)
        return std::nullopt;
    anyStatement(Fn->getBody(), [&](const Stmt &S) {
      if (isFinish(S))
        Result.Unreachable.push_back(&S);
      return false;
    });
  }
  return Result;
}

//===--- Client reactors -------------------------------------------------===//

const Expr *clientReactorArgument(const RpcStart &Start) {
  if (Start.Api != RpcApi::Callback || !Start.Method || !Start.Call)
    return nullptr;
  for (unsigned I = 0, E = Start.Method->getNumParams(); I != E; ++I) {
    QualType T = Start.Method->getParamDecl(I)->getType();
    const auto *RD =
        T->isPointerType() ? T->getPointeeType()->getAsCXXRecordDecl() : nullptr;
    if (!RD || I >= Start.Call->getNumArgs())
      continue;
    if (std::optional<ReactorBase> Base = asReactorBase(*RD))
      if (Base->Side == ReactorSide::Client)
        return Start.Call->getArg(I);
  }
  return nullptr;
}

const CXXRecordDecl *clientReactorClass(const Expr &Arg) {
  const Expr *E = Arg.IgnoreParenImpCasts();
  QualType T;
  if (llvm::isa<CXXThisExpr>(E) || llvm::isa<CXXNewExpr>(E) ||
      llvm::isa<DeclRefExpr>(E) || llvm::isa<MemberExpr>(E))
    T = E->getType();
  else if (const auto *Address = llvm::dyn_cast<UnaryOperator>(E))
    T = Address->getOpcode() == UO_AddrOf ? Address->getSubExpr()->getType()
                                          : QualType();
  else if (const auto *Get = llvm::dyn_cast<CXXMemberCallExpr>(E))
    T = Get->getMethodDecl() && Get->getMethodDecl()->getIdentifier() &&
                Get->getMethodDecl()->getName() == "get"
            ? Get->getType()
            : QualType();
  const CXXRecordDecl *RD = userReactorClassOf(T);
  if (!RD)
    return nullptr;
  std::optional<ReactorBase> Base = reactorBaseOf(*RD);
  return Base && Base->Side == ReactorSide::Client ? RD : nullptr;
}

} // namespace grpcleak
