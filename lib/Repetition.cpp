//===- Repetition.cpp - Clients made over and over ------------------------===//

#include "grpcleak/Repetition.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <deque>

using namespace clang;

namespace grpcleak {

/// True if \p Cond is known to be false: `do { ... } while (0)`, the body
/// of a statement-like macro (GPR_ASSERT, CHECK, logging), runs once.
static bool isKnownFalse(const Expr *Cond, const ASTContext &Ctx) {
  bool Value = true;
  return Cond && !Cond->isValueDependent() &&
         Cond->EvaluateAsBooleanCondition(Value, Ctx) && !Value;
}

const Stmt *enclosingLoop(const Stmt &S, ASTContext &Ctx) {
  DynTypedNode Child = DynTypedNode::create(S);
  ParentList Parents = parentsOf(Ctx, S);
  while (!Parents.empty()) {
    const DynTypedNode &P = Parents[0];
    // A lambda, block or local class body runs when called, not per iteration.
    if (P.get<LambdaExpr>() || P.get<BlockExpr>() || P.get<FunctionDecl>() ||
        P.get<RecordDecl>())
      return nullptr;
    const Stmt *C = Child.get<Stmt>();
    if (const auto *For = P.get<ForStmt>()) {
      if (C != For->getInit())
        return For;
    } else if (const auto *Range = P.get<CXXForRangeStmt>()) {
      if (C != Range->getInit() && C != Range->getRangeInit() &&
          C != Range->getRangeStmt() && C != Range->getBeginStmt() &&
          C != Range->getEndStmt())
        return Range;
    } else if (const auto *While = P.get<WhileStmt>()) {
      if (!isKnownFalse(While->getCond(), Ctx))
        return While;
    } else if (const auto *Do = P.get<DoStmt>()) {
      if (!isKnownFalse(Do->getCond(), Ctx))
        return Do;
    }
    Child = P;
    Parents = parentsOf(Ctx, P);
  }
  return nullptr;
}

// ===== Following a value =====================================================

namespace {

class RefCollector : public RecursiveASTVisitor<RefCollector> {
public:
  explicit RefCollector(const ValueDecl &Var) : Var(Var) {}
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (Ref->getDecl() == &Var)
      Refs.push_back(Ref);
    return true;
  }
  const ValueDecl &Var;
  llvm::SmallVector<const DeclRefExpr *, 8> Refs;
};

/// Combines the fates of several uses of one value: any use that escapes,
/// or two different ways out, make the whole value escape.
ValueFate combine(ValueFate A, ValueFate B) {
  if (A == ValueFate::Dies)
    return B;
  if (B == ValueFate::Dies || A == B)
    return A;
  return ValueFate::Escapes;
}

bool isMemberOfThis(const Expr *E) {
  const auto *Member = llvm::dyn_cast<MemberExpr>(stripValue(E));
  return Member &&
         llvm::isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts());
}

/// True if \p FD is in namespace std (the standard library): we do not
/// walk into its internals.
bool isStandardLibrary(const FunctionDecl &FD) {
  for (const DeclContext *DC = FD.getDeclContext(); DC; DC = DC->getParent())
    if (const auto *NS = llvm::dyn_cast<NamespaceDecl>(DC))
      if (NS->isStdNamespace())
        return true;
  return false;
}

/// std::make_unique / std::make_shared: the result holds the arguments.
bool isMakeSmartPointer(const FunctionDecl &FD) {
  return hasQualifiedName(&FD, "::std::make_unique") ||
         hasQualifiedName(&FD, "::std::make_shared");
}

bool isSmartPointer(const CXXRecordDecl *RD) {
  return hasQualifiedName(RD, "::std::shared_ptr") ||
         hasQualifiedName(RD, "::std::unique_ptr");
}

} // namespace

/// Follows one value within one scope (see RepetitionAnalysis::fate).
class ValueFollower {
public:
  ValueFollower(RepetitionAnalysis &Analysis, const Stmt &Scope,
                const FunctionDecl &Fn)
      : Analysis(Analysis), Ctx(Analysis.Ctx), Scope(Scope), Fn(Fn),
        FunctionScope(&Scope == Fn.getBody()) {}

