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

std::optional<uint64_t> constantTripCount(const Stmt &Loop,
                                          const ASTContext &Ctx) {
  const auto *For = llvm::dyn_cast<ForStmt>(&Loop);
  if (!For || !For->getInit() || !For->getCond() || !For->getInc())
    return std::nullopt;
  auto Constant = [&](const Expr *E) -> std::optional<int64_t> {
    Expr::EvalResult Result;
    if (!E || E->isValueDependent() || !E->EvaluateAsInt(Result, Ctx) ||
        Result.Val.getInt().getSignificantBits() > 62)
      return std::nullopt;
    return Result.Val.getInt().getExtValue();
  };
  // The counter and where it starts: `int i = A` or `i = A`.
  const VarDecl *Counter = nullptr;
  const Expr *Start = nullptr;
  if (const auto *Decl = llvm::dyn_cast<DeclStmt>(For->getInit())) {
    if (Decl->isSingleDecl())
      if ((Counter = llvm::dyn_cast<VarDecl>(Decl->getSingleDecl())))
        Start = Counter->getInit();
  } else if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(For->getInit())) {
    if (Assign->getOpcode() == BO_Assign) {
      Counter = referencedVar(Assign->getLHS());
      Start = Assign->getRHS();
    }
  }
  if (!Counter || !Counter->getType()->isIntegerType())
    return std::nullopt;
  std::optional<int64_t> From = Constant(Start);
  // The step: ++i, i++, --i, i--, i += k, i -= k.
  std::optional<int64_t> Step;
  const Expr *Inc = For->getInc()->IgnoreParenImpCasts();
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Inc)) {
    if (U->isIncrementDecrementOp() && referencedVar(U->getSubExpr()) == Counter)
      Step = U->isIncrementOp() ? 1 : -1;
  } else if (const auto *C = llvm::dyn_cast<CompoundAssignOperator>(Inc)) {
    std::optional<int64_t> By = Constant(C->getRHS());
    if (By && referencedVar(C->getLHS()) == Counter &&
        (C->getOpcode() == BO_AddAssign || C->getOpcode() == BO_SubAssign))
      Step = C->getOpcode() == BO_AddAssign ? *By : -*By;
  }
  // The condition: the counter compared with a constant bound.
  const auto *Cond =
      llvm::dyn_cast<BinaryOperator>(For->getCond()->IgnoreParenImpCasts());
  if (!From || !Step || *Step == 0 || !Cond || !Cond->isComparisonOp())
    return std::nullopt;
  BinaryOperatorKind Op = Cond->getOpcode();
  std::optional<int64_t> To;
  if (referencedVar(Cond->getLHS()) == Counter) {
    To = Constant(Cond->getRHS());
  } else if (referencedVar(Cond->getRHS()) == Counter) {
    To = Constant(Cond->getLHS());
    Op = BinaryOperator::reverseComparisonOp(Op);
  }
  if (!To)
    return std::nullopt;
  // Iterations of `for (i = A; i Op B; i += Step)`.
  int64_t A = *From, B = *To, K = *Step, Count = 0;
  auto CeilDiv = [](int64_t N, int64_t D) { return N <= 0 ? 0 : (N + D - 1) / D; };
  switch (Op) {
  case BO_LT:
    if (K < 0)
      return std::nullopt;
    Count = CeilDiv(B - A, K);
    break;
  case BO_LE:
    if (K < 0)
      return std::nullopt;
    Count = CeilDiv(B - A + 1, K);
    break;
  case BO_GT:
    if (K > 0)
      return std::nullopt;
    Count = CeilDiv(A - B, -K);
    break;
  case BO_GE:
    if (K > 0)
      return std::nullopt;
    Count = CeilDiv(A - B + 1, -K);
    break;
  case BO_NE:
    if ((B - A) % K != 0 || (B - A) / K < 0)
      return std::nullopt;
    Count = (B - A) / K;
    break;
  default:
    return std::nullopt;
  }
  // The body only reads the counter: every reference to it is loaded.
  unsigned Refs = 0, Reads = 0;
  anyStatement(For->getBody(), [&](const Stmt &S) {
    if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(&S))
      Refs += Ref->getDecl() == Counter;
    if (const auto *Cast = llvm::dyn_cast<ImplicitCastExpr>(&S))
      if (Cast->getCastKind() == CK_LValueToRValue)
        Reads += referencedVar(Cast->getSubExpr()) == Counter &&
                 llvm::isa<DeclRefExpr>(Cast->getSubExpr()->IgnoreParens());
    return false;
  });
  if (Refs != Reads)
    return std::nullopt;
  return static_cast<uint64_t>(Count);
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

