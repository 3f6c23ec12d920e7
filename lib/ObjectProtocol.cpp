//===- ObjectProtocol.cpp - gRPC C++ objects with a shutdown protocol -----===//

#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclTemplate.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <deque>

using namespace clang;

namespace grpcleak {
namespace {

/// The class a holder type names: T, or the T of a std smart pointer.
const CXXRecordDecl *heldClass(QualType T) {
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
      return Spec->getTemplateArgs()[0].getAsType()->getAsCXXRecordDecl();
  return RD;
}


} // namespace

bool isServerHolder(QualType T) {
  const CXXRecordDecl *RD = heldClass(T);
  return RD && (hasQualifiedName(RD, "::grpc::Server") ||
                hasQualifiedName(RD, "::grpc::ServerInterface"));
}

bool isCompletionQueueHolder(QualType T, bool *ServerQueue) {
  const CXXRecordDecl *RD = heldClass(T);
  if (!RD)
    return false;
  bool IsServer = hasQualifiedName(RD, "::grpc::ServerCompletionQueue");
  if (ServerQueue)
    *ServerQueue = IsServer;
  return IsServer || hasQualifiedName(RD, "::grpc::CompletionQueue");
}

const ValueDecl *objectOf(const CXXMemberCallExpr &Call) {
  const Expr *Object = Call.getImplicitObjectArgument();
  if (!Object)
    return nullptr;
  Object = stripValue(Object);
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Object))
    if (Op->getOperator() == OO_Arrow && Op->getNumArgs() >= 1)
      Object = stripValue(Op->getArg(0));
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Object))
    return Ref->getDecl();
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(Object))
    return Member->getMemberDecl();
  return nullptr;
}

bool isServerCall(const CallExpr &Call, llvm::StringRef Name) {
  return isMethodCall(Call, Name, {"::grpc::Server", "::grpc::ServerInterface"});
}

bool isQueueCall(const CallExpr &Call, llvm::StringRef Name) {
  return isMethodCall(Call, Name, {"::grpc::CompletionQueue"});
}

bool isBuildAndStart(const CallExpr &Call) {
  return isMethodCall(Call, "BuildAndStart", {"::grpc::ServerBuilder"});
}

bool anyMethodStatement(const CXXRecordDecl &Class,
                        llvm::function_ref<bool(const Stmt &)> Pred,
                        bool &Unseen) {
  Unseen = false;
  if (!Class.hasDefinition())
    return Unseen = true, false;
  for (const CXXMethodDecl *Method : Class.getDefinition()->methods()) {
    const FunctionDecl *Def = nullptr;
    if (!Method->hasBody(Def)) {
      if (Method->isUserProvided() && !Method->isPureVirtual())
        Unseen = true;
      continue;
    }
    if (anyStatement(Def->getBody(), Pred))
      return true;
  }
  return false;
}

bool anyMethodMay(const FieldDecl &Member,
                  llvm::function_ref<bool(const Stmt &)> Pred) {
  const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Member.getParent());
  bool Unseen = false;
  return !Class || anyMethodStatement(*Class, Pred, Unseen) || Unseen;
}

//===--- grpc::Server -----------------------------------------------------===//

const ValueDecl *resultHolder(const Expr &Result, ASTContext &Ctx) {
  const ValueDecl *Holder = nullptr;
  ParentList Parents = parentsOf(Ctx, Result);
  const Expr *Current = &Result;
  while (Parents.size() == 1) {
    if (const auto *Var = Parents[0].get<VarDecl>()) {
      Holder = Var;
      break;
    }
    const auto *Parent = Parents[0].get<Expr>();
    if (!Parent)
      break;
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Parent)) {
      if (Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
          Op->getArg(1) != Current)
        break;
      if (Op->getOperator() == OO_Equal) {
        const Expr *Target = stripValue(Op->getArg(0));
        if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Target))
          Holder = Ref->getDecl();
        else if (const auto *Member = llvm::dyn_cast<MemberExpr>(Target))
          Holder = Member->getMemberDecl();
        break;
      }
    }
    if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(Parent)) {
      if (Assign->getOpcode() == BO_Assign && Assign->getRHS() == Current) {
        const Expr *Target = stripValue(Assign->getLHS());
        if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Target))
          Holder = Ref->getDecl();
        else if (const auto *Member = llvm::dyn_cast<MemberExpr>(Target))
          Holder = Member->getMemberDecl();
      }
      break;
    }
    if (!llvm::isa<ImplicitCastExpr, MaterializeTemporaryExpr,
                   CXXBindTemporaryExpr, ExprWithCleanups, ParenExpr,
                   CXXConstructExpr>(Parent))
      break; // returned, passed on: the new owner's concern
    Current = Parent;
    Parents = parentsOf(Ctx, *Parent);
  }
  return Holder;
}

const ValueDecl *startedServerHolder(const CallExpr &Start, ASTContext &Ctx) {
  const ValueDecl *Holder = resultHolder(Start, Ctx);
  if (!Holder || !isServerHolder(Holder->getType()))
    return nullptr;
  return Holder;
}