  ValueFate follow(const Expr &E) {
    if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(&E))
      if (Ref->refersToEnclosingVariableOrCapture())
        return ValueFate::Escapes; // used inside a lambda that may be kept
    const Expr *Current = &E;
    while (true) {
      ParentList Parents = parentsOf(Ctx, *Current);
      if (Parents.size() != 1)
        return ValueFate::Escapes;
      const DynTypedNode &P = Parents[0];
      if (const auto *V = P.get<VarDecl>())
        return holds(V) ? followVar(*V) : ValueFate::Escapes;
      // A member initialiser's expression hangs off the constructor itself
      // in Clang's parent map.
      if (const auto *Ctor = P.get<CXXConstructorDecl>()) {
        for (const CXXCtorInitializer *Init : Ctor->inits())
          if (Init->getInit() == Current)
            return Init->isMemberInitializer() && Ctor == &Fn
                       ? ValueFate::KeptByObject
                       : ValueFate::Escapes;
        return ValueFate::Escapes;
      }
      const auto *S = P.get<Stmt>();
      if (!S)
        return ValueFate::Escapes;
      if (llvm::isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                    CXXBindTemporaryExpr, ExprWithCleanups,
                    CXXFunctionalCastExpr, CStyleCastExpr, CXXStaticCastExpr,
                    ConditionalOperator>(S)) {
        Current = llvm::cast<Expr>(S);
        continue;
      }
      if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(S)) {
        // A stub keeps the channel; a smart pointer copy is the same value.
        const CXXRecordDecl *RD = Construct->getConstructor()->getParent();
        if (isStubFactoryCall(Construct) ||
            (Construct->getNumArgs() == 1 && isSmartPointer(RD))) {
          Current = Construct;
          continue;
        }
        std::optional<ValueFate> Passed = passedTo(
            *Construct->getConstructor(), argIndex(Construct->arguments(), Current),
            Construct, nullptr);
        if (!Passed)
          return ValueFate::Escapes;
        if (*Passed == ValueFate::KeptByObject) {
          Current = Construct; // the new object holds it: follow the object
          continue;
        }
        if (*Passed == ValueFate::Returned)
          return ValueFate::Escapes; // a constructor returns nothing
        return *Passed;
      }
      if (const auto *Member = llvm::dyn_cast<MemberExpr>(S)) {
        // A method call on the value is a use; release() hands it away, and
        // a result that may point into it (a pointer, reference or smart
        // pointer: `client.channel()`) is followed in turn.
        const auto *MD = llvm::dyn_cast<CXXMethodDecl>(Member->getMemberDecl());
        if (MD && MD->getIdentifier() && MD->getName() == "release")
          return ValueFate::Escapes;
        ParentList CallParents = parentsOf(Ctx, *Member);
        const auto *Call = CallParents.size() == 1
                               ? CallParents[0].get<CXXMemberCallExpr>()
                               : nullptr;
        if (Call && mayAlias(Call->getType())) {
          Current = Call;
          continue;
        }
        return ValueFate::Dies;
      }
      if (const auto *Call = llvm::dyn_cast<CallExpr>(S)) {
        if (isStubFactoryCall(Call)) {
          Current = Call;
          continue;
        }
        const FunctionDecl *Callee = Call->getDirectCallee();
        if (Callee && (hasQualifiedName(Callee, "::std::move") ||
                       hasQualifiedName(Callee, "::std::forward"))) {
          Current = Call;
          continue;
        }
        if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
          return throughOperator(*Op, *Current);
        if (!Callee)
          return ValueFate::Escapes;
        const Expr *Object = nullptr;
        if (const auto *MC = llvm::dyn_cast<CXXMemberCallExpr>(Call))
          Object = MC->getImplicitObjectArgument();
        std::optional<ValueFate> Passed =
            passedTo(*Callee, argIndex(Call->arguments(), Current), Call, Object);
        if (!Passed)
          return ValueFate::Escapes;
        if (*Passed == ValueFate::Returned) {
          Current = Call; // a helper that hands it back
          continue;
        }
        return *Passed;
      }
      if (const auto *U = llvm::dyn_cast<UnaryOperator>(S))
        return U->getOpcode() == UO_AddrOf ? ValueFate::Escapes
                                           : ValueFate::Dies;
      if (const auto *B = llvm::dyn_cast<BinaryOperator>(S)) {
        if (!B->isAssignmentOp())
          return ValueFate::Dies; // compared
        return B->getLHS() == Current ? ValueFate::Dies
                                      : assignedTo(B->getLHS());
      }
      if (llvm::isa<ReturnStmt>(S))
        return FunctionScope ? ValueFate::Returned : ValueFate::Escapes;
      if (llvm::isa<IfStmt, WhileStmt, DoStmt, ForStmt, SwitchStmt>(S))
        return ValueFate::Dies; // tested in a condition
      if (llvm::isa<CompoundStmt>(S))
        return ValueFate::Dies; // evaluated and discarded
      return ValueFate::Escapes; // captured, put in a list, anything else
    }
  }