/// Clang gives a default member initialiser's expression the field as
/// parent, or the CXXDefaultInitExpr of a constructor that uses it.
const FieldDecl *defaultInitialisedField(const Expr &E, ASTContext &Ctx) {
  DynTypedNode Child = DynTypedNode::create(E);
  ParentList Parents = parentsOf(Ctx, E);
  while (Parents.size() == 1) {
    const DynTypedNode &P = Parents[0];
    if (const auto *Field = P.get<FieldDecl>())
      return Field->getInClassInitializer() == Child.get<Expr>() ? Field
                                                                 : nullptr;
    if (const auto *Default = P.get<CXXDefaultInitExpr>())
      return Default->getField();
    if (P.get<LambdaExpr>() || P.get<BlockExpr>() || P.get<Decl>())
      return nullptr;
    Child = P;
    Parents = parentsOf(Ctx, P);
  }
  return nullptr;
}

namespace {

/// The constructors of \p Field's class that leave it to its default
/// member initialiser (the ones that do not initialise it themselves).
llvm::SmallVector<const CXXConstructorDecl *, 2>
defaultInitialisingCtors(const FieldDecl &Field) {
  llvm::SmallVector<const CXXConstructorDecl *, 2> Result;
  const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Field.getParent());
  if (!Class || Class->isDependentContext())
    return Result;
  for (const CXXConstructorDecl *Ctor : Class->ctors()) {
    const FunctionDecl *Def = nullptr;
    if (!Ctor->isDefined(Def))
      continue;
    const auto *CtorDef = llvm::cast<CXXConstructorDecl>(Def);
    for (const CXXCtorInitializer *Init : CtorDef->inits())
      if (Init->getMember() == &Field && Init->getInit() &&
          llvm::isa<CXXDefaultInitExpr>(Init->getInit()->IgnoreImplicit()))
        Result.push_back(CtorDef);
  }
  return Result;
}

/// The calls and constructions of a body that run when it runs: not those
/// in the lambdas it defines.
class CallCollector : public RecursiveASTVisitor<CallCollector> {
public:
  bool TraverseLambdaExpr(LambdaExpr *) { return true; }
  bool VisitCallExpr(CallExpr *Call) {
    Calls.push_back(Call);
    return true;
  }
  bool VisitCXXConstructExpr(CXXConstructExpr *Construct) {
    Calls.push_back(Construct);
    return true;
  }
  llvm::SmallVector<const Expr *, 16> Calls;
};

/// The accesses `P->Field` to one field through one pointer variable.
class FieldAccessCollector : public RecursiveASTVisitor<FieldAccessCollector> {
public:
  FieldAccessCollector(const VarDecl &Pointer, const ValueDecl &Field)
      : Pointer(Pointer), Field(Field) {}
  bool VisitMemberExpr(MemberExpr *Member) {
    if (Member->getMemberDecl() == &Field &&
        referencedVar(Member->getBase()) == &Pointer)
      Accesses.push_back(Member);
    return true;
  }
  const VarDecl &Pointer;
  const ValueDecl &Field;
  llvm::SmallVector<const MemberExpr *, 4> Accesses;
};

