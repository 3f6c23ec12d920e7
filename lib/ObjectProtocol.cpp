//===- ObjectProtocol.cpp - gRPC C++ objects with a shutdown protocol -----===//

#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/Summaries.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <deque>

using namespace clang;

namespace grpcleak {
namespace {

/// The class a holder type names: T, or the T of a std smart pointer.
/// Standard containers and smart pointers: they hold objects of their first
/// template argument.
bool isStdHolderTemplate(const ClassTemplateSpecializationDecl &Spec) {
  for (llvm::StringRef Name :
       {"::std::unique_ptr", "::std::shared_ptr", "::std::vector",
        "::std::deque", "::std::list", "::std::array"})
    if (hasQualifiedName(&Spec, Name))
      return true;
  return false;
}

/// The class a holder type names: T, or the T of a std smart pointer or
/// container (of smart pointers), or of an array.
const CXXRecordDecl *heldClass(QualType T, unsigned Depth = 0) {
  if (T.isNull() || Depth > 3)
    return nullptr;
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  if (const ArrayType *Array = T->getAsArrayTypeUnsafe())
    return heldClass(Array->getElementType(), Depth + 1);
  const auto *RD = T->getAsCXXRecordDecl();
  if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
    if (isStdHolderTemplate(*Spec) && Spec->getTemplateArgs().size() >= 1 &&
        Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
      return heldClass(Spec->getTemplateArgs()[0].getAsType(), Depth + 1);
  return RD;
}

/// True if a holder of type \p T owns what it holds: not a raw pointer or a
/// reference, nor a container of raw pointers.
bool ownsHeld(QualType T) {
  if (T->isPointerType() || T->isReferenceType())
    return false;
  const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  if (Spec && isStdHolderTemplate(*Spec) && Spec->getTemplateArgs().size() >= 1 &&
      Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
    return !Spec->getTemplateArgs()[0].getAsType()->isPointerType();
  return true;
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

namespace {

/// Methods that return an element of a container (or an iterator to one),
/// or the object a smart pointer holds.
bool reachesElement(const CXXMethodDecl &MD) {
  if (llvm::isa<CXXConversionDecl>(MD))
    return false;
  if (const auto Op = MD.getOverloadedOperator())
    return Op == OO_Subscript || Op == OO_Arrow || Op == OO_Star;
  if (!MD.getIdentifier())
    return false;
  return llvm::is_contained({"get", "at", "front", "back", "begin", "end",
                             "cbegin", "cend", "operator->"},
                            MD.getName());
}

const ValueDecl *holderOfAt(const Expr *E, unsigned Depth) {
  if (!E || Depth > 8)
    return nullptr;
  E = stripValue(E);
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref)
      return holderOfAt(U->getSubExpr(), Depth + 1);
  if (const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
    const CXXMethodDecl *MD = Call->getMethodDecl();
    return MD && reachesElement(*MD)
               ? holderOfAt(Call->getImplicitObjectArgument(), Depth + 1)
               : nullptr;
  }
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(E)) {
    const auto *MD = llvm::dyn_cast_or_null<CXXMethodDecl>(Op->getDirectCallee());
    return MD && reachesElement(*MD) && Op->getNumArgs() >= 1
               ? holderOfAt(Op->getArg(0), Depth + 1)
               : nullptr;
  }
  if (const auto *Subscript = llvm::dyn_cast<ArraySubscriptExpr>(E))
    return holderOfAt(Subscript->getBase(), Depth + 1);
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(E))
    return Member->getMemberDecl();
  const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E);
  if (!Ref)
    return nullptr;
  const auto *Var = llvm::dyn_cast<VarDecl>(Ref->getDecl());
  if (!Var)
    return Ref->getDecl();
  // A local pointer, reference or iterator that only reaches another
  // holder's object (`auto *cq = cq_.get();`, a range-for variable over a
  // container, the loop's hidden range and iterator variables).
  QualType T = Var->getType();
  bool Alias = T->isPointerType() || T->isReferenceType() || Var->isImplicit() ||
               (Var->getInit() &&
                llvm::isa<CXXMemberCallExpr>(stripValue(Var->getInit())));
  if (isAutomaticLocal(Var) && Alias && Var->getInit())
    if (const ValueDecl *Source = holderOfAt(Var->getInit(), Depth + 1))
      return Source;
  return Var;
}

} // namespace

const ValueDecl *holderOf(const Expr *E) { return holderOfAt(E, 0); }

const ValueDecl *objectOf(const CXXMemberCallExpr &Call) {
  return holderOf(Call.getImplicitObjectArgument());
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
  if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S))
    return returnsObject(*Return, &Server);
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