private:
  template <typename ArgRange>
  static unsigned argIndex(ArgRange Args, const Expr *Current) {
    unsigned I = 0;
    for (const Expr *Arg : Args) {
      if (Arg == Current)
        return I;
      ++I;
    }
    return ~0U;
  }

  static bool mayAlias(QualType T) {
    if (T->isPointerType() || T->isReferenceType())
      return true;
    const auto *RD = T->getAsCXXRecordDecl();
    return RD && isSmartPointer(RD);
  }

  /// The value is argument \p Index of a call to \p Callee (on \p Object for
  /// a method call). Null: it may be kept.
  std::optional<ValueFate> passedTo(const FunctionDecl &Callee, unsigned Index,
                                    const Expr *Site, const Expr *Object) {
    if (Index == ~0U)
      return std::nullopt;
    ValueFate Inner = Analysis.paramFate(Callee, Index);
    if (Inner != ValueFate::KeptByObject || llvm::isa<CXXConstructExpr>(Site))
      return Inner;
    // A method keeping it in its object: the object's fate decides.
    if (!Object)
      return std::nullopt;
    const VarDecl *Holder = referencedVar(Object);
    if (!Holder || !holds(Holder))
      return std::nullopt;
    return followVar(*Holder);
  }

  ValueFate throughOperator(const CXXOperatorCallExpr &Op,
                            const Expr &Current) {
    switch (Op.getOperator()) {
    case OO_Arrow:
    case OO_Star:
    case OO_EqualEqual:
    case OO_ExclaimEqual:
    case OO_Exclaim:
      return ValueFate::Dies; // used
    case OO_Equal:
      if (Op.getArg(0) == &Current)
        return ValueFate::Dies; // the holder gets a new value
      return assignedTo(Op.getArg(0));
    default:
      return ValueFate::Escapes;
    }
  }

  ValueFate assignedTo(const Expr *Target) {
    if (isMemberOfThis(Target))
      return llvm::isa<CXXConstructorDecl>(&Fn) ? ValueFate::KeptByObject
                                                : ValueFate::Escapes;
    const VarDecl *V = referencedVar(Target);
    return V && holds(V) ? followVar(*V) : ValueFate::Escapes;
  }

  /// True if \p V is a local that lives within the scope.
  bool holds(const VarDecl *V) {
    // A reference names something else's storage (`auto &ch = cache_[k]`).
    if (!isAutomaticLocal(V) || V->isStaticLocal() ||
        V->getType()->isReferenceType())
      return false;
    if (FunctionScope)
      return V->getParentFunctionOrMethod() == &Fn ||
             V->getParentFunctionOrMethod() == Fn.getCanonicalDecl();
    ParentList Parents = parentsOf(Ctx, *V);
    while (!Parents.empty()) {
      const DynTypedNode &P = Parents[0];
      if (P.get<Stmt>() == &Scope)
        return true;
      if (P.get<FunctionDecl>() || P.get<LambdaExpr>())
        return false;
      Parents = parentsOf(Ctx, P);
    }
    return false;
  }

  ValueFate followVar(const VarDecl &V) {
    if (!Seen.insert(&V).second)
      return ValueFate::Dies;
    RefCollector Collector(V);
    Collector.TraverseStmt(const_cast<Stmt *>(&Scope));
    ValueFate Result = ValueFate::Dies;
    for (const DeclRefExpr *Ref : Collector.Refs) {
      Result = combine(Result, follow(*Ref));
      if (Result == ValueFate::Escapes)
        break;
    }
    return Result;
  }

  RepetitionAnalysis &Analysis;
  ASTContext &Ctx;
  const Stmt &Scope;
  const FunctionDecl &Fn;
  bool FunctionScope;
  llvm::SmallPtrSet<const VarDecl *, 4> Seen;
};

ValueFate RepetitionAnalysis::fate(const Expr &E, const Stmt &Scope,
                                   const FunctionDecl &Fn) {
  return ValueFollower(*this, Scope, Fn).follow(E);
}

