//===- HandleLifetime.cpp - Is a C-core handle released on every path? -----===//

#include "grpcleak/HandleLifetime.h"
#include "grpcleak/Summaries.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"

using namespace clang;

namespace grpcleak {
namespace {

/// True if \p E is the handle \p Var or its address.
bool isHandleOrAddress(const Expr *E, const VarDecl *Var) {
  if (isRefTo(E, Var))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(stripValue(E)))
    return U->getOpcode() == UO_AddrOf && isRefTo(U->getSubExpr(), Var);
  return false;
}

/// True if \p Target is a field of a `grpc_op` (or an array of them): an
/// address stored there is lent for one batch, not handed over.
bool isGrpcOpField(const Expr *Target) {
  const Expr *E = Target ? Target->IgnoreParenImpCasts() : nullptr;
  while (E) {
    if (const auto *RD = E->getType()->getAsRecordDecl())
      if (RD->getIdentifier() && RD->getName() == "grpc_op")
        return true;
    if (const auto *Member = llvm::dyn_cast<MemberExpr>(E))
      E = Member->getBase()->IgnoreParenImpCasts();
    else if (const auto *Index = llvm::dyn_cast<ArraySubscriptExpr>(E))
      E = Index->getBase()->IgnoreParenImpCasts();
    else
      return false;
  }
  return false;
}

/// True if \p E is `*Var`.
bool isDerefOf(const Expr *E, const VarDecl *Var) {
  const auto *U = llvm::dyn_cast<UnaryOperator>(stripValue(E));
  return U && U->getOpcode() == UO_Deref && isRefTo(U->getSubExpr(), Var);
}

/// True if \p Construct copies a C string rather than taking a handle
/// (`std::string peer(grpc_call_get_peer(call))` still owes a gpr_free).
bool copiesCharacters(const CXXConstructExpr &Construct) {
  const CXXRecordDecl *RD = Construct.getConstructor()->getParent();
  return hasQualifiedName(RD, "::std::basic_string") ||
         hasQualifiedName(RD, "::std::basic_string_view");
}

/// The first node above \p E that is not a cast or parenthesis, and the
/// child of it \p E's value arrives through.
DynTypedNode valueUser(const Expr &E, ASTContext &Ctx, const Expr *&Child) {
  const Expr *Current = &E;
  while (true) {
    auto Parents = parentsOf(Ctx, *Current);
    if (Parents.size() != 1)
      return DynTypedNode();
    const auto *P = Parents[0].get<Expr>();
    if (P && (llvm::isa<CastExpr>(P) || llvm::isa<ParenExpr>(P) ||
              llvm::isa<ExprWithCleanups>(P))) {
      Current = P;
      continue;
    }
    Child = Current;
    return Parents[0];
  }
}

/// If \p Cond tests \p Var against null: true when the condition holds
/// exactly when \p Var is non-null, false when it holds exactly when it is
/// null.
std::optional<bool> testsNonNull(const Expr *Cond, const VarDecl *Var,
                                 ASTContext &Ctx) {
  if (!Cond)
    return std::nullopt;
  Cond = Cond->IgnoreParenImpCasts();
  if (isRefTo(Cond, Var))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Cond))
    if (U->getOpcode() == UO_LNot)
      if (std::optional<bool> Inner = testsNonNull(U->getSubExpr(), Var, Ctx))
        return !*Inner;
  if (const auto *B = llvm::dyn_cast<BinaryOperator>(Cond)) {
    if (B->getOpcode() != BO_EQ && B->getOpcode() != BO_NE)
      return std::nullopt;
    auto IsNull = [&](const Expr *E) {
      return E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull) !=
             Expr::NPCK_NotNull;
    };
    if ((isRefTo(B->getLHS(), Var) && IsNull(B->getRHS())) ||
        (isRefTo(B->getRHS(), Var) && IsNull(B->getLHS())))
      return B->getOpcode() == BO_NE;
  }
  return std::nullopt;
}