const CXXNewExpr *leakedOwnerOf(const FieldDecl &Server,
                                const CXXDestructorDecl *&ShutsDown) {
  ShutsDown = nullptr;
  ASTContext &Ctx = Server.getASTContext();
  const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Server.getParent());
  if (!Class)
    return nullptr;
  // Released somewhere other than a destructor (or maybe: a method unseen)?
  bool Elsewhere = anyMethodMay(Server, [&](const Stmt &S, const FieldDecl &M) {
    if (!releasesServer(S, M))
      return false;
    const auto *Dtor =
        llvm::dyn_cast_or_null<CXXDestructorDecl>(enclosingCallable(S, Ctx));
    if (!Dtor)
      return true;
    if (!ShutsDown)
      ShutsDown = Dtor;
    return false;
  });
  if (Elsewhere || !ShutsDown)
    return nullptr;
  const TuIndex &Index = TuIndex::get(Ctx);
  llvm::SmallVector<const CXXRecordDecl *, 4> Classes{Class};
  for (const CXXRecordDecl *Derived : Index.subclassesOf(*Class))
    Classes.push_back(Derived);
  for (const CXXRecordDecl *Made : Classes) {
    if (!Made->hasDefinition())
      continue;
    for (const CXXConstructorDecl *Ctor : Made->getDefinition()->ctors())
      for (const Expr *Site : Index.callSitesOf(*Ctor)) {
        ParentList Parents = parentsOf(Ctx, *Site);
        const auto *New =
            Parents.size() == 1 ? Parents[0].get<CXXNewExpr>() : nullptr;
        if (!New)
          continue;
        // Held where? `g = new C`, `static C *g = new C`.
        const ValueDecl *Holder = nullptr;
        ParentList Up = parentsOf(Ctx, *New);
        while (Up.size() == 1 && !Holder) {
          if (const auto *Var = Up[0].get<VarDecl>()) {
            Holder = Var;
          } else if (const auto *Assign = Up[0].get<BinaryOperator>()) {
            if (Assign->getOpcode() == BO_Assign)
              Holder = holderOf(Assign->getLHS());
            break;
          } else if (const auto *E = Up[0].get<Expr>();
                     E && llvm::isa<ImplicitCastExpr, ParenExpr>(E)) {
            Up = parentsOf(Ctx, *E);
            continue;
          } else {
            break;
          }
        }
        const auto *Var = llvm::dyn_cast_or_null<VarDecl>(Holder);
        if (Var && Var->getType()->isPointerType() && Var->hasGlobalStorage() &&
            !Index.isDeleted(*Var))
          return New;
      }
  }
  return nullptr;
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

static const ValueDecl *ownedQueue(const ValueDecl &Holder, bool *ServerQueue,
                                   unsigned Depth);

/// The owned queue that every call of \p Param's function passes for it (a
/// poller `HandleRpcs(grpc::ServerCompletionQueue *cq)` run as
/// `std::thread(&Server::HandleRpcs, this, cq_.get())`), or null.
static const ValueDecl *queuePassedTo(const ParmVarDecl &Param,
                                      bool *ServerQueue, unsigned Depth) {
  const auto *Fn = llvm::dyn_cast_or_null<FunctionDecl>(Param.getDeclContext());
  if (!Fn || Depth > 2)
    return nullptr;
  const ValueDecl *Found = nullptr;
  for (const Expr *Site :
       TuIndex::get(Param.getASTContext()).callSitesOf(*Fn)) {
    const Expr *Arg =
        TuIndex::argumentFor(*Site, *Fn, Param.getFunctionScopeIndex());
    const ValueDecl *Holder = Arg ? holderOf(Arg) : nullptr;
    const ValueDecl *Queue =
        Holder ? ownedQueue(*Holder, ServerQueue, Depth + 1) : nullptr;
    if (!Queue || (Found && Found != Queue))
      return nullptr; // someone else's queue, or several
    Found = Queue;
  }
  return Found;
}