ValueFate RepetitionAnalysis::paramFate(const FunctionDecl &Callee,
                                        unsigned Index) {
  // The standard library: make_unique/make_shared hand back an object that
  // holds their arguments; containers and everything else may keep them.
  if (isStandardLibrary(Callee))
    return isMakeSmartPointer(Callee) ? ValueFate::Returned
                                      : ValueFate::Escapes;
  const FunctionDecl *Def = nullptr;
  if (!Callee.hasBody(Def) || !Def || Index >= Def->getNumParams() ||
      Def->isTemplated() || SummaryDepth >= Options.CallDepth)
    return ValueFate::Escapes; // cannot look inside: it may keep it
  auto Key = std::make_pair(Def, Index);
  auto [It, Inserted] = ParamFates.try_emplace(Key, ValueFate::Escapes);
  if (!Inserted)
    return It->second; // cached, or recursion (conservative)
  ++SummaryDepth;
  // The whole declaration: a constructor's member initializers use it too.
  RefCollector Collector(*Def->getParamDecl(Index));
  Collector.TraverseDecl(const_cast<FunctionDecl *>(Def));
  ValueFate Result = ValueFate::Dies;
  for (const DeclRefExpr *Ref : Collector.Refs) {
    Result = combine(Result, fate(*Ref, *Def->getBody(), *Def));
    if (Result == ValueFate::Escapes)
      break;
  }
  --SummaryDepth;
  ParamFates[Key] = Result;
  return Result;
}

// ===== What runs a function repeatedly =======================================

namespace {

/// A call of CompletionQueue::Next or AsyncNext; \p ServerQueue tells
/// whether it polls a grpc::ServerCompletionQueue.
bool isQueuePoll(const Stmt &S, bool &ServerQueue) {
  const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
  const CXXMethodDecl *MD = Call ? Call->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() ||
      (MD->getName() != "Next" && MD->getName() != "AsyncNext") ||
      !hasQualifiedName(MD->getParent(), "::grpc::CompletionQueue"))
    return false;
  const Expr *Object = Call->getImplicitObjectArgument();
  ServerQueue = Object && isCompletionQueueHolder(Object->getType(), &ServerQueue) &&
                ServerQueue;
  return true;
}

/// True if \p Loop is the dispatch loop of an async server, whose body runs
/// once per event (a request step): it polls a completion queue in its
/// condition (`while (cq->Next(&tag, &ok))`), or polls a server's queue in
/// its body (`while (true) { GPR_ASSERT(cq_->Next(&tag, &ok)); ... }`; a
/// client's loop that waits for its own calls is not one).
bool isCompletionQueueLoop(const Stmt &Loop) {
  const Expr *Cond = nullptr;
  if (const auto *While = llvm::dyn_cast<WhileStmt>(&Loop))
    Cond = While->getCond();
  else if (const auto *For = llvm::dyn_cast<ForStmt>(&Loop))
    Cond = For->getCond();
  else if (const auto *Do = llvm::dyn_cast<DoStmt>(&Loop))
    Cond = Do->getCond();
  bool ServerQueue = false;
  if (anyStatement(Cond, [&](const Stmt &S) { return isQueuePoll(S, ServerQueue); }))
    return true;
  return anyStatement(&Loop, [&](const Stmt &S) {
    return isQueuePoll(S, ServerQueue) && ServerQueue;
  });
}

} // namespace

bool RepetitionAnalysis::isRequestEntry(const FunctionDecl &Fn) const {
  if (Options.HandlerFunctions && Fn.getIdentifier() &&
      Options.HandlerFunctions->match(Fn.getName()))
    return true;
  const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn);
  if (!Method || !Method->getParent())
    return false;
  // A service method: an override of a method declared by a generated
  // service class (derived from grpc::Service), sync and callback alike.
  auto IsService = [](const CXXRecordDecl &Base) {
    return hasQualifiedName(&Base, "::grpc::Service");
  };
  if (!llvm::isa<CXXDestructorDecl>(Method))
    for (const CXXMethodDecl *Overridden : Method->overridden_methods())
      if (Overridden->getParent() &&
          derivesFrom(*Overridden->getParent(), IsService))
        return true;
  if (!Options.TreatReactionsAsHandlers)
    return false;
  // A reactor reaction runs once per event of one RPC.
  return isReaction(*Method);
}

