//===- ContextLifetime.cpp - Objects an RPC uses must outlive it ----------===//

#include "grpcleak/ContextLifetime.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/CallbackThreads.h"
#include "grpcleak/DeadlineAnalysis.h"
#include "grpcleak/ObjectProtocol.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

using namespace clang;

namespace grpcleak {
namespace {

struct AsyncOutputEntry {
  llvm::StringRef Class;
  llvm::StringRef Method;
};
const AsyncOutputEntry AsyncCallOutputs[] = {
#define GRPC_ASYNC_CALL_OUTPUT(Class, Method) {Class, Method},
#include "grpcleak/GrpcApi.def"
};

/// True if \p Call is an operation of an async client call that writes
/// through its pointer arguments when its tag comes (GRPC_ASYNC_CALL_OUTPUT).
bool isAsyncCallOutput(const CallExpr &Call) {
  return llvm::any_of(AsyncCallOutputs, [&](const AsyncOutputEntry &Entry) {
    return isMethodCallOn(Call, Entry.Class, Entry.Method);
  });
}

/// The local whose address \p Arg is (`&resp`): an automatic variable held
/// by value. Null for anything else.
const VarDecl *addressedLocal(const Expr *Arg) {
  const auto *AddrOf = llvm::dyn_cast_or_null<UnaryOperator>(stripValue(Arg));
  if (!AddrOf || AddrOf->getOpcode() != UO_AddrOf)
    return nullptr;
  const VarDecl *Var = referencedVar(AddrOf->getSubExpr());
  if (!isAutomaticLocal(Var) || Var->isStaticLocal() ||
      Var->getType()->isReferenceType())
    return nullptr;
  return Var;
}

/// The variable or field an expression designating an object names:
/// `x`, `&x`, `x.get()`, `this->x_`.
const ValueDecl *designatedObject(const Expr *E) {
  E = stripValue(E);
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf)
      E = stripValue(U->getSubExpr());
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(E))
    if (const CXXMethodDecl *MD = Member->getMethodDecl())
      if (MD->getIdentifier() && MD->getName() == "get")
        E = stripValue(Member->getImplicitObjectArgument());
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E))
    return Ref->getDecl();
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(E))
    return Member->getMemberDecl();
  return nullptr;
}

/// True if \p E designates a member of `this` (`&ctx_`, `ctx_.get()`,
/// `this->ctx_`), not a member of another object (`&call->ctx`).
bool isMemberOfThis(const Expr *E) {
  E = stripValue(E);
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf)
      E = stripValue(U->getSubExpr());
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(E))
    E = stripValue(Member->getImplicitObjectArgument());
  const auto *Member = llvm::dyn_cast<MemberExpr>(E);
  return Member &&
         llvm::isa<CXXThisExpr>(Member->getBase()->IgnoreParenImpCasts());
}

/// The completion queue argument of an async RPC start, if it names one:
/// `&cq`, `cq_.get()`, `cq` (a pointer); null for any other expression.
const ValueDecl *queueOf(const RpcStart &Start) {
  for (unsigned I = 0, E = Start.Method->getNumParams();
       I != E && I < Start.Call->getNumArgs(); ++I)
    if (isCompletionQueueHolder(Start.Method->getParamDecl(I)->getType()))
      return designatedObject(Start.Call->getArg(I));
  return nullptr;
}

/// What holds the call object \p Call returns: the local it initialises
/// (`auto rpc = stub->AsyncX(...)`), or the variable or field it is
/// assigned to (`call->reader = stub->AsyncX(...)`). Null otherwise.
const ValueDecl *holderOf(const Expr &Call, ASTContext &Ctx) {
  const Expr *Current = &Call;
  while (true) {
    ParentList Parents = parentsOf(Ctx, *Current);
    if (Parents.size() != 1)
      return nullptr;
    if (const auto *Var = Parents[0].get<VarDecl>())
      return isAutomaticLocal(Var) ? Var : nullptr;
    const auto *Parent = Parents[0].get<Expr>();
    if (const auto *Op = llvm::dyn_cast_or_null<CXXOperatorCallExpr>(Parent))
      if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
          Op->getArg(1) == Current)
        return designatedObject(Op->getArg(0));
    if (!Parent || !llvm::isa<ImplicitCastExpr, MaterializeTemporaryExpr,
                              CXXBindTemporaryExpr, ExprWithCleanups,
                              ParenExpr, CXXConstructExpr>(Parent))
      return nullptr;
    Current = Parent;
  }
}