bool isDeleteOfThis(const Stmt &S) {
  const auto *Delete = llvm::dyn_cast<CXXDeleteExpr>(&S);
  return Delete &&
         llvm::isa<CXXThisExpr>(Delete->getArgument()->IgnoreParenImpCasts());
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
      // A constructor's initialiser (of a member, a base, or the delegated
      // constructor): its expression hangs off the constructor itself in
      // Clang's parent map. The object being built keeps the value.
      if (const auto *Ctor = P.get<CXXConstructorDecl>()) {
        for (const CXXCtorInitializer *Init : Ctor->inits())
          if (Init->getInit() == Current)
            return Ctor == &Fn ? ValueFate::KeptByObject : ValueFate::Escapes;
        return ValueFate::Escapes;
      }
      // A default member initialiser: it runs in the constructors (Fn is
      // one of them) that build the object, which keeps the value.
      if (const auto *Field = P.get<FieldDecl>())
        return Field->getInClassInitializer() == Current &&
                       llvm::isa<CXXConstructorDecl>(&Fn)
                   ? ValueFate::KeptByObject
                   : ValueFate::Escapes;
      const auto *S = P.get<Stmt>();
      if (!S)
        return ValueFate::Escapes;
      if (llvm::isa<CXXDefaultInitExpr>(S))
        return llvm::isa<CXXConstructorDecl>(&Fn) ? ValueFate::KeptByObject
                                                  : ValueFate::Escapes;
      if (const auto *New = llvm::dyn_cast<CXXNewExpr>(S))
        return New->getInitializer() == Current ? heapObjectFate(*New)
                                                : ValueFate::Escapes;
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
    if (isMemberOfThis(Target)) {
      if (llvm::isa<CXXConstructorDecl>(&Fn))
        return ValueFate::KeptByObject;
      // A member of an object that lives for one request dies with it.
      const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn);
      if (!Analysis.RequestObjects || !Method || !Method->isInstance() ||
          !Analysis.isPerRequestObject(*Method->getParent()))
        return ValueFate::Escapes;
      noteEnd(Analysis.deletesItself(*Method->getParent()), Method->getParent(),
              nullptr);
      return ValueFate::Dies;
    }
    // A member of a heap object that lives for one call of Fn (`call->stub =
    // ...` with `delete call` in the completion callback).
    if (const auto *Member = llvm::dyn_cast<MemberExpr>(stripValue(Target)))
      if (Member->isArrow() && Analysis.RequestObjects)
        if (const VarDecl *Holder = referencedVar(Member->getBase()))
          if (heapHolderEnds(*Holder))
            return fieldFate(*Holder, *Member->getMemberDecl());
    const VarDecl *V = referencedVar(Target);
    return V && holds(V) ? followVar(*V) : ValueFate::Escapes;
  }

  /// The value is kept by the object \p New allocates. In request mode, at
  /// function scope, an object that deletes itself, or that a local pointer
  /// holds and Fn or its callback deletes, dies with the request.
  ValueFate heapObjectFate(const CXXNewExpr &New) {
    if (!Analysis.RequestObjects || New.isArray())
      return ValueFate::Escapes;
    ParentList Parents = parentsOf(Ctx, New);
    const Expr *Current = &New;
    while (Parents.size() == 1 &&
           (Parents[0].get<ImplicitCastExpr>() || Parents[0].get<ParenExpr>())) {
      Current = Parents[0].get<Expr>();
      Parents = parentsOf(Ctx, *Current);
    }
    if (Parents.size() != 1)
      return ValueFate::Escapes;
    const auto *Holder = Parents[0].get<VarDecl>();
    // Kept in a member or a global (a session made once, lazily): not an
    // object per call, whatever ends it.
    if ((Holder && !holds(Holder)) || Parents[0].get<CXXConstructorDecl>() ||
        Parents[0].get<FieldDecl>())
      return ValueFate::Escapes;
    if (const auto *Assign = Parents[0].get<BinaryOperator>())
      if (Assign->isAssignmentOp()) {
        const VarDecl *Target = referencedVar(Assign->getLHS());
        if (!Target || !holds(Target))
          return ValueFate::Escapes;
      }
    const CXXRecordDecl *Class = New.getAllocatedType()->getAsCXXRecordDecl();
    if (const CXXDeleteExpr *Delete =
            Class ? Analysis.deletesItself(*Class) : nullptr) {
      noteEnd(Delete, Class, nullptr);
      return ValueFate::Dies;
    }
    return Holder && heapHolderEnds(*Holder) ? ValueFate::Dies
                                             : ValueFate::Escapes;
  }

  /// True if \p Holder is a local pointer, initialised by `new T`, to an
  /// object that lives for one call of Fn: T deletes itself, or Fn (or a
  /// lambda in it, such as the RPC's completion callback) deletes it and
  /// does nothing else with the pointer than access members and capture it.
  bool heapHolderEnds(const VarDecl &Holder) {
    if (!holds(&Holder) || !Holder.getType()->isPointerType() ||
        !Holder.getInit())
      return false;
    const auto *New = llvm::dyn_cast<CXXNewExpr>(stripValue(Holder.getInit()));
    if (!New || New->isArray())
      return false;
    const CXXRecordDecl *Class = New->getAllocatedType()->getAsCXXRecordDecl();
    if (const CXXDeleteExpr *Delete =
            Class ? Analysis.deletesItself(*Class) : nullptr) {
      noteEnd(Delete, Class, nullptr);
      return true;
    }
    RefCollector Collector(Holder);
    Collector.TraverseStmt(Fn.getBody());
    const CXXDeleteExpr *Deleted = nullptr;
    for (const DeclRefExpr *Ref : Collector.Refs) {
      const Expr *Use = Ref;
      ParentList Parents = parentsOf(Ctx, *Use);
      while (Parents.size() == 1 &&
             (Parents[0].get<ImplicitCastExpr>() || Parents[0].get<ParenExpr>())) {
        Use = Parents[0].get<Expr>();
        Parents = parentsOf(Ctx, *Use);
      }
      if (Parents.size() != 1)
        return false;
      if (const auto *Member = Parents[0].get<MemberExpr>())
        if (Member->getBase() == Use)
          continue;
      if (const auto *Delete = Parents[0].get<CXXDeleteExpr>()) {
        Deleted = Deleted ? Deleted : Delete;
        continue;
      }
      if (Parents[0].get<LambdaExpr>())
        continue; // captured by copy
      return false;
    }
    if (Deleted)
      noteEnd(Deleted, nullptr, &Holder);
    return Deleted != nullptr;
  }

  void noteEnd(const CXXDeleteExpr *Delete, const CXXRecordDecl *Class,
               const VarDecl *Holder) {
    if (!Analysis.PendingEnd.Delete)
      Analysis.PendingEnd = {Delete, Class, Holder, 0};
  }

  /// What happens to a value stored in \p Field of the object \p Holder
  /// points to: every access to that field in Fn must only use it.
  ValueFate fieldFate(const VarDecl &Holder, const ValueDecl &Field) {
    FieldAccessCollector Collector(Holder, Field);
    Collector.TraverseStmt(Fn.getBody());
    for (const MemberExpr *Access : Collector.Accesses)
      if (follow(*Access) != ValueFate::Dies)
        return ValueFate::Escapes;
    return ValueFate::Dies;
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
  auto Key = std::make_pair(Def, Index * 2 + (RequestObjects ? 1 : 0));
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

bool RepetitionAnalysis::isRequestEntry(const FunctionDecl &Fn) {
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
  // A step of an async call-data object: runs once per event of the
  // request the object serves. The step is the method that arms the request
  // or that is run from outside the class (from the completion-queue loop,
  // wherever it is); a method only the class's own methods call is a helper
  // of theirs (followed up to them), and its constructors and destructor
  // are not steps (a pool builds its call objects once).
  if (Options.TreatCqLoopCalleesAsHandlers && Method->isInstance() &&
      !llvm::isa<CXXConstructorDecl, CXXDestructorDecl>(Method) &&
      isRequestStepClass(*Method->getParent())) {
    if (ArmingFunctions.contains(Method->getCanonicalDecl()))
      return true;
    const CXXRecordDecl *Class = Method->getParent();
    auto SameObject = [Class](const CXXRecordDecl &Other) {
      auto Is = [Class](const CXXRecordDecl &RD) {
        return RD.getCanonicalDecl() == Class->getCanonicalDecl();
      };
      auto IsOther = [&Other](const CXXRecordDecl &RD) {
        return RD.getCanonicalDecl() == Other.getCanonicalDecl();
      };
      return Is(Other) || derivesFrom(Other, Is) || derivesFrom(*Class, IsOther);
    };
    auto Sites = TuIndex::get(Ctx).callSitesOf(*Method);
    bool FromOutside = Sites.empty() || llvm::any_of(Sites, [&](const Expr *Site) {
      const auto *Caller =
          llvm::dyn_cast_or_null<CXXMethodDecl>(enclosingCallable(*Site, Ctx));
      return !Caller || !SameObject(*Caller->getParent());
    });
    if (FromOutside)
      return true;
  }
  if (!Options.TreatReactionsAsHandlers)
    return false;
  // A reactor reaction runs once per event of one RPC.
  return isReaction(*Method);
}

void RepetitionAnalysis::collectRequestSteps() {
  if (StepsCollected)
    return;
  StepsCollected = true;
  for (const TuIndex::AsyncRequestCall &Call :
       TuIndex::get(Ctx).asyncRequestCalls())
    resolveTag(*Call.Tag, 0);
}

/// The classes whose objects \p Tag may point to: its pointee type, or,
/// for a `void*` parameter of a helper or lambda (a request method reached
/// through a std::function), the arguments given at its call sites.
void RepetitionAnalysis::resolveTag(const Expr &Tag, unsigned Depth) {
  const Expr *E = Tag.IgnoreParenCasts();
  if (llvm::isa<CXXThisExpr>(E))
    if (const FunctionDecl *Fn = enclosingCallable(*E, Ctx))
      ArmingFunctions.insert(Fn->getCanonicalDecl());
  QualType Type = E->getType();
  if (Type->isPointerType() && !Type->isVoidPointerType()) {
    if (const CXXRecordDecl *Class = Type->getPointeeType()->getAsCXXRecordDecl())
      StepClasses.insert(Class->getCanonicalDecl());
    return;
  }
  const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E);
  const auto *Param = Ref ? llvm::dyn_cast<ParmVarDecl>(Ref->getDecl()) : nullptr;
  const auto *Fn =
      Param ? llvm::dyn_cast<FunctionDecl>(Param->getDeclContext()) : nullptr;
  if (!Fn || Depth >= Options.CallDepth)
    return;
  unsigned Index = Param->getFunctionScopeIndex();
  for (const Expr *Site : TuIndex::get(Ctx).callSitesOf(*Fn)) {
    const auto *Call = llvm::dyn_cast<CallExpr>(Site);
    if (!Call)
      continue;
    // A call operator's first argument is the object called.
    unsigned Arg = Index + (llvm::isa<CXXOperatorCallExpr>(Call) ? 1 : 0);
    if (Arg < Call->getNumArgs())
      resolveTag(*Call->getArg(Arg), Depth + 1);
  }
}