static const ValueDecl *ownedQueue(const ValueDecl &Holder, bool *ServerQueue,
                                   unsigned Depth) {
  if (!isCompletionQueueHolder(Holder.getType(), ServerQueue))
    return nullptr;
  if (const auto *Param = llvm::dyn_cast<ParmVarDecl>(&Holder))
    return queuePassedTo(*Param, ServerQueue, Depth);
  if (const auto *Var = llvm::dyn_cast<VarDecl>(&Holder))
    return isAutomaticLocal(Var) && ownsHeld(Var->getType()) ? Var : nullptr;
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(&Holder))
    return ownsHeld(Field->getType()) ? Field : nullptr;
  return nullptr; // a structured binding: part of another object
}

const ValueDecl *ownedQueueOf(const CXXMemberCallExpr &Call, bool *ServerQueue) {
  const ValueDecl *Holder = objectOf(Call);
  return Holder ? ownedQueue(*Holder, ServerQueue, 0) : nullptr;
}

bool shutsDownOrHandsOnQueue(const Stmt &S, const ValueDecl &Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (isQueueCall(*Call, "Shutdown") && objectOf(*Member) == &Queue)
      return true;
  // Operators use the holder (`cq_->`, `*cq_`, `cqs_[i]`, `cq_ == nullptr`)
  // or give it a queue (`cq_ = builder.AddCompletionQueue()`); only an
  // assignment of it to another holder hands it on.
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
    return Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
           (namesObject(Op->getArg(1), &Queue) ||
            holderOf(Op->getArg(1)) == &Queue);
  // A helper defined in another file: what its summary says.
  if (const FunctionDecl *Callee = Call->getDirectCallee())
    if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(*Callee)) {
      for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
        if (holderOf(Call->getArg(I)) == &Queue &&
            (FunctionFacts::has(Facts->ShutsDownQueueParams, I) ||
             FunctionFacts::has(Facts->DrainsQueueParams, I) ||
             FunctionFacts::has(Facts->KeepsParams, I)))
          return true;
      return false;
    }
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
  // A thread launched on a lambda or a method of the queue's own code is
  // judged there, not as a hand-on.
  unsigned FirstArg = 0;
  if (const FunctionDecl *Runs = TuIndex::launchedFunction(*Call, FirstArg))
    if (llvm::isa<CXXMethodDecl>(Runs))
      return false;
  for (const Expr *Arg : Call->arguments())
    if (namesObject(Arg, &Queue) || holderOf(Arg) == &Queue)
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
  if (const auto *Later = llvm::cast_or_null<CallExpr>(
          findReachable(Flow, *At, IsServerShutdown)))
    return Later;
  // In a destructor, the bases' destructors run after its body: a server
  // shut down there is shut down after this queue, unless this destructor
  // already shut a server down before the queue on every path.
  const auto *Dtor = llvm::dyn_cast<CXXDestructorDecl>(&Flow.function());
  if (!Dtor)
    return nullptr;
  const CallExpr *InBase = nullptr;
  derivesFrom(*Dtor->getParent(), [&](const CXXRecordDecl &Base) {
    const CXXDestructorDecl *BaseDtor =
        Base.hasDefinition() ? Base.getDefinition()->getDestructor() : nullptr;
    const FunctionDecl *Def = nullptr;
    if (BaseDtor && BaseDtor->hasBody(Def))
      anyStatement(Def->getBody(), [&](const Stmt &S) {
        if (IsServerShutdown(S))
          InBase = llvm::cast<CallExpr>(&S);
        return InBase != nullptr;
      });
    return InBase != nullptr;
  });
  if (!InBase)
    return nullptr;
  auto Judge = [&](const Stmt &S) {
    return IsServerShutdown(S) ? Verdict::Discharged : Verdict::Continue;
  };
  return findPathBackward(Flow, *At, Judge) ? InBase : nullptr;
}

//===--- Threads that poll a queue ----------------------------------------===//

namespace {

bool isPollCall(const CallExpr &Call) {
  return isQueueCall(Call, "Next") || isQueueCall(Call, "AsyncNext");
}

/// The variable a poll's result is kept in (`auto st = cq.AsyncNext(...)`,
/// `st = cq.AsyncNext(...)`), or null.
const VarDecl *pollResultVar(const CallExpr &Poll, ASTContext &Ctx) {
  const Stmt *Current = &Poll;
  for (unsigned Hops = 0; Hops < 4; ++Hops) {
    ParentList Parents = parentsOf(Ctx, *Current);
    if (Parents.size() != 1)
      return nullptr;
    if (const auto *Var = Parents[0].get<VarDecl>())
      return Var;
    const auto *Parent = Parents[0].get<Expr>();
    if (!Parent)
      return nullptr;
    if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(Parent))
      return Assign->getOpcode() == BO_Assign ? referencedVar(Assign->getLHS())
                                              : nullptr;
    if (!llvm::isa<ImplicitCastExpr, ParenExpr, ExprWithCleanups>(Parent))
      return nullptr;
    Current = Parent;
  }
  return nullptr;
}

