//===- DeadlineAnalysis.cpp - Is a deadline set before the RPC starts? -----===//

#include "grpcleak/DeadlineAnalysis.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"

using namespace clang;

namespace grpcleak {

bool refersToContext(const Expr *E, const VarDecl *Context) {
  if (!E || !Context)
    return false;
  E = stripValue(E);
  if (isRefTo(E, Context))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref)
      return refersToContext(U->getSubExpr(), Context);
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(E))
    if ((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
        Op->getNumArgs() >= 1)
      return isRefTo(Op->getArg(0), Context);
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(E))
    if (const CXXMethodDecl *MD = Member->getMethodDecl())
      if (MD->getIdentifier() && MD->getName() == "get")
        return isRefTo(Member->getImplicitObjectArgument(), Context);
  return false;
}

namespace {

/// True if \p E mentions a call of a method named \p Name.
bool mentionsCall(const Stmt *E, llvm::StringRef Name) {
  if (!E)
    return false;
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E))
    if (const FunctionDecl *FD = Call->getDirectCallee())
      if (FD->getIdentifier() && FD->getName() == Name)
        return true;
  for (const Stmt *Child : E->children())
    if (mentionsCall(Child, Name))
      return true;
  return false;
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

/// Looks for a deadline set on one parameter, in one function body.
class SetterFinder : public RecursiveASTVisitor<SetterFinder> {
public:
  SetterFinder(const ParmVarDecl &Param, DeadlineAnalysis &Analysis,
               unsigned Depth)
      : Param(Param), Analysis(Analysis), Depth(Depth) {}

  bool Found = false;

  bool VisitCallExpr(CallExpr *Call) {
    const Expr *Object = nullptr;
    if (isDeadlineSetter(Call, Object) && refersToContext(Object, &Param)) {
      Found = true;
      return false;
    }
    const FunctionDecl *Callee = Call->getDirectCallee();
    for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I) {
      if (!refersToContext(Call->getArg(I), &Param) || !Callee ||
          classifyRpcStart(Call))
        continue;
      // Out of depth: assume it may set the deadline (precision first).
      if (Depth == 0 || Analysis.setsDeadline(*Callee, I, Depth)) {
        Found = true;
        return false;
      }
    }
    return true;
  }

private:
  const ParmVarDecl &Param;
  DeadlineAnalysis &Analysis;
  unsigned Depth;
};

bool matchesSetterRegex(const FunctionDecl &FD, const DeadlineOptions &Options) {
  return Options.DeadlineSetterFunctions && FD.getIdentifier() &&
         Options.DeadlineSetterFunctions->match(FD.getName());
}

bool isGrpcLibraryFunction(const FunctionDecl &FD) {
  for (const DeclContext *DC = FD.getDeclContext(); DC; DC = DC->getParent())
    if (const auto *NS = llvm::dyn_cast<NamespaceDecl>(DC))
      if (NS->getIdentifier() && NS->getName() == "grpc" &&
          NS->getDeclContext()->getRedeclContext()->isTranslationUnit())
        return true;
  return false;
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
    // Cannot look inside. gRPC's own functions do not set deadlines on a
    // context passed to them; anything else might (precision first).
    return !isGrpcLibraryFunction(FD);
  }
  if (Index >= Def->getNumParams())
    return true; // variadic: cannot tell
  auto Key = std::make_pair(Def, Index);
  auto [It, Inserted] = Summaries.try_emplace(Key, true);
  if (!Inserted)
    return It->second; // cached, or recursion (assume it may)
  SetterFinder Finder(*Def->getParamDecl(Index), *this,
                      Depth == 0 ? 0 : Depth - 1);
  Finder.TraverseStmt(Def->getBody());
  Summaries[Key] = Finder.Found;
  return Finder.Found;
}

const VarDecl *DeadlineAnalysis::localContext(const RpcStart &Start) const {
  const Expr *Arg = stripValue(Start.Context);
  const VarDecl *Var = nullptr;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Arg)) {
    if (U->getOpcode() == UO_AddrOf)
      Var = referencedVar(U->getSubExpr());
    if (Var && !isClientContextType(Var->getType()))
      return nullptr;
  } else if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Arg)) {
    const CXXMethodDecl *MD = Member->getMethodDecl();
    if (MD && MD->getIdentifier() && MD->getName() == "get")
      Var = referencedVar(Member->getImplicitObjectArgument());
    if (Var && !isClientContextOwnerType(Var->getType()))
      return nullptr;
  }
  if (!Var || !isAutomaticLocal(Var) || Var->isStaticLocal() ||
      Var->getType()->isReferenceType())
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
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return Verdict::Continue;
  const Expr *Object = nullptr;
  if (isDeadlineSetter(Call, Object))
    return refersToContext(Object, &Context) ? Verdict::Discharged
                                             : Verdict::Continue;
  // A smart-pointer context given a new value.
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
    if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
        isRefTo(Op->getArg(0), &Context))
      return Options.TrustServerContextPropagation &&
                     containsFromServerCall(Op->getArg(1))
                 ? Verdict::Discharged
                 : Verdict::Violated;
  if (classifyRpcStart(Call))
    return Verdict::Continue; // another RPC on the same context
  const FunctionDecl *Callee = Call->getDirectCallee();
  unsigned Offset = 0;
  if (llvm::isa<CXXOperatorCallExpr>(Call) && Callee &&
      llvm::isa<CXXMethodDecl>(Callee))
    Offset = 1;
  for (unsigned I = Offset, E = Call->getNumArgs(); I != E; ++I) {
    if (!refersToContext(Call->getArg(I), &Context))
      continue;
    if (!Callee || setsDeadline(*Callee, I - Offset))
      return Verdict::Discharged;
  }
  return Verdict::Continue;
}

std::optional<MissingDeadline>
DeadlineAnalysis::analyze(const RpcStart &Start, const FunctionFlow &Flow) {
  const VarDecl *Context = localContext(Start);
  if (!Context || isBoundedByConstruction(*Context))
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(*Start.Call);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) { return judge(S, *Context); };
  if (!findPathBackward(Flow, *At, Judge))
    return std::nullopt;

  MissingDeadline Finding;
  Finding.Start = Start;
  Finding.Context = Context;
  // A deadline set after the call has no effect on it: worth a note.
  auto IsSetter = [&](const Stmt &S) {
    const Expr *Object = nullptr;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    return Call && isDeadlineSetter(Call, Object) &&
           refersToContext(Object, Context);
  };
  Finding.LateSetter =
      llvm::cast_or_null<CallExpr>(findReachable(Flow, *At, IsSetter));
  return Finding;
}

} // namespace grpcleak