bool RepetitionAnalysis::isRequestStepClass(const CXXRecordDecl &Class) {
  collectRequestSteps();
  if (StepClasses.empty())
    return false;
  auto IsStep = [&](const CXXRecordDecl &RD) {
    return StepClasses.contains(RD.getCanonicalDecl());
  };
  return IsStep(Class) || derivesFrom(Class, IsStep);
}

const CXXDeleteExpr *
RepetitionAnalysis::deletesItself(const CXXRecordDecl &Class) {
  const CXXRecordDecl *Def = Class.getDefinition();
  if (!Def)
    return nullptr;
  auto [It, Inserted] = SelfDeleting.try_emplace(Def->getCanonicalDecl(), nullptr);
  if (!Inserted)
    return It->second;
  const CXXDeleteExpr *Found = nullptr;
  auto HasDeleteThis = [&Found](const CXXRecordDecl &RD) {
    const CXXRecordDecl *RDef = RD.getDefinition();
    if (!RDef)
      return false;
    for (const CXXMethodDecl *Method : RDef->methods()) {
      const FunctionDecl *Body = nullptr;
      if (Method->hasBody(Body) && Body &&
          anyStatement(Body->getBody(), [&Found](const Stmt &S) {
            if (!isDeleteOfThis(S))
              return false;
            Found = llvm::cast<CXXDeleteExpr>(&S);
            return true;
          }))
        return true;
    }
    return false;
  };
  if (!HasDeleteThis(*Def))
    derivesFrom(*Def, HasDeleteThis);
  SelfDeleting[Def->getCanonicalDecl()] = Found;
  return Found;
}