/// The declaration statement of \p Var, and the statement whose end ends
/// its life (the enclosing block, or the for/if/while/switch it is declared
/// in the header of).
const DeclStmt *declStmtOf(const VarDecl &Var, ASTContext &Ctx,
                           const Stmt *&Scope) {
  ParentList Parents = parentsOf(Ctx, Var);
  const auto *Decl = Parents.size() == 1 ? Parents[0].get<DeclStmt>() : nullptr;
  if (!Decl)
    return nullptr;
  Parents = parentsOf(Ctx, *Decl);
  while (Parents.size() == 1) {
    const auto *S = Parents[0].get<Stmt>();
    if (!S)
      return nullptr;
    if (llvm::isa<CompoundStmt, ForStmt, CXXForRangeStmt, IfStmt, WhileStmt,
                  SwitchStmt>(S)) {
      Scope = S;
      return Decl;
    }
    Parents = parentsOf(Ctx, *S);
  }
  return nullptr;
}

/// True if the local smart pointer \p Var may hand its context to another
/// owner: any use but `.get()`, `->`, `*` and a few methods of its own (a
/// copy, a move, a capture, an argument, a return).
bool ownerEscapes(const VarDecl &Var, const FunctionDecl &Fn, ASTContext &Ctx) {
  return anyStatement(Fn.getBody(), [&](const Stmt &S) {
    const auto *Ref = llvm::dyn_cast<DeclRefExpr>(&S);
    if (!Ref || Ref->getDecl() != &Var)
      return false;
    if (Ref->refersToEnclosingVariableOrCapture())
      return true; // used in a lambda: it may keep a copy
    const Stmt *Current = Ref;
    ParentList Parents = parentsOf(Ctx, *Current);
    while (Parents.size() == 1 && Parents[0].get<ImplicitCastExpr>()) {
      Current = Parents[0].get<Stmt>();
      Parents = parentsOf(Ctx, *Current);
    }
    if (Parents.size() != 1)
      return true;
    if (const auto *Member = Parents[0].get<MemberExpr>()) {
      const auto *MD = llvm::dyn_cast<CXXMethodDecl>(Member->getMemberDecl());
      return !MD || !MD->getIdentifier() || MD->getName() == "release" ||
             MD->getName() == "swap";
    }
    if (const auto *Op = Parents[0].get<CXXOperatorCallExpr>())
      return !((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
               Op->getNumArgs() >= 1 && Op->getArg(0) == Current);
    return true;
  });
}

/// True if \p S is within \p Scope in the source.
bool isWithin(const Stmt &S, const Stmt &Scope, const SourceManager &SM) {
  SourceLocation Loc = SM.getExpansionLoc(S.getBeginLoc());
  SourceLocation Begin = SM.getExpansionLoc(Scope.getBeginLoc());
  SourceLocation End = SM.getExpansionLoc(Scope.getEndLoc());
  if (Loc.isInvalid() || Begin.isInvalid() || End.isInvalid())
    return true; // cannot tell: assume it is
  return !SM.isBeforeInTranslationUnit(Loc, Begin) &&
         !SM.isBeforeInTranslationUnit(End, Loc);
}

/// True if \p Fn belongs to the user's code: not a system header, not gRPC's
/// library, not generated.
bool isUserFunction(const FunctionDecl &Fn) {
  const SourceManager &SM = Fn.getASTContext().getSourceManager();
  SourceLocation Loc = Fn.getLocation();
  return Loc.isValid() && !SM.isInSystemHeader(Loc) &&
         !isInGrpcNamespace(Fn) && !isInGeneratedFile(Loc, SM);
}

/// True if \p Fn calls StartCall() on its own object (a client reactor
/// constructor that starts its RPC), itself or in a method of its class it
/// calls, \p Depth levels down.
bool startsOwnCall(const FunctionDecl &Fn, unsigned Depth) {
  const FunctionDecl *Def = nullptr;
  if (!Fn.hasBody(Def) || !Def)
    return false;
  return anyStatement(Def->getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
    if (!Call || !Call->getImplicitObjectArgument() ||
        !llvm::isa<CXXThisExpr>(
            Call->getImplicitObjectArgument()->IgnoreParenImpCasts()))
      return false;
    const CXXMethodDecl *MD = Call->getMethodDecl();
    if (!MD || !MD->getIdentifier())
      return false;
    if (MD->getName() == "StartCall")
      return true;
    return Depth > 0 && isUserFunction(*MD) && startsOwnCall(*MD, Depth - 1);
  });
}

} // namespace