/// True if \p Cond tests the poll's outcome and nothing else: the poll
/// (`while (cq->Next(...))`), its negation, or a comparison of it (or of
/// the variable holding it) with a constant (`!= SHUTDOWN`).
bool testsOnlyPoll(const Expr *Cond, const CallExpr &Poll, const VarDecl *Result) {
  if (!Cond)
    return false;
  Cond = stripValue(Cond);
  if (Cond == &Poll || (Result && isRefTo(Cond, Result)))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Cond))
    return U->getOpcode() == UO_LNot &&
           testsOnlyPoll(U->getSubExpr(), Poll, Result);
  if (const auto *B = llvm::dyn_cast<BinaryOperator>(Cond))
    if (B->isEqualityOp())
      for (const Expr *Side : {B->getLHS(), B->getRHS()}) {
        const Expr *Other = Side == B->getLHS() ? B->getRHS() : B->getLHS();
        if (testsOnlyPoll(Side, Poll, Result) &&
            !Other->HasSideEffects(Result ? Result->getASTContext()
                                          : Poll.getCalleeDecl()->getASTContext()) &&
            !anyStatement(Other, [](const Stmt &S) {
              return llvm::isa<DeclRefExpr>(&S) &&
                     llvm::isa<VarDecl>(llvm::cast<DeclRefExpr>(&S)->getDecl());
            }))
          return true;
      }
  return false;
}

/// The loop's condition, or null (`for (;;)`).
const Expr *loopCondition(const Stmt &Loop) {
  if (const auto *While = llvm::dyn_cast<WhileStmt>(&Loop))
    return While->getCond();
  if (const auto *Do = llvm::dyn_cast<DoStmt>(&Loop))
    return Do->getCond();
  if (const auto *For = llvm::dyn_cast<ForStmt>(&Loop))
    return For->getCond();
  return nullptr;
}

const Stmt *loopBody(const Stmt &Loop) {
  if (const auto *While = llvm::dyn_cast<WhileStmt>(&Loop))
    return While->getBody();
  if (const auto *Do = llvm::dyn_cast<DoStmt>(&Loop))
    return Do->getBody();
  if (const auto *For = llvm::dyn_cast<ForStmt>(&Loop))
    return For->getBody();
  if (const auto *Range = llvm::dyn_cast<CXXForRangeStmt>(&Loop))
    return Range->getBody();
  return nullptr;
}

/// The statements that leave the loop whose body is \p S: breaks not inside
/// a nested loop or switch, returns and gotos; lambdas are not entered.
void collectExits(const Stmt *S, bool InNested,
                  llvm::SmallVectorImpl<const Stmt *> &Exits) {
  if (!S || llvm::isa<LambdaExpr>(S))
    return;
  if (llvm::isa<ReturnStmt, GotoStmt, CXXThrowExpr>(S) ||
      (llvm::isa<BreakStmt>(S) && !InNested)) {
    Exits.push_back(S);
    return;
  }
  bool Nested = InNested || llvm::isa<ForStmt, WhileStmt, DoStmt,
                                      CXXForRangeStmt, SwitchStmt>(S);
  for (const Stmt *Child : S->children())
    collectExits(Child, Nested, Exits);
}

/// The condition of the innermost `if` around \p Exit within \p Loop.
const Expr *guardOf(const Stmt &Exit, const Stmt &Loop, ASTContext &Ctx) {
  const Stmt *Child = &Exit;
  ParentList Parents = parentsOf(Ctx, Exit);
  while (!Parents.empty()) {
    const auto *P = Parents[0].get<Stmt>();
    if (!P || P == &Loop)
      return nullptr;
    if (const auto *If = llvm::dyn_cast<IfStmt>(P))
      if (Child != If->getCond())
        return If->getCond();
    Child = P;
    Parents = parentsOf(Ctx, *P);
  }
  return nullptr;
}