/// Finds what a function body does with one parameter.
class ParamUseFinder : public RecursiveASTVisitor<ParamUseFinder> {
public:
  ParamUseFinder(const ParmVarDecl &Param, HandleLifetimeAnalysis &Analysis,
                 unsigned Depth)
      : Param(Param), Analysis(Analysis), Depth(Depth) {}

  ParamEffect Effect = ParamEffect::None;

  bool VisitCallExpr(CallExpr *Call) {
    const Expr *Handle = nullptr;
    if (Analysis.isAnyRelease(*Call, Handle) &&
        (isRefTo(Handle, &Param) || isDerefOf(Handle, &Param))) {
      Effect = ParamEffect::Releases;
      return false;
    }
    const FunctionDecl *Callee = Call->getDirectCallee();
    // An operator that is a member takes its object as argument 0: the
    // parameter is used there (`param->Write(m)`), not passed on.
    unsigned First = llvm::isa<CXXOperatorCallExpr>(Call) && Callee &&
                             llvm::isa<CXXMethodDecl>(Callee)
                         ? 1
                         : 0;
    for (unsigned I = First, E = Call->getNumArgs(); I != E; ++I) {
      if (!isRefTo(Call->getArg(I), &Param))
        continue;
      if (Callee && isCoreApiFunction(Callee) &&
          !coreTakesOwnership(Callee, I))
        continue;
      if (!Callee || Depth == 0) {
        Effect = ParamEffect::Unknown;
        return false;
      }
      ParamEffect Inner = Analysis.summarize(*Callee, I - First, Depth);
      if (Inner != ParamEffect::None) {
        Effect = Inner;
        return false;
      }
    }
    return true;
  }
  bool VisitReturnStmt(ReturnStmt *R) { return keepsIf(R->getRetValue()); }
  bool VisitBinaryOperator(BinaryOperator *B) {
    return B->isAssignmentOp() ? keepsIf(B->getRHS()) : true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *C) {
    for (const Expr *Arg : C->arguments())
      if (!keepsIf(Arg))
        return false;
    return true;
  }
  bool VisitInitListExpr(InitListExpr *L) {
    for (const Expr *Init : L->inits())
      if (!keepsIf(Init))
        return false;
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    return V->hasInit() ? keepsIf(V->getInit()) : true;
  }

private:
  bool keepsIf(const Expr *E) {
    if (E && isRefTo(E, &Param)) {
      Effect = ParamEffect::Keeps;
      return false;
    }
    return true;
  }

  const ParmVarDecl &Param;
  HandleLifetimeAnalysis &Analysis;
  unsigned Depth;
};

} // namespace

bool HandleLifetimeAnalysis::isAnyRelease(const CallExpr &Call,
                                          const Expr *&Handle) const {
  if (ExtraRelease && ExtraRelease(Call, Handle))
    return true;
  for (const CoreHandlePair &Pair : coreHandlePairs())
    if (isCoreRelease(&Call, Pair, Handle))
      return true;
  for (const CoreHandlePair &Pair : ExtraPairs)
    if (isCoreRelease(&Call, Pair, Handle))
      return true;
  return false;
}

ParamEffect HandleLifetimeAnalysis::summarize(const FunctionDecl &FD,
                                              unsigned Index) {
  return summarize(FD, Index, SummaryDepth);
}

ParamEffect HandleLifetimeAnalysis::summarize(const FunctionDecl &FD,
                                              unsigned Index, unsigned Depth) {
  const FunctionDecl *Def = nullptr;
  if (!FD.hasBody(Def) || !Def) {
    // Defined in another file whose summary we have: what it says (a
    // summary speaks of the C-core handles it is given, not of other
    // objects this analysis follows, such as streams).
    if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(FD);
        Facts && Index < FD.getNumParams() &&
        isCoreHandleType(FD.getParamDecl(Index)->getType()))
      return FunctionFacts::has(Facts->ReleasesParams, Index) ? ParamEffect::Releases
             : FunctionFacts::has(Facts->KeepsParams, Index)  ? ParamEffect::Keeps
                                                              : ParamEffect::None;
    return ParamEffect::Unknown;
  }
  if (Index >= Def->getNumParams() || Def->isTemplated())
    return ParamEffect::Unknown;
  auto Key = std::make_pair(Def, Index);
  auto [It, Inserted] = Summaries.try_emplace(Key, ParamEffect::Unknown);
  if (!Inserted)
    return It->second; // cached, or a recursive call (Unknown: conservative)
  ParamUseFinder Finder(*Def->getParamDecl(Index), *this,
                        Depth == 0 ? 0 : Depth - 1);
  Finder.TraverseStmt(Def->getBody());
  Summaries[Key] = Finder.Effect;
  return Finder.Effect;
}