const ValueDecl *ContextLifetimeAnalysis::contextOf(const RpcStart &Start,
                                                    const FunctionDecl &Fn,
                                                    bool &IsMember) const {
  DeadlineOptions Identity;
  Identity.IgnoreContextParameters = false;
  const ValueDecl *Context =
      DeadlineAnalysis(Identity).contextOf(Start, Fn, IsMember);
  // `&call->ctx` names a field of another object: one per call object, not
  // one context.
  if (Context && IsMember && !isMemberOfThis(Start.Context))
    return nullptr;
  return Context;
}

bool ContextLifetimeAnalysis::functionWaits(const FunctionDecl &FD,
                                            unsigned Depth) {
  const FunctionDecl *Def = nullptr;
  if (!FD.hasBody(Def) || !Def)
    return false;
  auto [It, Inserted] = WaitSummaries.try_emplace(Def, false);
  if (!Inserted)
    return It->second; // cached, or recursion
  bool Found = anyStatement(Def->getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return false;
    if (std::optional<BlockingCall> Blocking = classifyBlockingCall(*Call, Ctx))
      return Blocking->Kind != BlockingKind::Rpc;
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee)
      return false;
    if (Options.WaitFunctions && Callee->getIdentifier() &&
        Options.WaitFunctions->match(Callee->getName()))
      return true;
    return Depth > 0 && isUserFunction(*Callee) && !classifyRpcStart(Call) &&
           functionWaits(*Callee, Depth - 1);
  });
  WaitSummaries[Def] = Found;
  return Found;
}

bool ContextLifetimeAnalysis::waitsForCompletion(const Stmt &S,
                                                 const ValueDecl *Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (std::optional<BlockingCall> Blocking = classifyBlockingCall(*Call, Ctx)) {
    switch (Blocking->Kind) {
    case BlockingKind::Rpc:
      return false; // another RPC: it does not wait for this one
    case BlockingKind::Poll:
      // An async call completes when its own queue is polled.
      if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
        return !Queue || objectOf(*Member) == Queue;
      return true; // the C core's grpc_completion_queue_next: cannot tell
    default:
      return true;
    }
  }
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee)
    return false;
  if (Options.WaitFunctions && Callee->getIdentifier() &&
      Options.WaitFunctions->match(Callee->getName()))
    return true;
  // The queue handed to a helper, which may drain it.
  if (Queue && shutsDownOrHandsOnQueue(*Call, *Queue) &&
      !isQueueCall(*Call, "Shutdown"))
    return true;
  if (classifyRpcStart(Call) || !isUserFunction(*Callee))
    return false;
  const FunctionDecl *Def = nullptr;
  if (!Callee->hasBody(Def))
    return true; // defined elsewhere: it may wait
  return functionWaits(*Def, Options.SummaryDepth);
}