/// An object that lives for one request: a server reactor or an async
/// call-data object that deletes itself when the request is done.
bool RepetitionAnalysis::isPerRequestObject(const CXXRecordDecl &Class) {
  if (deletesItself(Class) == nullptr)
    return false;
  std::optional<ReactorBase> Reactor = reactorBaseOf(Class);
  return (Reactor && Reactor->Side == ReactorSide::Server) ||
         isRequestStepClass(Class);
}

const Stmt *RepetitionAnalysis::repeatingLoop(const Stmt &S) {
  const Stmt *Loop = enclosingLoop(S, Ctx);
  while (Loop) {
    std::optional<uint64_t> Trips = constantTripCount(*Loop, Ctx);
    if (!Trips || *Trips >= Options.MinLoopTripCount)
      return Loop;
    Loop = enclosingLoop(*Loop, Ctx);
  }
  return nullptr;
}

bool RepetitionAnalysis::createsPerCall(const FunctionDecl &Fn) {
  return perCall(Fn, 0) != PerCall::No;
}

RepetitionAnalysis::PerCall
RepetitionAnalysis::perCall(const FunctionDecl &Fn, unsigned Depth) {
  const FunctionDecl *Def = nullptr;
  if (!Fn.hasBody(Def) || !Def || isUnanalyzable(*Def) ||
      isStandardLibrary(*Def) || Depth > Options.CallDepth)
    return PerCall::No;
  auto [It, Inserted] = PerCallCache.try_emplace(Def, PerCall::No);
  if (!Inserted)
    return It->second; // known, or recursion (conservative)
  const TuIndex &Index = TuIndex::get(Ctx);
  CallCollector Collector;
  Collector.TraverseStmt(Def->getBody());
  PerCall Result = PerCall::No;
  for (const Expr *E : Collector.Calls) {
    bool Fresh = Options.IsCreation
                     ? Options.IsCreation(*E)
                     : llvm::isa<CallExpr>(E) &&
                           isChannelFactory(
                               llvm::cast<CallExpr>(E)->getDirectCallee());
    if (!Fresh) {
      // A call whose every possible callee makes a client: returns it to us
      // (then its fate here decides), or lets it die inside.
      if (!llvm::isa<CallExpr>(E))
        continue;
      auto Callees = Index.possibleCallees(*E);
      if (Callees.empty())
        continue;
      bool AllReturn = true, AllCreate = true;
      for (const FunctionDecl *Callee : Callees) {
        PerCall Inner = perCall(*Callee, Depth + 1);
        AllReturn &= Inner == PerCall::Returns;
        AllCreate &= Inner != PerCall::No;
      }
      if (!AllCreate)
        continue;
      if (!AllReturn) {
        Result = PerCall::Dies;
        continue;
      }
    }
    ValueFate Fate = fate(*E, *Def->getBody(), *Def);
    if (Fate == ValueFate::Returned) {
      Result = PerCall::Returns;
      break;
    }
    if (Fate == ValueFate::Dies)
      Result = PerCall::Dies;
  }
  PerCallCache[Def] = Result;
  return Result;
}