/// How the loop \p Loop around \p Poll ends.
QueuePoll classifyPoll(const CallExpr &Poll, const ValueDecl &Queue,
                       const Stmt &Loop, ASTContext &Ctx) {
  QueuePoll Result;
  Result.Queue = &Queue;
  Result.Poll = &Poll;
  Result.Loop = &Loop;
  const VarDecl *ResultVar = pollResultVar(Poll, Ctx);
  const Expr *Cond = loopCondition(Loop);
  bool Forever = !Cond;
  bool Value = false;
  if (Cond && !Cond->isValueDependent() &&
      Cond->EvaluateAsBooleanCondition(Value, Ctx) && Value)
    Forever = true;
  if (!Forever && !testsOnlyPoll(Cond, Poll, ResultVar)) {
    Result.LeavesEarly = true;
    Result.EarlyExit = Cond;
    return Result;
  }
  llvm::SmallVector<const Stmt *, 4> Exits;
  collectExits(loopBody(Loop), false, Exits);
  for (const Stmt *Exit : Exits) {
    const Expr *Guard = guardOf(*Exit, Loop, Ctx);
    if (!Guard || !testsOnlyPoll(Guard, Poll, ResultVar)) {
      Result.LeavesEarly = true;
      Result.EarlyExit = Exit;
      return Result;
    }
  }
  return Result;
}

void collectPolls(const FunctionDecl &Fn, unsigned Depth,
                  llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen,
                  llvm::SmallVectorImpl<QueuePoll> &Polls) {
  const FunctionDecl *Def = nullptr;
  if (!Fn.hasBody(Def) || !Seen.insert(Def).second || isUnanalyzable(*Def))
    return;
  ASTContext &Ctx = Def->getASTContext();
  llvm::SmallVector<const FunctionDecl *, 4> Callees;
  anyStatement(Def->getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return false;
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call);
        Member && isPollCall(*Call)) {
      const Stmt *Loop = enclosingLoopIn(*Call, *Def);
      if (const ValueDecl *Queue = ownedQueueOf(*Member); Queue && Loop)
        Polls.push_back(classifyPoll(*Call, *Queue, *Loop, Ctx));
      return false;
    }
    if (const FunctionDecl *Callee = Call->getDirectCallee())
      if (!Ctx.getSourceManager().isInSystemHeader(Callee->getLocation()))
        Callees.push_back(Callee);
    return false;
  });
  if (Depth == 0)
    return;
  for (const FunctionDecl *Callee : Callees)
    collectPolls(*Callee, Depth - 1, Seen, Polls);
}

/// The statements of the code that owns \p Holder (its class and
/// subclasses, with constructor initialisers; or its function).
void forEachOwnerStatement(const ValueDecl &Holder,
                           llvm::function_ref<void(const Stmt &)> Visit) {
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(&Holder)) {
    anyMethodMay(*Field, [&](const Stmt &S, const FieldDecl &) {
      Visit(S);
      return false;
    });
    auto VisitInits = [&](const CXXRecordDecl &Class) {
      if (!Class.hasDefinition())
        return;
      for (const CXXConstructorDecl *Ctor : Class.getDefinition()->ctors()) {
        const FunctionDecl *Def = nullptr;
        if (!Ctor->hasBody(Def))
          continue;
        for (const CXXCtorInitializer *Init :
             llvm::cast<CXXConstructorDecl>(Def)->inits())
          if (Init->getMember() == Field && Init->getInit())
            anyStatement(Init->getInit(), [&](const Stmt &S) {
              Visit(S);
              return false;
            });
      }
    };
    if (const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Field->getParent())) {
      VisitInits(*Class);
      for (const CXXRecordDecl *Derived :
           TuIndex::get(Field->getASTContext()).subclassesOf(*Class))
        VisitInits(*Derived);
    }
    return;
  }
  if (const auto *Owner =
          llvm::dyn_cast_or_null<FunctionDecl>(Holder.getParentFunctionOrMethod()))
    anyStatement(Owner->getBody(), [&](const Stmt &S) {
      Visit(S);
      return false;
    });
}