Verdict HandleLifetimeAnalysis::judgeArgument(const CallExpr &Call,
                                              unsigned Arg) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee)
    return Verdict::Discharged; // indirect call: cannot tell
  if (ReleaseFunctions && Callee->getIdentifier() &&
      ReleaseFunctions->match(Callee->getName()))
    return Verdict::Discharged; // a release wrapper the user told us about
  if (isCoreApiFunction(Callee))
    return coreTakesOwnership(Callee, Arg) ? Verdict::Discharged
                                           : Verdict::Continue;
  // A variadic argument (printf-style logging) is only read.
  if (Callee->isVariadic() && Arg >= Callee->getNumParams())
    return Verdict::Continue;
  // Member calls count the object as argument 0 in CXXOperatorCallExpr only.
  unsigned ParamIndex = Arg;
  if (llvm::isa<CXXOperatorCallExpr>(&Call))
    if (llvm::isa<CXXMethodDecl>(Callee)) {
      if (Arg == 0)
        return Verdict::Continue; // the handle is the object: not passed
      ParamIndex = Arg - 1;
    }
  switch (summarize(*Callee, ParamIndex)) {
  case ParamEffect::None:
    return Verdict::Continue;
  case ParamEffect::Releases:
  case ParamEffect::Keeps:
  case ParamEffect::Unknown:
    return Verdict::Discharged;
  }
  return Verdict::Discharged;
}

Verdict HandleLifetimeAnalysis::judge(const Stmt &S, const VarDecl &Var,
                                      const CallExpr &Acquire,
                                      const CoreHandlePair &Pair) {
  if (&S == &Acquire)
    return Verdict::Violated; // acquired again before being released
  // Exception paths are not judged: the CFG has no edges for what a throw
  // unwinds through, so its "exit" would be a misleading place to report.
  if (llvm::isa<CXXThrowExpr>(&S))
    return Verdict::Discharged;

  if (const auto *Call = llvm::dyn_cast<CallExpr>(&S)) {
    // `release(h)`, or `release(&h)` for a handle initialised in place.
    const Expr *Handle = nullptr;
    if (isCoreRelease(Call, Pair, Handle) && isHandleOrAddress(Handle, &Var))
      return Verdict::Discharged;
    for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
      if (isHandleOrAddress(Call->getArg(I), &Var))
        if (judgeArgument(*Call, I) == Verdict::Discharged)
          return Verdict::Discharged;
    return Verdict::Continue;
  }
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&S)) {
    if (copiesCharacters(*Construct))
      return Verdict::Continue;
    for (const Expr *Arg : Construct->arguments())
      if (isHandleOrAddress(Arg, &Var))
        return Verdict::Discharged; // wrapped by an owner (RAII)
    return Verdict::Continue;
  }
  if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S))
    return isRefTo(Return->getRetValue(), &Var) ? Verdict::Discharged
                                                : Verdict::Continue;
  if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S)) {
    if (!Assign->isAssignmentOp())
      return Verdict::Continue;
    if (isRefTo(Assign->getRHS(), &Var))
      return Verdict::Discharged; // stored elsewhere
    if (isRefTo(Assign->getLHS(), &Var) &&
        stripValue(Assign->getRHS()) != &Acquire)
      return Verdict::Violated; // overwritten while still held
    return Verdict::Continue;
  }
  if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S)) {
    for (const clang::Decl *D : Decl->decls())
      if (const auto *Other = llvm::dyn_cast<VarDecl>(D))
        if (Other != &Var && Other->hasInit() &&
            isHandleOrAddress(Other->getInit(), &Var))
          return Verdict::Discharged; // copied into another variable
    return Verdict::Continue;
  }
  if (const auto *List = llvm::dyn_cast<InitListExpr>(&S)) {
    for (const Expr *Init : List->inits())
      if (isHandleOrAddress(Init, &Var))
        return Verdict::Discharged;
    return Verdict::Continue;
  }
  if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S)) {
    for (const LambdaCapture &Capture : Lambda->captures())
      if (Capture.capturesVariable() && Capture.getCapturedVar() == &Var)
        return Verdict::Discharged;
    return Verdict::Continue;
  }
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(&S)) {
    // The address escapes unless it goes straight into a call (judged there).
    if (U->getOpcode() == UO_AddrOf && isRefTo(U->getSubExpr(), &Var)) {
      const Expr *Child = nullptr;
      DynTypedNode User = valueUser(*U, Ctx, Child);
      if (const auto *Assign = User.get<BinaryOperator>())
        if (Assign->isAssignmentOp() && isGrpcOpField(Assign->getLHS()))
          return Verdict::Continue; // lent to a batch operation
      if (!User.get<CallExpr>())
        return Verdict::Discharged;
    }
  }
  return Verdict::Continue;
}