bool releasesServer(const Stmt &S, const ValueDecl &Server) {
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&S)) {
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      if ((isServerCall(*Call, "Shutdown") || isServerCall(*Call, "Wait")) &&
          objectOf(*Member) == &Server)
        return true;
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() && MD->getName() == "release" &&
            objectOf(*Member) == &Server)
          return true;
    }
    const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call);
    unsigned Index = 0;
    for (const Expr *Arg : Call->arguments()) {
      bool Names = namesObject(Arg, &Server);
      // `server->Shutdown()` passes the server to operator->: a use; and
      // `server = ...` gives the holder a server, it does not hand it on.
      bool IsUse = Op && (Op->getOperator() == OO_Arrow ||
                          Op->getOperator() == OO_Star ||
                          Op->getOperator() == OO_ExclaimEqual ||
                          Op->getOperator() == OO_EqualEqual ||
                          (Op->getOperator() == OO_Equal && Index == 0));
      if (Names && !IsUse)
        return true;
      ++Index;
    }
    return false;
  }
  if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S)) {
    // `return s;` moves the local out implicitly: the value returned is
    // constructed from it (a move, or a conversion to a base's holder).
    const Expr *Value = stripValue(Return->getRetValue());
    if (const auto *Construct = llvm::dyn_cast_or_null<CXXConstructExpr>(Value))
      if (Construct->getNumArgs() >= 1)
        Value = Construct->getArg(0);
    return namesObject(Value, &Server);
  }
  if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S))
    return Assign->isAssignmentOp() && namesObject(Assign->getRHS(), &Server);
  if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S)) {
    for (const LambdaCapture &Capture : Lambda->captures())
      if (Capture.capturesVariable() && Capture.getCapturedVar() == &Server)
        return true;
    return false;
  }
  return llvm::isa<CXXThrowExpr>(&S); // exception paths are not judged
}

std::optional<bool> serverFailureBranchIsTrue(const Expr *Cond,
                                              const VarDecl &Server) {
  if (!Cond)
    return std::nullopt;
  Cond = Cond->IgnoreParenImpCasts();
  if (namesObject(Cond, &Server))
    return false; // `if (server)`
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Cond))
    if (U->getOpcode() == UO_LNot &&
        namesObject(U->getSubExpr()->IgnoreParenImpCasts(), &Server))
      return true;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Cond))
    if ((Op->getOperator() == OO_EqualEqual ||
         Op->getOperator() == OO_ExclaimEqual) &&
        Op->getNumArgs() == 2 &&
        (namesObject(Op->getArg(0), &Server) ||
         namesObject(Op->getArg(1), &Server)))
      return Op->getOperator() == OO_EqualEqual;
  if (const auto *B = llvm::dyn_cast<BinaryOperator>(Cond))
    if (B->getOpcode() == BO_LOr)
      for (const Expr *Side : {B->getLHS(), B->getRHS()})
        if (std::optional<bool> Inner = serverFailureBranchIsTrue(Side, Server))
          if (*Inner)
            return true;
  return std::nullopt;
}

bool classMayShutDownServer(const FieldDecl &Server) {
  auto Releases = [&](const Stmt &S) { return releasesServer(S, Server); };
  return anyMethodMay(Server, Releases);
}

std::optional<FlowPath> findUnshutServerPath(const FunctionFlow &Flow,
                                             const CallExpr &Start,
                                             const VarDecl &Server) {
  if (!isAutomaticLocal(&Server))
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(Start);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    return releasesServer(S, Server) ? Verdict::Discharged : Verdict::Continue;
  };
  auto Follow = [&](const CFGBlock &From, unsigned SuccIndex) {
    if (From.succ_size() != 2)
      return true;
    std::optional<bool> FailureIsTrue = serverFailureBranchIsTrue(
        llvm::dyn_cast_or_null<Expr>(From.getTerminatorCondition()), Server);
    return !FailureIsTrue || SuccIndex != (*FailureIsTrue ? 0u : 1u);
  };
  return findPathForward(Flow, *At, Judge, Follow);
}

bool isBlockingGrpcCall(const CallExpr &Call) {
  struct BlockingCall {
    llvm::StringRef Class, Method;
  };
  static const BlockingCall Blocking[] = {
#define GRPC_BLOCKING_CALL(Class, Method) {Class, Method},
#include "grpcleak/GrpcApi.def"
  };
  const FunctionDecl *FD = Call.getDirectCallee();
  for (const BlockingCall &B : Blocking) {
    if (!B.Class.empty() ? isMethodCall(Call, B.Method, {B.Class})
                         : FD && FD->getIdentifier() &&
                               FD->getName() == B.Method &&
                               isCoreApiFunction(FD))
      return true;
  }
  return classifyRpcStart(&Call).has_value();
}

