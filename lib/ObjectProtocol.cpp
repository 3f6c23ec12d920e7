//===- ObjectProtocol.cpp - gRPC C++ objects with a shutdown protocol -----===//

#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/TuIndex.h"

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

namespace {

/// \p Member as the class template's code names it, when \p Member belongs
/// to an instance of a class template; \p Member itself otherwise.
const FieldDecl *memberInPattern(const FieldDecl &Member) {
  const auto *Spec =
      llvm::dyn_cast<ClassTemplateSpecializationDecl>(Member.getParent());
  if (!Spec)
    return &Member;
  const CXXRecordDecl *Pattern = Spec->getTemplateInstantiationPattern();
  if (!Pattern || !Member.getIdentifier())
    return nullptr;
  for (const NamedDecl *Found : Pattern->lookup(Member.getDeclName()))
    if (const auto *Field = llvm::dyn_cast<FieldDecl>(Found))
      return Field;
  return nullptr;
}

/// anyMethodMay for the methods of one class.
bool anyMethodOfClass(const CXXRecordDecl &Class, const FieldDecl &Member,
                      MemberStmtPred Pred, bool &Unseen) {
  if (!Class.hasDefinition()) {
    Unseen = true;
    return false;
  }
  // The methods, and the instances of member templates (a constructor
  // template taking an init callback, say).
  llvm::SmallVector<const CXXMethodDecl *, 16> Methods(
      Class.getDefinition()->methods());
  for (const Decl *D : Class.getDefinition()->decls())
    if (const auto *Template = llvm::dyn_cast<FunctionTemplateDecl>(D))
      for (const FunctionDecl *Instance : Template->specializations())
        if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Instance))
          Methods.push_back(Method);
  for (const CXXMethodDecl *Method : Methods) {
    const FunctionDecl *Def = nullptr;
    if (Method->hasBody(Def)) {
      if (anyStatement(Def->getBody(),
                       [&](const Stmt &S) { return Pred(S, Member); }))
        return true;
      continue;
    }
    if (!Method->isUserProvided() || Method->isPureVirtual())
      continue;
    // Not instantiated: the template's own code, with its own member.
    const FunctionDecl *Pattern = Method->getTemplateInstantiationPattern();
    const FieldDecl *PatternMember = memberInPattern(Member);
    if (Pattern && PatternMember && Pattern->hasBody(Def)) {
      if (anyStatement(Def->getBody(),
                       [&](const Stmt &S) { return Pred(S, *PatternMember); }))
        return true;
      continue;
    }
    Unseen = true;
  }
  return false;
}

} // namespace

bool anyMethodMay(const FieldDecl &Member, MemberStmtPred Pred) {
  const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Member.getParent());
  if (!Class)
    return true;
  bool Unseen = false;
  if (anyMethodOfClass(*Class, Member, Pred, Unseen))
    return true;
  for (const CXXRecordDecl *Derived :
       TuIndex::get(Member.getASTContext()).subclassesOf(*Class))
    if (anyMethodOfClass(*Derived, Member, Pred, Unseen))
      return true;
  return Unseen;
}

//===--- grpc::Server -----------------------------------------------------===//

const ValueDecl *startedServerHolder(const CallExpr &Start, ASTContext &Ctx) {
  const ValueDecl *Holder = nullptr;
  ParentList Parents = parentsOf(Ctx, Start);
  const Expr *Current = &Start;
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
    if (!llvm::isa<ImplicitCastExpr, MaterializeTemporaryExpr,
                   CXXBindTemporaryExpr, ExprWithCleanups, ParenExpr,
                   CXXConstructExpr>(Parent))
      break; // returned, passed on: the new owner's concern
    Current = Parent;
    Parents = parentsOf(Ctx, *Parent);
  }
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
  return anyMethodMay(Server, [](const Stmt &S, const FieldDecl &Member) {
    return releasesServer(S, Member);
  });
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
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(&Queue))
    return anyMethodMay(*Field, [](const Stmt &S, const FieldDecl &Member) {
      return shutsDownOrHandsOnQueue(S, Member);
    });
  auto Stops = [&](const Stmt &S) { return shutsDownOrHandsOnQueue(S, Queue); };
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