/// What gives \p Thread its thread(s) in \p S: the value assigned to it,
/// a member call on it that adds one (emplace_back, push_back, reset), its
/// declaration's initialiser. Null if \p S is none of these.
/// (Constructor initialisers: threadFunctions.)
const Stmt *threadSource(const Stmt &S, const ValueDecl &Thread) {
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
    return Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
                   holderOf(Op->getArg(0)) == &Thread
               ? Op->getArg(1)
               : nullptr;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&S)) {
    const CXXMethodDecl *MD = Member->getMethodDecl();
    if (MD && MD->getIdentifier() && objectOf(*Member) == &Thread &&
        llvm::is_contained({"emplace_back", "push_back", "emplace", "reset",
                            "insert"},
                           MD->getName()))
      return &S;
    return nullptr;
  }
  if (const auto *Decls = llvm::dyn_cast<DeclStmt>(&S))
    for (const Decl *D : Decls->decls())
      if (D == &Thread)
        return llvm::cast<VarDecl>(D)->getInit();
  return nullptr;
}

} // namespace

const Stmt *enclosingLoopIn(const Stmt &S, const FunctionDecl &Fn) {
  ASTContext &Ctx = Fn.getASTContext();
  const Stmt *Loop = enclosingLoop(S, Ctx);
  return Loop && enclosingCallable(*Loop, Ctx) == enclosingCallable(S, Ctx)
             ? Loop
             : nullptr;
}

llvm::SmallVector<QueuePoll, 2> queuePolls(const FunctionDecl &Fn) {
  llvm::SmallVector<QueuePoll, 2> Polls;
  llvm::SmallPtrSet<const FunctionDecl *, 4> Seen;
  collectPolls(Fn, 2, Seen, Polls);
  return Polls;
}

llvm::SmallVector<const FunctionDecl *, 2>
threadFunctions(const ValueDecl &Thread) {
  llvm::SmallVector<const FunctionDecl *, 2> Functions;
  auto AddLaunches = [&](const Stmt &Source) {
    anyStatement(&Source, [&](const Stmt &S) {
      unsigned FirstArg = 0;
      if (const auto *E = llvm::dyn_cast<Expr>(&S))
        if (const FunctionDecl *Runs = TuIndex::launchedFunction(*E, FirstArg))
          if (!llvm::is_contained(Functions, Runs))
            Functions.push_back(Runs);
      return false;
    });
  };
  forEachOwnerStatement(Thread, [&](const Stmt &S) {
    if (const Stmt *Source = threadSource(S, Thread))
      AddLaunches(*Source);
  });
  // A constructor initialiser `thread_([this] { ... })`.
  if (const auto *Field = llvm::dyn_cast<FieldDecl>(&Thread))
    if (const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Field->getParent());
        Class && Class->hasDefinition())
      for (const CXXConstructorDecl *Ctor : Class->getDefinition()->ctors()) {
        const FunctionDecl *Def = nullptr;
        if (!Ctor->hasBody(Def))
          continue;
        for (const CXXCtorInitializer *Init :
             llvm::cast<CXXConstructorDecl>(Def)->inits())
          if (Init->getMember() == Field && Init->getInit())
            AddLaunches(*Init->getInit());
      }
  return Functions;
}

const ValueDecl *joinedThreads(const CallExpr &Call) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *MD = Member ? Member->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() || MD->getName() != "join" ||
      !(hasQualifiedName(MD->getParent(), "::std::thread") ||
        hasQualifiedName(MD->getParent(), "::std::jthread")))
    return nullptr;
  return objectOf(*Member);
}

/// The polling loops, over \p Queue, of the threads \p Thread holds.
static llvm::SmallVector<QueuePoll, 2> threadPolls(const ValueDecl &Thread,
                                                   const ValueDecl *Queue) {
  llvm::SmallVector<QueuePoll, 2> Result;
  for (const FunctionDecl *Fn : threadFunctions(Thread))
    for (const QueuePoll &Poll : queuePolls(*Fn))
      if (!Queue || Poll.Queue == Queue)
        Result.push_back(Poll);
  return Result;
}

std::optional<JoinBeforeShutdown>
findJoinBeforeShutdown(const FunctionFlow &Flow, const CallExpr &Join) {
  const ValueDecl *Thread = joinedThreads(Join);
  std::optional<CfgPoint> At = Flow.locate(Join);
  if (!Thread || !At)
    return std::nullopt;
  for (const QueuePoll &Poll : threadPolls(*Thread, nullptr)) {
    if (Poll.LeavesEarly)
      continue;
    auto IsShutdown = [&](const Stmt &S) {
      const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
      return Call && isQueueCall(*Call, "Shutdown") &&
             objectOf(*Call) == Poll.Queue;
    };
    const auto *Later =
        llvm::cast_or_null<CallExpr>(findReachable(Flow, *At, IsShutdown));
    if (!Later)
      continue; // shut down elsewhere, before this is called
    auto Judge = [&](const Stmt &S) {
      return IsShutdown(S) || shutsDownOrHandsOnQueue(S, *Poll.Queue)
                 ? Verdict::Discharged
                 : Verdict::Continue;
    };
    if (findPathBackward(Flow, *At, Judge))
      return JoinBeforeShutdown{Poll, Later};
  }
  return std::nullopt;
}