/// True unless \p Site is an indirect call (virtual, or of a std::function)
/// that may run \p Reached or another function that does not make a new
/// client on each call: then whether it repeats a creation depends on which
/// one runs, which the TU does not say.
bool RepetitionAnalysis::everyCalleeCreates(const Expr &Site,
                                            const FunctionDecl &Reached) {
  auto Callees = TuIndex::get(Ctx).possibleCallees(Site);
  const FunctionDecl *Canonical = Reached.getCanonicalDecl();
  auto IsReached = [&](const FunctionDecl *Callee) {
    return Callee->getCanonicalDecl() == Canonical;
  };
  if (!llvm::any_of(Callees, IsReached))
    return true; // a construction by make_unique, an algorithm's functor
  return llvm::all_of(Callees, [&](const FunctionDecl *Callee) {
    return IsReached(Callee) || createsPerCall(*Callee);
  });
}

std::optional<RepeatedCreation>
RepetitionAnalysis::repeatingCaller(const FunctionDecl &Fn, RepeatKind Kind,
                                    std::vector<Hop> Hops, unsigned Depth) {
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
    if (!everyCalleeCreates(*Site, Fn))
      continue;
    // Where the site runs: its function; for a member or base built
    // implicitly, the constructor; in a default member initialiser, every
    // constructor that uses it.
    llvm::SmallVector<const FunctionDecl *, 2> Callers;
    const Stmt *Loop = nullptr;
    if (std::optional<TuIndex::ImplicitInit> Init = Index.implicitInitOf(*Site)) {
      Callers.push_back(Init->Ctor);
    } else if (const FieldDecl *Field = defaultInitialisedField(*Site, Ctx)) {
      for (const CXXConstructorDecl *Ctor : defaultInitialisingCtors(*Field))
        Callers.push_back(Ctor);
    } else {
      // Inside the standard library (a std algorithm calling its functor):
      // the algorithm's own call site, indexed as repeating, explains it.
      const FunctionDecl *SiteFn = enclosingCallable(*Site, Ctx);
      if (SiteFn && isStandardLibrary(*SiteFn))
        continue;
      if (SiteFn)
        Callers.push_back(SiteFn);
      Loop = Index.isRepeatingSite(Site) ? Site : repeatingLoop(*Site);
    }
    std::vector<Hop> Path = Hops;
    Path.push_back({Site, &Fn});
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
    for (const FunctionDecl *Caller : Callers) {
      if (Loop && Kind == RepeatKind::Request) {
        if (!Options.TreatCqLoopCalleesAsHandlers)
          break;
        RepeatedCreation Found;
        Found.Kind = Kind;
        Found.Handler = Caller;
        Found.Loop = Loop;
        Found.Hops = std::move(Path);
        return Found;
      }
      if (std::optional<RepeatedCreation> Found =
              repeatingCaller(*Caller, Kind, Path, Depth + 1))
        return Found;
    }
  }
  return std::nullopt;
}

