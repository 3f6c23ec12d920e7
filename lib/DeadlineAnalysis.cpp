//===- DeadlineAnalysis.cpp - Is a deadline set before the RPC starts? -----===//

#include "grpcleak/DeadlineAnalysis.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"

using namespace clang;

namespace grpcleak {


namespace {

/// True if \p E mentions a call of a function named \p Name.
bool mentionsCall(const Stmt *E, llvm::StringRef Name) {
  return anyStatement(E, [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
    return FD && FD->getIdentifier() && FD->getName() == Name;
  });
}

/// A context built from a server context inherits its deadline, unless the
/// propagation options turn that off.
bool containsFromServerCall(const Expr *E) {
  if (!E)
    return false;
  E = stripValue(E);
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E))
    if (isContextFromServer(Call))
      return Call->getNumArgs() < 2 ||
             !mentionsCall(Call->getArg(1), "disable_deadline_propagation");
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(E))
    for (const Expr *Arg : Construct->arguments())
      if (containsFromServerCall(Arg))
        return true;
  return false;
}

bool matchesSetterRegex(const FunctionDecl &FD, const DeadlineOptions &Options) {
  return Options.DeadlineSetterFunctions && FD.getIdentifier() &&
         Options.DeadlineSetterFunctions->match(FD.getName());
}

} // namespace

bool DeadlineAnalysis::setsDeadline(const FunctionDecl &FD, unsigned Index) {
  return setsDeadline(FD, Index, Options.SummaryDepth);
}

bool DeadlineAnalysis::setsDeadline(const FunctionDecl &FD, unsigned Index,
                                    unsigned Depth) {
  if (matchesSetterRegex(FD, Options))
    return true;
  const FunctionDecl *Def = nullptr;
  if (!FD.hasBody(Def) || !Def) {
    // Defined in another file whose summary we have: what it says.
    if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(FD))
      return FunctionFacts::has(Facts->SetsDeadlineParams, Index) ||
             FunctionFacts::has(Facts->KeepsParams, Index);
    // Cannot look inside. gRPC's own functions do not set deadlines on a
    // context passed to them; anything else might (precision first).
    return !isInGrpcNamespace(FD);
  }
  if (Depth == 0 || Index >= Def->getNumParams())
    return true; // out of depth, or variadic: cannot tell
  auto Key = std::make_pair(Def, Index);
  auto [It, Inserted] = Summaries.try_emplace(Key, true);
  if (!Inserted)
    return It->second; // cached, or recursion (assume it may)
  const ParmVarDecl &Param = *Def->getParamDecl(Index);
  auto SetsOnParam = [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return false;
    const Expr *Object = nullptr;
    if (isClientContextMethodCall(Call, "set_deadline", Object))
      return namesObject(Object, &Param);
    const FunctionDecl *Callee = Call->getDirectCallee();
    for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
      if (namesObject(Call->getArg(I), &Param) && Callee &&
          !classifyRpcStart(Call) && setsDeadline(*Callee, I, Depth - 1))
        return true;
    return false;
  };
  bool Found = anyStatement(Def->getBody(), SetsOnParam);
  Summaries[Key] = Found;
  return Found;
}

bool DeadlineAnalysis::setsDeadlineOnEveryPath(const FunctionDecl &FD,
                                               unsigned Index) {
  const FunctionDecl *Def = nullptr;
  if (!FD.hasBody(Def) || !Def || Index >= Def->getNumParams() ||
      isUnanalyzable(*Def))
    return false;
  const FunctionFlow *Flow = FlowCache::get(*Def, Def->getASTContext());
  if (!Flow)
    return false;
  const ParmVarDecl &Param = *Def->getParamDecl(Index);
  auto Judge = [&](const Stmt &S) {
    return isBoundingStmt(S, Param) ? Verdict::Discharged : Verdict::Continue;
  };
  return !findPathForward(*Flow, CfgPoint{&Flow->cfg().getEntry(), 0}, Judge);
}

std::optional<DeadlineAnalysis::HelperRpc>
DeadlineAnalysis::startsOnParam(const FunctionDecl &FD, unsigned Index) {
  return startsOnParam(FD, Index, Options.SummaryDepth);
}