/// True if \p S shows that \p Queue receives events: it is polled, or given
/// to gRPC's API or a generated stub or service (which post tags on it).
static bool receivesEvents(const Stmt &S, const ValueDecl &Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
    if (isPollCall(*Call) && ownedQueueOf(*Member) == &Queue)
      return true;
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee || !(isInGrpcNamespace(*Callee) ||
                   isInGeneratedFile(Callee->getLocation(),
                                     Callee->getASTContext().getSourceManager())))
    return false;
  for (const Expr *Arg : Call->arguments())
    if (holderOf(Arg) == &Queue)
      return true;
  return false;
}

bool drainsQueue(const Stmt &S, const ValueDecl &Queue) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return false;
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
    if (isPollCall(*Call) &&
        (objectOf(*Member) == &Queue || ownedQueueOf(*Member) == &Queue)) {
      const FunctionDecl *Fn =
          enclosingCallable(*Call, Queue.getASTContext());
      const Stmt *Loop = Fn ? enclosingLoopIn(*Call, *Fn) : nullptr;
      return !Loop || !classifyPoll(*Call, Queue, *Loop, Queue.getASTContext())
                           .LeavesEarly;
    }
    if (isQueueCall(*Call, "Shutdown"))
      return false;
  }
  // A helper defined in another file: what its summary says.
  if (const FunctionDecl *Callee = Call->getDirectCallee())
    if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(*Callee)) {
      for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I)
        if (holderOf(Call->getArg(I)) == &Queue &&
            (FunctionFacts::has(Facts->DrainsQueueParams, I) ||
             FunctionFacts::has(Facts->KeepsParams, I)))
          return true;
      return false;
    }
  return shutsDownOrHandsOnQueue(S, Queue);
}

std::optional<UndrainedQueue> findUndrainedQueue(const FunctionFlow &Flow,
                                                 const CallExpr &Shutdown,
                                                 const ValueDecl &Queue) {
  const auto *Field = llvm::dyn_cast<FieldDecl>(&Queue);
  bool Dies = llvm::isa<VarDecl>(Queue) ||
              (Field && llvm::isa<CXXDestructorDecl>(&Flow.function()));
  UndrainedQueue Result;
  if (!Dies) {
    // A member shut down by a stop method lives on: only a class that
    // gives it events (polls it, posts on it) and never drains it is wrong
    // for sure.
    if (!Field || anyMethodMay(*Field, [](const Stmt &S, const FieldDecl &M) {
          return drainsQueue(S, M);
        }) || !anyMethodMay(*Field, [](const Stmt &S, const FieldDecl &M) {
          return receivesEvents(S, M);
        }))
      return std::nullopt;
    Result.NeverDrained = true;
  }
  std::optional<CfgPoint> At = Flow.locate(Shutdown);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    if (llvm::isa<CXXThrowExpr>(&S))
      return Verdict::Discharged;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call || Call == &Shutdown)
      return Verdict::Continue;
    if (const ValueDecl *Thread = joinedThreads(*Call)) {
      // Joining a poller thread drains it, unless its loop can end first.
      for (const QueuePoll &Poll : threadPolls(*Thread, &Queue))
        if (Poll.LeavesEarly) {
          if (!Result.Join) {
            Result.Join = Call;
            Result.EarlyPoller = Poll;
          }
          return Verdict::Continue;
        }
      return Verdict::Discharged;
    }
    return drainsQueue(*Call, Queue) ? Verdict::Discharged : Verdict::Continue;
  };
  std::optional<FlowPath> Path = findPathForward(Flow, *At, Judge);
  if (!Path)
    return std::nullopt;
  Result.Path = std::move(*Path);
  return Result;
}

