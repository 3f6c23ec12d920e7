//===- Repetition.cpp - Code that runs repeatedly, values that do not last -===//

#include "grpcleak/Repetition.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/StmtCXX.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;

namespace grpcleak {

const Stmt *enclosingLoop(const Stmt &S, ASTContext &Ctx) {
  DynTypedNode Child = DynTypedNode::create(S);
  DynTypedNodeList Parents = Ctx.getParents(S);
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
    } else if (P.get<WhileStmt>() || P.get<DoStmt>()) {
      return P.get<Stmt>();
    }
    Child = P;
    Parents = Ctx.getParents(P);
  }
  return nullptr;
}

SourceLocation loopKeywordLoc(const Stmt &Loop) { return Loop.getBeginLoc(); }

namespace {

class RefCollector : public RecursiveASTVisitor<RefCollector> {
public:
  explicit RefCollector(const VarDecl &Var) : Var(Var) {}
  bool VisitDeclRefExpr(DeclRefExpr *Ref) {
    if (Ref->getDecl() == &Var)
      Refs.push_back(Ref);
    return true;
  }
  const VarDecl &Var;
  llvm::SmallVector<const DeclRefExpr *, 8> Refs;
};

/// Follows one value through the uses that keep it within the iteration.
class ValueFollower {
public:
  ValueFollower(const Stmt &Loop, ASTContext &Ctx,
                llvm::SmallVectorImpl<const VarDecl *> &Holders)
      : Loop(Loop), Ctx(Ctx), Holders(Holders) {}

  /// True if the value of \p E may outlive the iteration.
  bool mayOutlive(const Expr &E) {
    if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(&E))
      if (Ref->refersToEnclosingVariableOrCapture())
        return true; // used inside a lambda: the lambda may be kept
    const Expr *Current = &E;
    while (true) {
      DynTypedNodeList Parents = Ctx.getParents(*Current);
      if (Parents.size() != 1)
        return true;
      const DynTypedNode &P = Parents[0];
      if (const auto *V = P.get<VarDecl>())
        return holdsFor(V) ? mayOutliveVar(*V) : true;
      const auto *S = P.get<Stmt>();
      if (!S)
        return true;
      if (llvm::isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                    CXXBindTemporaryExpr, ExprWithCleanups,
                    CXXFunctionalCastExpr, CStyleCastExpr, CXXStaticCastExpr,
                    ConditionalOperator>(S)) {
        Current = llvm::cast<Expr>(S);
        continue;
      }
      if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(S)) {
        // A stub keeps the channel: follow the stub. A smart pointer copy or
        // conversion is the same value.
        const CXXRecordDecl *RD = Construct->getConstructor()->getParent();
        if (isStubFactoryCall(Construct) ||
            (Construct->getNumArgs() == 1 &&
             (hasQualifiedName(RD, "::std::shared_ptr") ||
              hasQualifiedName(RD, "::std::unique_ptr")))) {
          Current = Construct;
          continue;
        }
        return true;
      }
      if (const auto *Member = llvm::dyn_cast<MemberExpr>(S)) {
        // A method call on the value is a use; release() hands it away.
        const auto *MD = llvm::dyn_cast<CXXMethodDecl>(Member->getMemberDecl());
        return MD && MD->getIdentifier() && MD->getName() == "release";
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
          return mayOutliveThroughOperator(*Op, *Current);
        return true; // a function that may keep it
      }
      if (const auto *U = llvm::dyn_cast<UnaryOperator>(S))
        return U->getOpcode() == UO_AddrOf;
      if (const auto *B = llvm::dyn_cast<BinaryOperator>(S)) {
        if (!B->isAssignmentOp())
          return false; // compared
        return B->getLHS() == Current ? false : assignedTo(B->getLHS());
      }
      if (llvm::isa<IfStmt, WhileStmt, DoStmt, ForStmt, SwitchStmt>(S))
        return false; // tested in a condition
      if (llvm::isa<CompoundStmt>(S))
        return false; // evaluated and discarded
      return true; // returned, captured, put in a list, anything else
    }
  }

private:
  bool mayOutliveThroughOperator(const CXXOperatorCallExpr &Op,
                                 const Expr &Current) {
    switch (Op.getOperator()) {
    case OO_Arrow:
    case OO_Star:
    case OO_EqualEqual:
    case OO_ExclaimEqual:
    case OO_Exclaim:
      return false; // used
    case OO_Equal:
      if (Op.getArg(0) == &Current)
        return false; // the holder gets a new value
      return assignedTo(Op.getArg(0));
    default:
      return true;
    }
  }

  bool assignedTo(const Expr *Target) {
    const VarDecl *V = referencedVar(Target);
    return V && holdsFor(V) ? mayOutliveVar(*V) : true;
  }

  /// True if \p V is a local that lives within one iteration of the loop.
  bool holdsFor(const VarDecl *V) {
    if (!isAutomaticLocal(V) || V->isStaticLocal())
      return false;
    DynTypedNodeList Parents = Ctx.getParents(*V);
    while (!Parents.empty()) {
      const DynTypedNode &P = Parents[0];
      if (P.get<Stmt>() == &Loop)
        return true;
      if (P.get<FunctionDecl>() || P.get<LambdaExpr>())
        return false;
      Parents = Ctx.getParents(P);
    }
    return false;
  }

  bool mayOutliveVar(const VarDecl &V) {
    if (!Seen.insert(&V).second)
      return false;
    Holders.push_back(&V);
    RefCollector Collector(V);
    Collector.TraverseStmt(const_cast<Stmt *>(&Loop));
    for (const DeclRefExpr *Ref : Collector.Refs)
      if (mayOutlive(*Ref))
        return true;
    return false;
  }

  const Stmt &Loop;
  ASTContext &Ctx;
  llvm::SmallVectorImpl<const VarDecl *> &Holders;
  llvm::SmallPtrSet<const VarDecl *, 4> Seen;
};

} // namespace

bool mayOutliveIteration(const Expr &Creation, const Stmt &Loop,
                         ASTContext &Ctx,
                         llvm::SmallVectorImpl<const VarDecl *> &Holders) {
  return ValueFollower(Loop, Ctx, Holders).mayOutlive(Creation);
}

} // namespace grpcleak