std::optional<DeadlineAnalysis::HelperRpc>
DeadlineAnalysis::startsOnParam(const FunctionDecl &FD, unsigned Index,
                                unsigned Depth) {
  if (isInGrpcNamespace(FD))
    return std::nullopt;
  const FunctionDecl *Def = nullptr;
  if (!FD.hasBody(Def) || !Def) {
    // Defined in another file: what its summary says.
    std::shared_ptr<const FunctionFacts> Facts = projectFacts(FD);
    const FunctionFacts::StreamStart *Start =
        Facts ? Facts->startsRpcOn(Index) : nullptr;
    if (!Start)
      return std::nullopt;
    return HelperRpc{nullptr, Facts, Start->Method, Start->Streaming};
  }
  if (Depth == 0 || Index >= Def->getNumParams() || isUnanalyzable(*Def))
    return std::nullopt;
  auto Key = std::make_pair(Def, Index);
  auto [It, Inserted] = Starts.try_emplace(Key, std::nullopt);
  if (!Inserted)
    return It->second; // cached, or recursion
  const ParmVarDecl &Param = *Def->getParamDecl(Index);
  ASTContext &Ctx = Def->getASTContext();
  const FunctionFlow *Flow = FlowCache::get(*Def, Ctx);
  if (!Flow)
    return std::nullopt;
  // The RPC starts on the parameter, and the calls that hand it on to a
  // function that starts one: the site in this body, and the start.
  llvm::SmallVector<std::pair<const CallExpr *, HelperRpc>, 2> Candidates;
  anyStatement(Def->getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call || enclosingCallable(*Call, Ctx) != Def)
      return false;
    if (std::optional<RpcStart> Start = classifyRpcStart(Call)) {
      if (namesObject(Start->Context, &Param))
        Candidates.push_back({Call, HelperRpc{Call, nullptr, "", Start->Streaming}});
      return false;
    }
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return false;
    unsigned Offset = llvm::isa<CXXOperatorCallExpr>(Call) &&
                              llvm::isa<CXXMethodDecl>(Callee)
                          ? 1
                          : 0;
    for (unsigned I = Offset, E = Call->getNumArgs(); I != E; ++I)
      if (namesObject(Call->getArg(I), &Param))
        if (std::optional<HelperRpc> Inner =
                startsOnParam(*Callee, I - Offset, Depth - 1))
          Candidates.push_back({Call, *Inner});
    return false;
  });
  for (const auto &[Site, Inner] : Candidates) {
    std::optional<CfgPoint> At = Flow->locate(*Site);
    if (!At)
      continue;
    auto Judge = [&](const Stmt &S) {
      return isBoundingStmt(S, Param) ? Verdict::Discharged : Verdict::Continue;
    };
    if (findPathBackward(*Flow, *At, Judge)) {
      Starts[Key] = Inner;
      return Inner;
    }
  }
  return std::nullopt;
}

bool DeadlineAnalysis::isBoundingStmt(const Stmt &S, const ValueDecl &Context) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  // A smart-pointer context (a member, say) given a child of a server call.
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
        isRefToDecl(Op->getArg(0), &Context))
      return Options.TrustServerContextPropagation &&
             containsFromServerCall(Op->getArg(1));
  const Expr *Object = nullptr;
  if (isClientContextMethodCall(Call, "set_deadline", Object))
    return namesObject(Object, &Context);
  if (isClientContextMethodCall(Call, "TryCancel", Object))
    return false; // where it runs decides: cancelBounds()
  if (classifyRpcStart(Call))
    return false; // another RPC on the same context
  const FunctionDecl *Callee = Call->getDirectCallee();
  unsigned Offset = 0;
  if (llvm::isa<CXXOperatorCallExpr>(Call) && Callee &&
      llvm::isa<CXXMethodDecl>(Callee))
    Offset = 1;
  for (unsigned I = Offset, E = Call->getNumArgs(); I != E; ++I)
    if (namesObject(Call->getArg(I), &Context) &&
        (!Callee || setsDeadline(*Callee, I - Offset)))
      return true;
  return false;
}

bool DeadlineAnalysis::setsDeadlineAnywhere(const Stmt *Body,
                                            const ValueDecl &Context) {
  if (!Body)
    return false;
  auto IsSetter = [&](const Stmt &S) {
    const Expr *Object = nullptr;
    return isClientContextMethodCall(llvm::dyn_cast<CallExpr>(&S),
                                     "set_deadline", Object) &&
           namesObject(Object, &Context);
  };
  return anyStatement(Body, IsSetter);
}

bool DeadlineAnalysis::cancelBounds(const CallExpr &Cancel,
                                    const FunctionDecl &Starter) const {
  if (!Options.TreatTryCancelAsBounded)
    return false;
  const FunctionDecl *Runs =
      enclosingCallable(Cancel, Starter.getASTContext());
  if (!Runs)
    return true; // cannot tell: precision first
  if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Runs)) {
    if (Method->getParent()->isLambda())
      return true; // a timer, an alarm, another thread
    if (isReaction(*Method))
      return false; // runs when the peer has answered
  }
  return Runs->getCanonicalDecl() != Starter.getCanonicalDecl();
}

bool DeadlineAnalysis::memberIsBounded(const FieldDecl &Field,
                                       const FunctionDecl &Caller,
                                       const CallExpr *&PeerDependentCancel) {
  auto Bounds = [&](const Stmt &S, const FieldDecl &Member) {
    if (isBoundingStmt(S, Member))
      return true;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const Expr *Object = nullptr;
    if (!Call || !isClientContextMethodCall(Call, "TryCancel", Object) ||
        !namesObject(Object, &Member))
      return false;
    if (cancelBounds(*Call, Caller))
      return true;
    if (!PeerDependentCancel)
      PeerDependentCancel = Call;
    return false;
  };
  if (anyStatement(Caller.getBody(),
                   [&](const Stmt &S) { return Bounds(S, Field); }))
    return true;
  // Any method of the class and its subclasses; one defined in another file
  // may set it.
  return anyMethodMay(Field, Bounds);
}