std::optional<RepeatedCreation>
RepetitionAnalysis::repeatingCaller(const FunctionDecl &Fn, RepeatKind Kind,
                                    std::vector<const Expr *> Hops,
                                    unsigned Depth) {
  if (Kind == RepeatKind::Request && isRequestEntry(Fn)) {
    RepeatedCreation Found;
    Found.Kind = Kind;
    Found.Handler = &Fn;
    Found.Hops = std::move(Hops);
    return Found;
  }
  if (Depth >= Options.CallDepth)
    return std::nullopt;
  const TuIndex &Index = TuIndex::get(Ctx);
  for (const Expr *Site : Index.callSitesOf(Fn)) {
    // Inside the standard library (a std algorithm calling its functor):
    // the algorithm's own call site, indexed as repeating, explains it.
    const FunctionDecl *SiteFn = enclosingCallable(*Site, Ctx);
    if (SiteFn && isStandardLibrary(*SiteFn))
      continue;
    std::vector<const Expr *> Path = Hops;
    Path.push_back(Site);
    const Stmt *Loop =
        Index.isRepeatingSite(Site) ? Site : enclosingLoop(*Site, Ctx);
    // One owner per finding: a completion-queue loop runs request steps (the
    // request check's), any other loop is the loop check's.
    bool CqLoop = Loop && !Index.isRepeatingSite(Site) &&
                  isCompletionQueueLoop(*Loop);
    if (Loop && Kind == RepeatKind::Loop && CqLoop)
      continue;
    if (Loop && Kind == RepeatKind::Request && !CqLoop)
      continue;
    if (Loop && Kind == RepeatKind::Loop) {
      RepeatedCreation Found;
      Found.Loop = Loop;
      Found.Hops = std::move(Path);
      return Found;
    }
    const FunctionDecl *Caller = enclosingCallable(*Site, Ctx);
    if (!Caller)
      continue;
    if (Loop && Kind == RepeatKind::Request) {
      if (!Options.TreatCqLoopCalleesAsHandlers)
        continue;
      RepeatedCreation Found;
      Found.Kind = Kind;
      Found.Handler = Caller;
      Found.Loop = Loop;
      Found.Hops = std::move(Path);
      return Found;
    }
    if (std::optional<RepeatedCreation> Found =
            repeatingCaller(*Caller, Kind, std::move(Path), Depth + 1))
      return Found;
  }
  return std::nullopt;
}

std::optional<RepeatedCreation>
RepetitionAnalysis::find(const Expr &Creation, RepeatKind Kind) {
  struct Item {
    const Expr *Value;
    std::vector<const Expr *> Hops;
  };
  std::deque<Item> Work;
  Work.push_back({&Creation, {}});
  llvm::SmallPtrSet<const Expr *, 8> Visited;
  while (!Work.empty()) {
    Item It = std::move(Work.front());
    Work.pop_front();
    if (!Visited.insert(It.Value).second)
      continue;
    const FunctionDecl *Fn = enclosingCallable(*It.Value, Ctx);
    if (!Fn)
      continue;
    if (isStandardLibrary(*Fn)) {
      // An object built inside std::make_unique<T>/make_shared<T>: what
      // happens to it is what happens to that call's result.
      // The explaining hop is the user's make_unique call, not the
      // construction inside the library.
      if (isMakeSmartPointer(*Fn) && It.Hops.size() <= Options.CallDepth)
        for (const Expr *Site : TuIndex::get(Ctx).callSitesOf(*Fn)) {
          std::vector<const Expr *> Hops = It.Hops;
          if (!Hops.empty())
            Hops.back() = Site;
          else
            Hops.push_back(Site);
          Work.push_back({Site, std::move(Hops)});
        }
      continue;
    }
    if (isUnanalyzable(*Fn))
      continue;
    // Dies within one iteration of a loop of this function?
    if (const Stmt *Loop = enclosingLoop(*It.Value, Ctx))
      if (fate(*It.Value, *Loop, *Fn) == ValueFate::Dies) {
        if (Kind != RepeatKind::Loop)
          continue; // the loop check's finding
        RepeatedCreation Found;
        Found.Loop = Loop;
        Found.Hops = std::move(It.Hops);
        return Found;
      }
    switch (fate(*It.Value, *Fn->getBody(), *Fn)) {
    case ValueFate::Dies:
      // A temporary client per call of Fn: what calls Fn repeatedly?
      if (std::optional<RepeatedCreation> Found =
              repeatingCaller(*Fn, Kind, It.Hops, 0))
        return Found;
      break;
    case ValueFate::Returned:
    case ValueFate::KeptByObject:
      // Handed to the caller, or kept in the object being constructed:
      // follow it at every call or construction site.
      if (It.Hops.size() >= Options.CallDepth)
        break;
      for (const Expr *Site : TuIndex::get(Ctx).callSitesOf(*Fn)) {
        std::vector<const Expr *> Hops = It.Hops;
        Hops.push_back(Site);
        Work.push_back({Site, std::move(Hops)});
      }
      break;
    case ValueFate::Escapes:
      break;
    }
  }
  return std::nullopt;
}

} // namespace grpcleak