/// For a block ending in `if` on the outcome of \p AsyncNext: the index of
/// the successor taken on TIMEOUT, or std::nullopt.
static std::optional<unsigned> timeoutSuccessor(const CFGBlock &Block,
                                                const CallExpr &AsyncNext,
                                                const VarDecl *ResultVar) {
  if (Block.succ_size() != 2)
    return std::nullopt;
  const auto *Cond =
      llvm::dyn_cast_or_null<Expr>(Block.getTerminatorCondition());
  if (!Cond)
    return std::nullopt;
  bool Negated = false;
  Cond = stripValue(Cond);
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(Cond);
      U && U->getOpcode() == UO_LNot) {
    Negated = true;
    Cond = stripValue(U->getSubExpr());
  }
  const auto *B = llvm::dyn_cast<BinaryOperator>(Cond);
  if (!B || !B->isEqualityOp())
    return std::nullopt;
  auto IsOutcome = [&](const Expr *E) {
    E = stripValue(E);
    return E == &AsyncNext || (ResultVar && isRefTo(E, ResultVar));
  };
  const Expr *Constant = IsOutcome(B->getLHS())   ? B->getRHS()
                         : IsOutcome(B->getRHS()) ? B->getLHS()
                                                  : nullptr;
  const auto *Ref =
      Constant ? llvm::dyn_cast<DeclRefExpr>(stripValue(Constant)) : nullptr;
  const auto *Enumerator =
      Ref ? llvm::dyn_cast<EnumConstantDecl>(Ref->getDecl()) : nullptr;
  if (!Enumerator || !Enumerator->getIdentifier())
    return std::nullopt;
  // TIMEOUT is taken when `== TIMEOUT` holds, or `!= GOT_EVENT` holds.
  bool TrueIsTimeout;
  if (Enumerator->getName() == "TIMEOUT")
    TrueIsTimeout = B->getOpcode() == BO_EQ;
  else if (Enumerator->getName() == "GOT_EVENT")
    TrueIsTimeout = B->getOpcode() == BO_NE;
  else
    return std::nullopt;
  return (TrueIsTimeout != Negated) ? 0u : 1u;
}

std::optional<FlowPath> findTimeoutAbandonment(const FunctionFlow &Flow,
                                               const CallExpr &AsyncNext) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&AsyncNext);
  if (!Member || !isQueueCall(AsyncNext, "AsyncNext"))
    return std::nullopt;
  const auto *Queue = llvm::dyn_cast_or_null<VarDecl>(ownedQueueOf(*Member));
  if (!Queue)
    return std::nullopt; // a member outlives the function
  // Something must be pending: the queue was given to gRPC's API (an RPC
  // started on it, a Finish() or Read() posting a tag, an alarm).
  bool Pending = anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    return Call && !isPollCall(*Call) && receivesEvents(S, *Queue);
  });
  std::optional<CfgPoint> At = Flow.locate(AsyncNext);
  if (!Pending || !At)
    return std::nullopt;
  const VarDecl *ResultVar = pollResultVar(AsyncNext, Flow.context());
  // The block that tests the outcome: this one, or one reached from it.
  const CFGBlock *Test = nullptr;
  std::optional<unsigned> TimeoutEdge;
  llvm::SmallVector<const CFGBlock *, 4> Work{At->Block};
  llvm::SmallPtrSet<const CFGBlock *, 8> Seen;
  while (!Work.empty() && !Test) {
    const CFGBlock *B = Work.pop_back_val();
    if (!Seen.insert(B).second || Seen.size() > 8)
      continue;
    if ((TimeoutEdge = timeoutSuccessor(*B, AsyncNext, ResultVar))) {
      Test = B;
      break;
    }
    for (const CFGBlock::AdjacentBlock &Succ : B->succs())
      if (const CFGBlock *Next = Succ.getReachableBlock())
        Work.push_back(Next);
  }
  if (!Test || Test->empty())
    return std::nullopt;
  auto Follow = [&](const CFGBlock &From, unsigned SuccIndex) {
    return &From != Test || SuccIndex == *TimeoutEdge;
  };
  auto Judge = [&](const Stmt &S) {
    if (llvm::isa<CXXThrowExpr>(&S))
      return Verdict::Discharged;
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call)
      return Verdict::Continue;
    if (const auto *M = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if ((isPollCall(*Call) || isQueueCall(*Call, "Pluck")) &&
          ownedQueueOf(*M) == Queue)
        return Verdict::Discharged;
    return shutsDownOrHandsOnQueue(S, *Queue) && !isQueueCall(*Call, "Shutdown")
               ? Verdict::Discharged
               : Verdict::Continue;
  };
  return findPathForward(Flow, CfgPoint{Test, Test->size() - 1}, Judge, Follow);
}

} // namespace grpcleak