std::optional<HandleLifetimeAnalysis::OrderViolation>
HandleLifetimeAnalysis::checkReleaseOrder(const CallExpr &Release,
                                          const FunctionFlow &Flow) {
  const FunctionDecl *Callee = Release.getDirectCallee();
  if (!Callee || !Callee->getIdentifier() || Release.getNumArgs() == 0)
    return std::nullopt;
  const VarDecl *Var = referencedVar(Release.getArg(0));
  if (!Var || !isAutomaticLocal(Var) || Var->isStaticLocal())
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(Release);
  if (!At)
    return std::nullopt;
  for (const ReleasePrerequisite &Needs : releasePrerequisites()) {
    if (Callee->getName() != Needs.Release)
      continue;
    llvm::SmallVector<llvm::StringRef, 2> Steps;
    Needs.Prerequisite.split(Steps, '|');
    // Walking back from the release: the rule is broken by a path that
    // reaches the handle's creation (or, for a rule that holds only since
    // some call, that call) without passing the prerequisite.
    bool Always = Needs.Since.empty();
    auto Judge = [&](const Stmt &S) {
      if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S))
        return !llvm::is_contained(Decl->decls(), Var) ? Verdict::Continue
               : Always                                ? Verdict::Violated
                                                       : Verdict::Discharged;
      const auto *Call = llvm::dyn_cast<CallExpr>(&S);
      if (!Call || Call->getNumArgs() == 0)
        return Verdict::Continue;
      const FunctionDecl *FD = Call->getDirectCallee();
      bool Passes = false;
      for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
        Passes |= isHandleOrAddress(Call->getArg(I), Var);
      if (!Passes)
        return Verdict::Continue;
      if (!FD || !FD->getIdentifier())
        return Verdict::Discharged;
      if (llvm::is_contained(Steps, FD->getName()))
        return Verdict::Discharged;
      if (!Always && FD->getName() == Needs.Since)
        return Verdict::Violated;
      // A helper we cannot see into, or one of this TU: it may do the step.
      if (!isCoreApiFunction(FD))
        return Verdict::Discharged;
      return Verdict::Continue;
    };
    if (findPathBackward(Flow, *At, Judge))
      return OrderViolation{&Needs, Var};
  }
  return std::nullopt;
}