std::optional<ShortLivedObject>
ContextLifetimeAnalysis::judgeObject(const VarDecl &Object, const Expr &HandedAt,
                                     const ValueDecl *Queue,
                                     const FunctionFlow &Flow) {
  // A coroutine's locals live in its frame across co_await: a suspension
  // is not the end of their life, and not judged here.
  if (llvm::isa_and_nonnull<CoroutineBodyStmt>(Flow.function().getBody()))
    return std::nullopt;
  const Stmt *Scope = nullptr;
  const DeclStmt *Decl = declStmtOf(Object, Ctx, Scope);
  if (!Decl || !Scope)
    return std::nullopt;
  // Handed over by its own initialiser (a reactor whose constructor starts
  // the call): its life runs from its declaration on.
  const Stmt *From = &HandedAt;
  if (Object.getInit() && stripValue(Object.getInit()) == stripValue(&HandedAt))
    From = Decl;
  std::optional<CfgPoint> At = Flow.locate(*From);
  if (!At)
    return std::nullopt;
  const Stmt *Body = Flow.function().getBody();
  bool FunctionScope = Scope == Body;
  const SourceManager &SM = Ctx.getSourceManager();

  // `while (!done) cv.wait(lock);`: a test of the flag that guards a wait
  // counts as the wait (the callback may have set the flag already).
  llvm::DenseSet<const Stmt *> Guards;
  auto AddGuard = [&](const Stmt *Cond, std::initializer_list<const Stmt *> Guarded) {
    if (!Cond)
      return;
    bool Waits = llvm::any_of(Guarded, [&](const Stmt *G) {
      return G && anyStatement(G, [&](const Stmt &S) {
               return waitsForCompletion(S, Queue);
             });
    });
    if (Waits)
      anyStatement(Cond, [&](const Stmt &S) {
        Guards.insert(&S);
        return false;
      });
  };
  anyStatement(Body, [&](const Stmt &S) {
    if (const auto *If = llvm::dyn_cast<IfStmt>(&S))
      AddGuard(If->getCond(), {If->getThen(), If->getElse()});
    else if (const auto *While = llvm::dyn_cast<WhileStmt>(&S))
      AddGuard(While->getCond(), {While->getBody()});
    else if (const auto *Do = llvm::dyn_cast<DoStmt>(&S))
      AddGuard(Do->getCond(), {Do->getBody()});
    else if (const auto *For = llvm::dyn_cast<ForStmt>(&S))
      AddGuard(For->getCond(), {For->getBody()});
    return false;
  });

  auto Judge = [&](const Stmt &S) {
    if (&S == Decl)
      return Verdict::Violated; // round a loop: destroyed and made again
    if (!FunctionScope && !isWithin(S, *Scope, SM))
      return Verdict::Violated; // out of its block: destroyed
    if (Guards.contains(&S) || waitsForCompletion(S, Queue))
      return Verdict::Discharged;
    return Verdict::Continue;
  };
  std::optional<FlowPath> Path = findPathForward(Flow, *At, Judge);
  if (!Path)
    return std::nullopt;
  ShortLivedObject Found;
  Found.Object = &Object;
  Found.HandedAt = &HandedAt;
  Found.ExitReturn = Path->ExitReturn;
  if (Path->ViolatedAt) {
    if (const auto *Block = llvm::dyn_cast<CompoundStmt>(Scope))
      Found.ScopeEnd = Block->getRBracLoc();
    else
      Found.ScopeEnd = Scope->getEndLoc();
  }
  return Found;
}

std::optional<ShortLivedObject>
ContextLifetimeAnalysis::findShortLived(const RpcStart &Start,
                                        const FunctionFlow &Flow) {
  if (Start.Api == RpcApi::Sync)
    return std::nullopt;
  const FunctionDecl &Fn = Flow.function();
  const ValueDecl *Queue =
      Start.Api == RpcApi::Async ? queueOf(Start) : nullptr;

  struct Candidate {
    const VarDecl *Var;
    const Expr *HandedAt;
    ShortLivedObject::Role What;
  };
  llvm::SmallVector<Candidate, 4> Candidates;
  bool IsMember = false;
  if (const auto *Var =
          llvm::dyn_cast_or_null<VarDecl>(contextOf(Start, Fn, IsMember)))
    if (isAutomaticLocal(Var) && !Var->isStaticLocal() &&
        !Var->getType()->isReferenceType() && !Var->getType()->isPointerType() &&
        (isClientContextType(Var->getType()) || !ownerEscapes(*Var, Fn, Ctx)))
      Candidates.push_back({Var, Start.Call, ShortLivedObject::Role::Context});
  for (unsigned I = 1, E = Start.Call->getNumArgs(); I < E; ++I)
    if (const VarDecl *Var = addressedLocal(Start.Call->getArg(I)))
      if (!isCompletionQueueHolder(Var->getType()))
        Candidates.push_back({Var, Start.Call, ShortLivedObject::Role::Pointee});
  // What the operations on an async call write into when their tag comes.
  if (Start.Api == RpcApi::Async)
    if (const ValueDecl *Call = holderOf(*Start.Call, Ctx))
      anyStatement(Fn.getBody(), [&](const Stmt &S) {
        const auto *Op = llvm::dyn_cast<CXXMemberCallExpr>(&S);
        if (!Op || objectOf(*Op) != Call || !isAsyncCallOutput(*Op))
          return false;
        for (const Expr *Arg : Op->arguments())
          if (const VarDecl *Var = addressedLocal(Arg))
            Candidates.push_back({Var, Op, ShortLivedObject::Role::Pointee});
        return false;
      });

  for (const Candidate &C : Candidates)
    if (std::optional<ShortLivedObject> Found =
            judgeObject(*C.Var, *C.HandedAt, Queue, Flow)) {
      Found->What = C.What;
      Found->Start = Start;
      return Found;
    }
  return std::nullopt;
}