std::optional<RepeatedCreation>
RepetitionAnalysis::find(const Expr &Creation, RepeatKind Kind) {
  struct Item {
    const Expr *Value;
    std::vector<Hop> Hops;
  };
  const TuIndex &Index = TuIndex::get(Ctx);
  std::deque<Item> Work;
  Work.push_back({&Creation, {}});
  llvm::SmallPtrSet<const Expr *, 8> Visited;
  // The value is handed to the caller, or kept in the object being
  // constructed: follow it at every call or construction site.
  auto FollowSites = [&](const FunctionDecl &Fn, const std::vector<Hop> &Hops) {
    if (Hops.size() >= Options.CallDepth)
      return;
    for (const Expr *Site : Index.callSitesOf(Fn)) {
      if (!everyCalleeCreates(*Site, Fn))
        continue;
      std::vector<Hop> Next = Hops;
      Next.push_back({Site, &Fn});
      Work.push_back({Site, std::move(Next)});
    }
  };
  struct ResetMode {
    bool &Flag;
    ~ResetMode() { Flag = false; }
  } Reset{RequestObjects};
  while (!Work.empty()) {
    Item It = std::move(Work.front());
    Work.pop_front();
    if (!Visited.insert(It.Value).second)
      continue;
    RequestObjects = false;
    // A member or base that a constructor builds without the user writing
    // it: the object being built keeps it.
    if (std::optional<TuIndex::ImplicitInit> Init = Index.implicitInitOf(*It.Value)) {
      if (!isUnanalyzable(*Init->Ctor))
        FollowSites(*Init->Ctor, It.Hops);
      continue;
    }
    // A default member initialiser runs in each constructor that does not
    // initialise that member itself.
    if (const FieldDecl *Field = defaultInitialisedField(*It.Value, Ctx)) {
      auto Ctors = defaultInitialisingCtors(*Field);
      if (Ctors.empty() || !Field->getInClassInitializer() ||
          Field->getInClassInitializer()->containsErrors())
        continue;
      ValueFate Fate = fate(*It.Value, *Field->getInClassInitializer(), *Ctors[0]);
      for (const CXXConstructorDecl *Ctor : Ctors) {
        if (Fate == ValueFate::KeptByObject)
          FollowSites(*Ctor, It.Hops);
        else if (Fate == ValueFate::Dies)
          if (std::optional<RepeatedCreation> Found =
                  repeatingCaller(*Ctor, Kind, It.Hops, 0))
            return Found;
      }
      continue;
    }
    const FunctionDecl *Fn = enclosingCallable(*It.Value, Ctx);
    if (!Fn)
      continue;
    if (isStandardLibrary(*Fn)) {
      // An object built inside std::make_unique<T>/make_shared<T>: what
      // happens to it is what happens to that call's result.
      // The explaining hop is the user's make_unique call, not the
      // construction inside the library.
      if (isMakeSmartPointer(*Fn) && It.Hops.size() <= Options.CallDepth)
        for (const Expr *Site : Index.callSitesOf(*Fn)) {
          std::vector<Hop> Hops = It.Hops;
          if (!Hops.empty())
            Hops.back().Site = Site;
          else
            Hops.push_back({Site, Fn});
          Work.push_back({Site, std::move(Hops)});
        }
      continue;
    }
    if (isUnanalyzable(*Fn))
      continue;
    // Dies within one iteration of a loop of this function?
    if (const Stmt *Loop = repeatingLoop(*It.Value))
      if (fate(*It.Value, *Loop, *Fn) == ValueFate::Dies) {
        if (Kind != RepeatKind::Loop)
          continue; // the loop check's finding
        RepeatedCreation Found;
        Found.Loop = Loop;
        Found.Hops = std::move(It.Hops);
        return Found;
      }
    // In request mode an object that lives for one request dies with it.
    RequestObjects = Kind == RepeatKind::Request;
    PendingEnd = {};
    ValueFate Fate = fate(*It.Value, *Fn->getBody(), *Fn);
    RequestObjects = false;
    RepeatedCreation::ObjectEnd End = PendingEnd;
    End.AfterHops = It.Hops.size();
    switch (Fate) {
    case ValueFate::Dies:
      // A temporary client per call of Fn: what calls Fn repeatedly?
      if (std::optional<RepeatedCreation> Found =
              repeatingCaller(*Fn, Kind, It.Hops, 0)) {
        Found->End = End;
        return Found;
      }
      break;
    case ValueFate::Returned:
    case ValueFate::KeptByObject:
      FollowSites(*Fn, It.Hops);
      break;
    case ValueFate::Escapes:
      break;
    }
  }
  return std::nullopt;
}

} // namespace grpcleak