const ValueDecl *DeadlineAnalysis::contextDecl(const RpcStart &Start,
                                               const FunctionDecl &Fn,
                                               bool &IsMember) const {
  IsMember = false;
  const Expr *Arg = stripValue(Start.Context);
  const Expr *Named = nullptr;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Arg)) {
    if (U->getOpcode() == UO_AddrOf)
      Named = U->getSubExpr();
  } else if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Arg)) {
    const CXXMethodDecl *MD = Member->getMethodDecl();
    if (MD && MD->getIdentifier() && MD->getName() == "get")
      Named = Member->getImplicitObjectArgument();
  } else {
    Named = Arg; // a pointer variable
  }
  if (!Named)
    return nullptr;
  Named = stripValue(Named);

  auto IsContextLike = [](QualType T) {
    return isClientContextType(T) || isClientContextOwnerType(T) ||
           (T->isPointerType() && isClientContextType(T->getPointeeType()));
  };
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(Named)) {
    // Owned contexts only: a pointer member points at someone else's.
    const auto *Field = llvm::dyn_cast<FieldDecl>(Member->getMemberDecl());
    if (!Field || !(isClientContextType(Field->getType()) ||
                    isClientContextOwnerType(Field->getType())))
      return nullptr;
    IsMember = true;
    return Field;
  }
  const VarDecl *Var = referencedVar(Named);
  if (!Var || !IsContextLike(Var->getType().getNonReferenceType()))
    return nullptr;
  // Captured by a lambda from its enclosing function: the deadline may be
  // set there, before the lambda runs; not judged (precision first).
  const DeclContext *Owner = Var->getParentFunctionOrMethod();
  if (Owner != &Fn && Owner != Fn.getCanonicalDecl())
    return nullptr;
  if (llvm::isa<ParmVarDecl>(Var))
    return Options.IgnoreContextParameters ? nullptr : Var;
  // A local pointer or reference to a context made elsewhere: not ours.
  if (!isAutomaticLocal(Var) || Var->isStaticLocal() ||
      Var->getType()->isReferenceType() || Var->getType()->isPointerType())
    return nullptr;
  return Var;
}

bool DeadlineAnalysis::isBoundedByConstruction(const VarDecl &Context) const {
  return Options.TrustServerContextPropagation &&
         containsFromServerCall(Context.getInit());
}

Verdict DeadlineAnalysis::judge(const Stmt &S, const VarDecl &Context) {
  if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S)) {
    for (const clang::Decl *D : Decl->decls())
      if (D == &Context)
        return Verdict::Violated; // back at the declaration: never set
    return Verdict::Continue;
  }
  // A smart-pointer context given a new value.
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
        isRefTo(Op->getArg(0), &Context))
      return Options.TrustServerContextPropagation &&
                     containsFromServerCall(Op->getArg(1))
                 ? Verdict::Discharged
                 : Verdict::Violated;
  const Expr *Object = nullptr;
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (Call && isClientContextMethodCall(Call, "TryCancel", Object))
    return Verdict::Continue; // judged for the whole function: analyze()
  return isBoundingStmt(S, Context) ? Verdict::Discharged : Verdict::Continue;
}

std::optional<MissingDeadline>
DeadlineAnalysis::analyze(const RpcStart &Start, const FunctionFlow &Flow) {
  bool IsMember = false;
  const ValueDecl *Context = contextDecl(Start, Flow.function(), IsMember);
  if (!Context)
    return std::nullopt;

  MissingDeadline Finding;
  Finding.Start = Start;
  Finding.Context = Context;
  Finding.IsMember = IsMember;
  if (IsMember) {
    if (memberIsBounded(*llvm::cast<FieldDecl>(Context), Flow.function(),
                        Finding.PeerDependentCancel))
      return std::nullopt;
    return Finding;
  }

  const auto &Var = *llvm::cast<VarDecl>(Context);
  if (isBoundedByConstruction(Var))
    return std::nullopt;
  // A watch stream ended by TryCancel() from another thread or a timer.
  bool CancelledElsewhere = false;
  anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const Expr *Object = nullptr;
    if (!Call || !isClientContextMethodCall(Call, "TryCancel", Object) ||
        !namesObject(Object, &Var))
      return false;
    if (cancelBounds(*Call, Flow.function()))
      CancelledElsewhere = true;
    else if (!Finding.PeerDependentCancel)
      Finding.PeerDependentCancel = Call;
    return CancelledElsewhere;
  });
  if (CancelledElsewhere)
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(*Start.Call);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) { return judge(S, Var); };
  if (!findPathBackward(Flow, *At, Judge))
    return std::nullopt;

  // A deadline set after the call has no effect on it: worth a note.
  auto IsSetter = [&](const Stmt &S) {
    const Expr *Object = nullptr;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    return Call && isClientContextMethodCall(Call, "set_deadline", Object) &&
           namesObject(Object, &Var);
  };
  Finding.LateSetter =
      llvm::cast_or_null<CallExpr>(findReachable(Flow, *At, IsSetter));
  return Finding;
}

} // namespace grpcleak