const CallExpr *blockingCallInSignalHandler(const FunctionDecl &Handler,
                                            unsigned MaxDepth) {
  // Breadth-first through the handler and the functions of the TU it calls,
  // so each function is reached at its smallest depth.
  llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
  std::deque<std::pair<const FunctionDecl *, unsigned>> Work{{&Handler, 0}};
  while (!Work.empty()) {
    const FunctionDecl *Fn = Work.front().first;
    unsigned Depth = Work.front().second;
    Work.pop_front();
    const FunctionDecl *Def = nullptr;
    if (!Fn->hasBody(Def) || !Seen.insert(Def).second || isUnanalyzable(*Def))
      continue;
    const CallExpr *Blocking = nullptr;
    anyStatement(Def->getBody(), [&](const Stmt &S) {
      const auto *Call = llvm::dyn_cast<CallExpr>(&S);
      if (!Call)
        return false;
      if (isBlockingGrpcCall(*Call)) {
        Blocking = Call;
        return true;
      }
      if (const FunctionDecl *Callee = Call->getDirectCallee())
        if (Depth < MaxDepth)
          Work.push_back({Callee, Depth + 1});
      return false;
    });
    if (Blocking)
      return Blocking;
  }
  return nullptr;
}

//===--- grpc::CompletionQueue --------------------------------------------===//

const ValueDecl *ownedQueueOf(const CXXMemberCallExpr &Call, bool *ServerQueue) {
  const ValueDecl *Queue = objectOf(Call);
  if (!Queue || !isCompletionQueueHolder(Queue->getType(), ServerQueue))
    return nullptr;
  if (!llvm::isa<VarDecl, FieldDecl>(Queue))
    return nullptr; // a structured binding: part of another object
  if (const auto *Var = llvm::dyn_cast<VarDecl>(Queue))
    if (!isAutomaticLocal(Var) || Var->getType()->isReferenceType() ||
        Var->getType()->isPointerType())
      return nullptr; // someone else's queue
  if (llvm::isa<FieldDecl>(Queue) && (Queue->getType()->isPointerType() ||
                                      Queue->getType()->isReferenceType()))
    return nullptr; // a pointer or reference member: someone else's queue
  return Queue;
}

bool shutsDownOrHandsOnQueue(const Stmt &S, const ValueDecl &Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (isQueueCall(*Call, "Shutdown") && objectOf(*Member) == &Queue)
      return true;
  const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call);
  if (Op && Op->getOperator() == OO_Arrow)
    return false;
  // gRPC's own API and the generated stubs and services only post tags on
  // a queue passed to them (PrepareAsyncX(&ctx, req, cq), RequestX(..., cq,
  // cq, tag), Alarm::Set): they never shut it down.
  if (const FunctionDecl *Callee = Call->getDirectCallee()) {
    if (isInGeneratedFile(Callee->getLocation(),
                          Callee->getASTContext().getSourceManager()))
      return false;
    if (isInGrpcNamespace(*Callee))
      return false;
  }
  for (const Expr *Arg : Call->arguments())
    if (namesObject(Arg, &Queue))
      return true;
  return false;
}

bool queueMayBeShutDown(const ValueDecl &Queue) {
  auto Stops = [&](const Stmt &S) { return shutsDownOrHandsOnQueue(S, Queue); };
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(&Queue))
    return anyMethodMay(*Field, Stops);
  // A local queue: anywhere in the function that owns it (its lambdas,
  // threads included).
  const auto *Owner =
      llvm::dyn_cast_or_null<FunctionDecl>(Queue.getParentFunctionOrMethod());
  return !Owner || anyStatement(Owner->getBody(), Stops);
}

const CallExpr *serverShutdownAfter(const FunctionFlow &Flow,
                                    const CallExpr &QueueShutdown) {
  std::optional<CfgPoint> At = Flow.locate(QueueShutdown);
  if (!At)
    return nullptr;
  auto IsServerShutdown = [](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    return Call && isServerCall(*Call, "Shutdown");
  };
  return llvm::cast_or_null<CallExpr>(findReachable(Flow, *At, IsServerShutdown));
}

std::optional<FlowPath> findUndrainedQueuePath(const FunctionFlow &Flow,
                                               const CallExpr &Shutdown,
                                               const ValueDecl &Queue) {
  // Shut down, then destroyed undrained: a local going out of scope, or a
  // member at the end of the destructor.
  bool Dies = llvm::isa<VarDecl>(Queue) ||
              (llvm::isa<FieldDecl>(Queue) &&
               llvm::isa<CXXDestructorDecl>(&Flow.function()));
  if (!Dies)
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(Shutdown);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return llvm::isa<CXXThrowExpr>(&S) ? Verdict::Discharged
                                         : Verdict::Continue;
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
      if ((isQueueCall(*Call, "Next") || isQueueCall(*Call, "AsyncNext")) &&
          objectOf(*Member) == &Queue)
        return Verdict::Discharged;
      // Joining a poller thread that drains it.
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() && MD->getName() == "join")
          return Verdict::Discharged;
    }
    if (shutsDownOrHandsOnQueue(*Call, Queue) && Call != &Shutdown)
      return Verdict::Discharged; // a helper may drain it
    return Verdict::Continue;
  };
  return findPathForward(Flow, *At, Judge);
}

} // namespace grpcleak