std::optional<HandleLeak>
HandleLifetimeAnalysis::analyze(const CallExpr &Acquire,
                                const CoreHandlePair &Pair,
                                const FunctionFlow &Flow) {
  HandleLeak Leak;
  Leak.Acquire = &Acquire;
  Leak.Pair = &Pair;

  // Who receives the new handle?
  const Expr *Child = nullptr;
  DynTypedNode User = valueUser(Acquire, Ctx, Child);
  const VarDecl *Var = nullptr;
  if (Pair.AcquireArg >= 0) {
    // Initialised through a pointer: `grpc_metadata_array_init(&md)`.
    if (static_cast<unsigned>(Pair.AcquireArg) >= Acquire.getNumArgs())
      return std::nullopt;
    const auto *Address = llvm::dyn_cast<UnaryOperator>(
        stripValue(Acquire.getArg(Pair.AcquireArg)));
    if (!Address || Address->getOpcode() != UO_AddrOf)
      return std::nullopt;
    Var = referencedVar(Address->getSubExpr());
  } else if (const auto *V = User.get<VarDecl>()) {
    if (V->getInit() && stripValue(V->getInit()) == &Acquire)
      Var = V;
  } else if (const auto *Assign = User.get<BinaryOperator>()) {
    if (Assign->getOpcode() == BO_Assign && Assign->getRHS() == Child)
      Var = referencedVar(Assign->getLHS());
  } else if (const auto *Call = User.get<CallExpr>()) {
    // Created inline as an argument: only a C-core callee that does not take
    // ownership proves that nobody will release it.
    const FunctionDecl *Callee = Call->getDirectCallee();
    const Expr *Released = nullptr;
    if (isCoreRelease(Call, Pair, Released) && Released == Child)
      return std::nullopt; // released right away: gpr_free(grpc_call_get_peer(c))
    for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
      if (Call->getArg(I) == Child && Callee && isCoreApiFunction(Callee) &&
          !coreTakesOwnership(Callee, I)) {
        Leak.How = HandleLeak::Exit::NeverBound;
        Leak.At = Call;
        return Leak;
      }
    return std::nullopt;
  }
  // Members, globals and statics are someone else's concern (destructors,
  // process lifetime); anything we do not recognise is not reported.
  if (!Var || !isAutomaticLocal(Var) || Var->isStaticLocal())
    return std::nullopt;
  Leak.Var = Var;

  std::optional<CfgPoint> Start = Flow.locate(Acquire);
  if (!Start)
    return std::nullopt;

  auto Judge = [&](const Stmt &S) { return judge(S, *Var, Acquire, Pair); };
  // A branch on which the handle is null, or on which the acquire reported
  // failure (grpc_byte_buffer_reader_init returns 0), holds nothing.
  auto Follow = [&](const CFGBlock &From, unsigned SuccIndex) {
    if (From.succ_size() != 2)
      return true;
    const auto *Cond =
        llvm::dyn_cast_or_null<Expr>(From.getTerminatorCondition());
    std::optional<bool> NonNullWhenTrue = testsNonNull(Cond, Var, Ctx);
    if (!NonNullWhenTrue && Cond) {
      const Expr *Test = Cond->IgnoreParenImpCasts();
      bool Negated = false;
      if (const auto *Not = llvm::dyn_cast<UnaryOperator>(Test))
        if (Not->getOpcode() == UO_LNot) {
          Test = Not->getSubExpr()->IgnoreParenImpCasts();
          Negated = true;
        }
      if (Test == &Acquire)
        NonNullWhenTrue = !Negated;
    }
    if (!NonNullWhenTrue)
      return true;
    unsigned NullBranch = *NonNullWhenTrue ? 1 : 0;
    return SuccIndex != NullBranch;
  };
  std::optional<FlowPath> Path = findPathForward(Flow, *Start, Judge, Follow);
  if (!Path)
    return std::nullopt;

  if (Path->ViolatedAt) {
    Leak.At = Path->ViolatedAt;
    Leak.How = Path->ViolatedAt == &Acquire ? HandleLeak::Exit::NextIteration
                                            : HandleLeak::Exit::Overwritten;
  } else if (Path->ExitReturn) {
    Leak.At = Path->ExitReturn;
    Leak.How = HandleLeak::Exit::Return;
  } else {
    Leak.How = HandleLeak::Exit::EndOfFunction;
  }
  return Leak;
}

} // namespace grpcleak