std::optional<ShortLivedObject>
ContextLifetimeAnalysis::findShortLivedOutput(const CallExpr &Op,
                                              const FunctionFlow &Flow) {
  if (!isAsyncCallOutput(Op))
    return std::nullopt;
  // A call started in this same function is findShortLived's, which knows
  // its queue.
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Op);
  const ValueDecl *Call = Member ? objectOf(*Member) : nullptr;
  if (Call && anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
        const auto *Start = llvm::dyn_cast<CallExpr>(&S);
        std::optional<RpcStart> Rpc = Start ? classifyRpcStart(Start) : std::nullopt;
        return Rpc && Rpc->Api == RpcApi::Async && holderOf(*Start, Ctx) == Call;
      }))
    return std::nullopt;
  for (const Expr *Arg : Op.arguments())
    if (const VarDecl *Var = addressedLocal(Arg))
      // The call's queue is not known here: polling any queue counts.
      if (std::optional<ShortLivedObject> Found =
              judgeObject(*Var, Op, nullptr, Flow)) {
        Found->What = ShortLivedObject::Role::Pointee;
        return Found;
      }
  return std::nullopt;
}

std::optional<ShortLivedObject>
ContextLifetimeAnalysis::findShortLivedReactor(const VarDecl &Reactor,
                                               const FunctionFlow &Flow) {
  if (!isAutomaticLocal(&Reactor) || Reactor.isStaticLocal() ||
      Reactor.getType()->isReferenceType())
    return std::nullopt;
  const auto *Class = Reactor.getType()->getAsCXXRecordDecl();
  std::optional<ReactorBase> Base = Class ? reactorBaseOf(*Class) : std::nullopt;
  if (!Base || Base->Side != ReactorSide::Client)
    return std::nullopt;
  // Started here: StartCall() on it, or a constructor that calls it.
  const Expr *HandedAt = nullptr;
  anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
    const CXXMethodDecl *MD = Call ? Call->getMethodDecl() : nullptr;
    if (MD && MD->getIdentifier() && MD->getName() == "StartCall" &&
        objectOf(*Call) == &Reactor) {
      HandedAt = Call;
      return true;
    }
    return false;
  });
  if (!HandedAt)
    if (const auto *Construct =
            llvm::dyn_cast_or_null<CXXConstructExpr>(stripValue(Reactor.getInit())))
      if (startsOwnCall(*Construct->getConstructor(), 1))
        HandedAt = Construct;
  if (!HandedAt)
    return std::nullopt;
  std::optional<ShortLivedObject> Found =
      judgeObject(Reactor, *HandedAt, nullptr, Flow);
  if (Found)
    Found->What = ShortLivedObject::Role::Reactor;
  return Found;
}

std::optional<ContextReuse>
ContextLifetimeAnalysis::findReuse(const RpcStart &Start,
                                   const FunctionFlow &Flow) {
  const FunctionDecl &Fn = Flow.function();
  bool IsMember = false;
  const ValueDecl *Context = contextOf(Start, Fn, IsMember);
  std::optional<CfgPoint> At = Flow.locate(*Start.Call);
  if (!Context || !At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S))
      return llvm::is_contained(Decl->decls(), Context) ? Verdict::Discharged
                                                        : Verdict::Continue;
    // A new context: `ctx = std::make_unique<grpc::ClientContext>()`,
    // `ctx.reset(new grpc::ClientContext)`, `ctx.emplace()`.
    if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S))
      return Assign->isAssignmentOp() && isRefToDecl(Assign->getLHS(), Context)
                 ? Verdict::Discharged
                 : Verdict::Continue;
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
      return Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
                     isRefToDecl(Op->getArg(0), Context)
                 ? Verdict::Discharged
                 : Verdict::Continue;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return Verdict::Continue;
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() &&
            (MD->getName() == "reset" || MD->getName() == "emplace") &&
            isRefToDecl(Member->getImplicitObjectArgument(), Context))
          return Verdict::Discharged;
    if (std::optional<RpcStart> Other = classifyRpcStart(Call)) {
      bool OtherIsMember = false;
      if (contextOf(*Other, Fn, OtherIsMember) == Context)
        return Verdict::Violated;
    }
    return Verdict::Continue;
  };
  std::optional<FlowPath> Path = findPathForward(Flow, *At, Judge);
  if (!Path || !Path->ViolatedAt)
    return std::nullopt;
  std::optional<RpcStart> Second =
      classifyRpcStart(llvm::dyn_cast<CallExpr>(Path->ViolatedAt));
  if (!Second)
    return std::nullopt;
  return ContextReuse{*Second, Start.Call, Context, IsMember};
}

std::vector<MemberOrderViolation>
ContextLifetimeAnalysis::findMemberOrder(const CXXRecordDecl &Class) {
  std::vector<MemberOrderViolation> Found;
  if (!Class.hasDefinition() || Class.isDependentContext() || Class.isLambda())
    return Found;
  const CXXRecordDecl &Def = *Class.getDefinition();

  // `stream_ = stub->PrepareAsyncX(&ctx_, ...)` or `stream_(stub->...)` in
  // a constructor's initializer list: the stream member and the context
  // member it was started on.
  auto Record = [&](const FieldDecl *Stream, const Expr *Value,
                    const FunctionDecl &Fn) {
    if (!Stream || Stream->getParent() != &Def || !Value)
      return;
    Value = stripValue(Value);
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Value))
      if (Construct->getNumArgs() == 1)
        Value = stripValue(Construct->getArg(0));
    const auto *Call = llvm::dyn_cast<CallExpr>(Value);
    std::optional<RpcStart> Start = Call ? classifyRpcStart(Call) : std::nullopt;
    if (!Start || Start->Api != RpcApi::Async)
      return;
    bool IsMember = false;
    const auto *Context =
        llvm::dyn_cast_or_null<FieldDecl>(contextOf(*Start, Fn, IsMember));
    if (!Context || Context->getParent() != &Def ||
        Context->getFieldIndex() < Stream->getFieldIndex())
      return;
    for (const MemberOrderViolation &V : Found)
      if (V.Stream == Stream && V.Context == Context)
        return;
    Found.push_back({Stream, Context, Call});
  };
  for (const CXXMethodDecl *Method : Def.methods()) {
    const FunctionDecl *Body = nullptr;
    if (!Method->hasBody(Body) || !Body)
      continue;
    if (const auto *Ctor = llvm::dyn_cast<CXXConstructorDecl>(Body))
      for (const CXXCtorInitializer *Init : Ctor->inits())
        if (Init->isWritten() && Init->getMember())
          Record(Init->getMember(), Init->getInit(), *Body);
    anyStatement(Body->getBody(), [&](const Stmt &S) {
      if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
        if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
            isMemberOfThis(Op->getArg(0)))
          Record(llvm::dyn_cast_or_null<FieldDecl>(designatedObject(Op->getArg(0))),
                 Op->getArg(1), *Body);
      return false;
    });
  }
  if (Found.empty())
    return Found;
  // A destructor that lets go of the stream first keeps the order safe.
  const CXXDestructorDecl *Dtor = Def.getDestructor();
  const FunctionDecl *DtorBody = nullptr;
  if (Dtor && Dtor->hasBody(DtorBody) && DtorBody)
    llvm::erase_if(Found, [&](const MemberOrderViolation &V) {
      return anyStatement(DtorBody->getBody(), [&](const Stmt &S) {
        if (const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S))
          if (const CXXMethodDecl *MD = Call->getMethodDecl())
            return MD->getIdentifier() &&
                   (MD->getName() == "reset" || MD->getName() == "release") &&
                   isRefToDecl(Call->getImplicitObjectArgument(), V.Stream);
        if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
          return Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
                 isRefToDecl(Op->getArg(0), V.Stream);
        return false;
      });
    });
  return Found;
}

} // namespace grpcleak
