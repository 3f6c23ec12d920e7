//===- StreamProtocol.cpp - A client stream's Finish and half-close -------===//

#include "grpcleak/StreamProtocol.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/Summaries.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtCXX.h"

using namespace clang;

namespace grpcleak {
namespace {

/// True if \p T (after references) is a std::unique_ptr or std::shared_ptr:
/// what holds a stream a stub call returns.
bool isSmartPointer(QualType T) {
  const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  return RD && (hasQualifiedName(RD, "::std::unique_ptr") ||
                hasQualifiedName(RD, "::std::shared_ptr"));
}

/// The variable or field an expression naming a context refers to: `&ctx`,
/// `ctx.get()`, `ctx` (a pointer), `&ctx_`, `ctx_.get()`.
const ValueDecl *namedObject(const Expr *E) {
  E = stripValue(E);
  if (const auto *U = llvm::dyn_cast_or_null<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref)
      E = stripValue(U->getSubExpr());
  if (const auto *Get = llvm::dyn_cast_or_null<CXXMemberCallExpr>(E))
    if (const CXXMethodDecl *MD = Get->getMethodDecl())
      if (MD->getIdentifier() && MD->getName() == "get")
        E = stripValue(Get->getImplicitObjectArgument());
  if (const auto *Ref = llvm::dyn_cast_or_null<DeclRefExpr>(E))
    return Ref->getDecl();
  if (const auto *Member = llvm::dyn_cast_or_null<MemberExpr>(E))
    return Member->getMemberDecl();
  return nullptr;
}

/// The object expression underneath `s->`, `*s`, `s.get()`, `std::move(s)`:
/// what a summary compares with the parameter.
const Expr *baseObject(const Expr *E) {
  while (E) {
    E = stripValue(E);
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(E)) {
      if ((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
          Op->getNumArgs() >= 1) {
        E = Op->getArg(0);
        continue;
      }
      return E;
    }
    if (const auto *U = llvm::dyn_cast<UnaryOperator>(E)) {
      if (U->getOpcode() == UO_Deref || U->getOpcode() == UO_AddrOf) {
        E = U->getSubExpr();
        continue;
      }
      return E;
    }
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(E)) {
      const CXXMethodDecl *MD = Member->getMethodDecl();
      if (MD && MD->getIdentifier() && MD->getName() == "get") {
        E = Member->getImplicitObjectArgument();
        continue;
      }
      return E;
    }
    if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
      const FunctionDecl *FD = Call->getDirectCallee();
      if (FD && hasQualifiedName(FD, "::std::move") && Call->getNumArgs() == 1) {
        E = Call->getArg(0);
        continue;
      }
    }
    return E;
  }
  return E;
}

/// True if \p E is `std::move(...)`.
bool isMove(const Expr *E) {
  const auto *Call = llvm::dyn_cast_or_null<CallExpr>(stripValue(E));
  const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
  return FD && hasQualifiedName(FD, "::std::move");
}

/// A summary "release": a call of \p Roles on some stream object, which it
/// returns in \p Object.
bool isStreamCallOf(const CallExpr &Call, const Expr *&Object, bool HalfCloseToo) {
  std::optional<StreamCallRole> Role = clientStreamCallRole(Call);
  if (!Role || (*Role == StreamCallRole::HalfClose && !HalfCloseToo))
    return false;
  Object = baseObject(
      llvm::cast<CXXMemberCallExpr>(Call).getImplicitObjectArgument());
  return Object != nullptr;
}

/// True if the statement \p Child, inside \p Parent, is evaluated each time
/// \p Parent is and its value (a status) is only looked at: the shapes in
/// which a statement inserted before the one holding \p Parent runs exactly
/// on the paths to it.
bool passesValueThrough(const DynTypedNode &Parent, const Stmt &Child) {
  if (Parent.get<ImplicitCastExpr>() || Parent.get<MaterializeTemporaryExpr>() ||
      Parent.get<CXXBindTemporaryExpr>() || Parent.get<ExprWithCleanups>() ||
      Parent.get<ParenExpr>() || Parent.get<CXXConstructExpr>() ||
      Parent.get<ReturnStmt>() || Parent.get<VarDecl>() || Parent.get<DeclStmt>())
    return true;
  // `.ok()`, `.error_code()` on the status.
  if (const auto *Member = Parent.get<MemberExpr>())
    return Member->getBase() == &Child;
  if (const auto *Call = Parent.get<CXXMemberCallExpr>())
    return Call->getCallee() == &Child;
  if (const auto *Assign = Parent.get<BinaryOperator>())
    return Assign->getOpcode() == BO_Assign && Assign->getRHS() == &Child;
  if (const auto *Op = Parent.get<CXXOperatorCallExpr>())
    return Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
           Op->getArg(1) == &Child;
  return false;
}

} // namespace

std::optional<StartedStream> startedStream(const RpcStart &Start,
                                           ASTContext &Ctx) {
  if (!Start.Streaming || !Start.Call || !Start.Method)
    return std::nullopt;
  const ValueDecl *Holder = resultHolder(*Start.Call, Ctx);
  if (!Holder || !llvm::isa<VarDecl, FieldDecl>(Holder) ||
      !isSmartPointer(Holder->getType()))
    return std::nullopt;
  StartedStream Stream;
  Stream.Start = Start;
  Stream.Holder = Holder;
  Stream.Context = namedObject(Start.Context);
  // A generic stub's stream carries any kind of method: a server streaming
  // one needs no half-close, so its protocol is not judged.
  const auto *Stub = llvm::dyn_cast<CXXRecordDecl>(Start.Method->getParent());
  bool Generic = Stub && isInstanceOfTemplate(*Stub, "::grpc::TemplatedGenericStub");
  Stream.Writes = startsWritingStream(Start) && !Generic;
  return Stream;
}

bool callsStreamRole(const Stmt &S, const ValueDecl &Holder,
                     StreamCallRole Role) {
  const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
  if (!Call)
    return false;
  std::optional<StreamCallRole> Called = clientStreamCallRole(*Call);
  return Called && *Called == Role &&
         namesObject(Call->getImplicitObjectArgument(), &Holder);
}

StreamProtocolAnalysis::StreamProtocolAnalysis(ASTContext &Ctx,
                                               unsigned SummaryDepth)
    : Ctx(Ctx), Finishes(Ctx, nullptr, {}, SummaryDepth),
      Closes(Ctx, nullptr, {}, SummaryDepth) {
  Finishes.setExtraRelease([](const CallExpr &Call, const Expr *&Object) {
    return isStreamCallOf(Call, Object, /*HalfCloseToo=*/false);
  });
  Closes.setExtraRelease([](const CallExpr &Call, const Expr *&Object) {
    return isStreamCallOf(Call, Object, /*HalfCloseToo=*/true);
  });
}

bool StreamProtocolAnalysis::cancelsContext(const Stmt &S,
                                            const StartedStream &Stream) const {
  const Expr *Object = nullptr;
  return Stream.Context &&
         isClientContextMethodCall(llvm::dyn_cast<CallExpr>(&S), "TryCancel",
                                   Object) &&
         namesObject(Object, Stream.Context);
}

bool StreamProtocolAnalysis::handsOn(const Stmt &S, const ValueDecl &Holder,
                                     StreamCallRole Role) {
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&S)) {
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if (MD->getIdentifier() && MD->getName() == "release" &&
            namesObject(Member->getImplicitObjectArgument(), &Holder))
          return true;
    const FunctionDecl *Callee = Call->getDirectCallee();
    const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call);
    unsigned Offset = Op && Callee && llvm::isa<CXXMethodDecl>(Callee) ? 1 : 0;
    for (unsigned I = 0, E = Call->getNumArgs(); I != E; ++I) {
      const Expr *Arg = Call->getArg(I);
      if (!namesObject(Arg, &Holder))
        continue;
      // `s->X()`, `*s`, comparisons, and `s = ...` use the holder.
      if (Op && (Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star ||
                 Op->getOperator() == OO_EqualEqual ||
                 Op->getOperator() == OO_ExclaimEqual ||
                 (Op->getOperator() == OO_Equal && I == 0)))
        continue;
      if (isMove(Arg) || !Callee)
        return true; // moved away, or called through a pointer
      // gRPC's own API and the generated code never finish a user's stream.
      if (isInGrpcNamespace(*Callee) ||
          isInGeneratedFile(Callee->getLocation(), Ctx.getSourceManager()))
        continue;
      if (I < Offset)
        continue; // the object of a member operator: used, not passed
      unsigned Param = I - Offset;
      if (Callee->isVariadic() && Param >= Callee->getNumParams())
        continue; // printf-style arguments are only read
      if (Param < Callee->getNumParams() &&
          !Callee->getParamDecl(Param)->getType()->isReferenceType() &&
          !Callee->getParamDecl(Param)->getType()->isPointerType())
        return true; // a copy of the holder (a shared_ptr) lives on there
      // Defined in another file: its summary says whether it finishes (or
      // keeps) the stream it is given; of half-closes it says nothing.
      if (Role == StreamCallRole::Finish && !Callee->hasBody())
        if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(*Callee)) {
          if (FunctionFacts::has(Facts->FinishesStreamParams, Param) ||
              FunctionFacts::has(Facts->KeepsParams, Param))
            return true;
          continue;
        }
      HandleLifetimeAnalysis &Summaries =
          Role == StreamCallRole::Finish ? Finishes : Closes;
      if (Summaries.summarize(*Callee, Param) != ParamEffect::None)
        return true;
    }
    return false;
  }
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&S)) {
    for (const Expr *Arg : Construct->arguments())
      if (namesObject(Arg, &Holder))
        return true; // wrapped by an object (a guard), or moved into one
    return false;
  }
  if (const auto *Return = llvm::dyn_cast<ReturnStmt>(&S))
    return returnsObject(*Return, &Holder);
  if (const auto *Assign = llvm::dyn_cast<BinaryOperator>(&S))
    return Assign->isAssignmentOp() && namesObject(Assign->getRHS(), &Holder);
  if (const auto *Decl = llvm::dyn_cast<DeclStmt>(&S)) {
    for (const clang::Decl *D : Decl->decls())
      if (const auto *Other = llvm::dyn_cast<VarDecl>(D))
        if (Other != &Holder && Other->hasInit() &&
            namesObject(Other->getInit(), &Holder))
          return true; // an alias: `auto *raw = s.get();`
    return false;
  }
  if (const auto *List = llvm::dyn_cast<InitListExpr>(&S)) {
    for (const Expr *Init : List->inits())
      if (namesObject(Init, &Holder))
        return true;
    return false;
  }
  if (const auto *Lambda = llvm::dyn_cast<LambdaExpr>(&S)) {
    for (const LambdaCapture &Capture : Lambda->captures())
      if (Capture.capturesVariable() && Capture.getCapturedVar() == &Holder)
        return true;
    return false;
  }
  return false;
}

Verdict StreamProtocolAnalysis::judge(const Stmt &S, const StartedStream &Stream,
                                      StreamCallRole Role) {
  const ValueDecl &Holder = *Stream.Holder;
  bool ForFinish = Role == StreamCallRole::Finish;
  if (&S == Stream.Start.Call) // round a loop: a new stream
    return ForFinish ? Verdict::Violated : Verdict::Discharged;
  if (llvm::isa<CXXThrowExpr>(&S)) // exception paths are not judged
    return Verdict::Discharged;
  if (callsStreamRole(S, Holder, StreamCallRole::Finish))
    return ForFinish ? Verdict::Discharged : Verdict::Violated;
  if (!ForFinish && callsStreamRole(S, Holder, StreamCallRole::HalfClose))
    return Verdict::Discharged;
  if (cancelsContext(S, Stream) || handsOn(S, Holder, Role))
    return Verdict::Discharged;
  // The holder given another stream, or emptied: the old stream is gone.
  bool Replaces = false;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&S))
    Replaces = Op->getOperator() == OO_Equal && Op->getNumArgs() == 2 &&
               isRefToDecl(Op->getArg(0), &Holder) &&
               stripValue(Op->getArg(1)) != Stream.Start.Call &&
               !llvm::isa<CXXConstructExpr>(stripValue(Op->getArg(1)));
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&S))
    if (const CXXMethodDecl *MD = Member->getMethodDecl())
      Replaces = MD->getIdentifier() && MD->getName() == "reset" &&
                 isRefToDecl(Member->getImplicitObjectArgument(), &Holder);
  if (Replaces)
    return ForFinish ? Verdict::Violated : Verdict::Discharged;
  return Verdict::Continue;
}

std::optional<UnfinishedStream>
StreamProtocolAnalysis::findUnfinishedPath(const StartedStream &Stream,
                                           const FunctionFlow &Flow) {
  const auto *Var = llvm::dyn_cast_or_null<VarDecl>(Stream.Holder);
  if (!Var || !isAutomaticLocal(Var) || Var->isStaticLocal())
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(*Stream.Start.Call);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    return judge(S, Stream, StreamCallRole::Finish);
  };
  // `if (!stream) return;`: no stream on that branch.
  auto Follow = [&](const CFGBlock &From, unsigned SuccIndex) {
    if (From.succ_size() != 2)
      return true;
    std::optional<bool> NullIsTrue = serverFailureBranchIsTrue(
        llvm::dyn_cast_or_null<Expr>(From.getTerminatorCondition()), *Var);
    return !NullIsTrue || SuccIndex != (*NullIsTrue ? 0u : 1u);
  };
  std::optional<FlowPath> Path = findPathOutOfScope(Flow, *At, *Var, Judge, Follow);
  if (!Path)
    return std::nullopt;
  UnfinishedStream Result;
  Result.Path = *Path;
  Result.At = Path->ViolatedAt;
  if (Path->LeftScope && Path->ViolatedAt) {
    if (llvm::isa_and_nonnull<ReturnStmt>(Path->ViolatedAt))
      Result.How = UnfinishedStream::Exit::Return;
    else if (llvm::isa_and_nonnull<BreakStmt, ContinueStmt, GotoStmt>(
                 Path->ViolatedAt))
      Result.How = UnfinishedStream::Exit::LoopJump;
    else
      Result.How = UnfinishedStream::Exit::ScopeEnd;
  } else if (Path->ViolatedAt && !Path->LeftScope) {
    Result.How = UnfinishedStream::Exit::Replaced;
  } else if (Path->ExitReturn) {
    Result.How = UnfinishedStream::Exit::Return;
    Result.At = Path->ExitReturn;
  } else {
    Result.How = UnfinishedStream::Exit::EndOfFunction;
  }
  return Result;
}

std::optional<FlowPath>
StreamProtocolAnalysis::findFinishBeforeHalfClose(const StartedStream &Stream,
                                                  const FunctionFlow &Flow) {
  const auto *Var = llvm::dyn_cast_or_null<VarDecl>(Stream.Holder);
  if (!Stream.Writes || !Var || !isAutomaticLocal(Var) || Var->isStaticLocal())
    return std::nullopt;
  std::optional<CfgPoint> At = Flow.locate(*Stream.Start.Call);
  if (!At)
    return std::nullopt;
  auto Judge = [&](const Stmt &S) {
    return judge(S, Stream, StreamCallRole::HalfClose);
  };
  return findViolationForward(Flow, *At, Judge);
}

const CallExpr *
StreamProtocolAnalysis::memberFinishBeforeHalfClose(const StartedStream &Stream) {
  const auto *Field = llvm::dyn_cast_or_null<FieldDecl>(Stream.Holder);
  const auto *Class =
      Field ? llvm::dyn_cast<CXXRecordDecl>(Field->getParent()) : nullptr;
  if (!Stream.Writes || !Class)
    return nullptr;
  // In a class template's code the member is the template's own (\p M).
  auto MayHalfClose = [&](const Stmt &S, const FieldDecl &M) {
    return callsStreamRole(S, M, StreamCallRole::HalfClose) ||
           cancelsContext(S, Stream) ||
           handsOn(S, M, StreamCallRole::HalfClose);
  };
  if (anyMethodMay(*Field, MayHalfClose))
    return nullptr;
  const CallExpr *Finish = nullptr;
  bool Unseen = false;
  anyMethodStatement(
      *Class,
      [&](const Stmt &S) {
        if (!callsStreamRole(S, *Field, StreamCallRole::Finish))
          return false;
        Finish = llvm::cast<CallExpr>(&S);
        return true;
      },
      Unseen);
  return Finish;
}

const Stmt *StreamProtocolAnalysis::halfCloseInsertionPoint(
    const StartedStream &Stream, const CallExpr &Finish, const FunctionFlow &Flow) {
  const auto *Var = llvm::dyn_cast_or_null<VarDecl>(Stream.Holder);
  if (Stream.Start.Api != RpcApi::Sync || !Var || !isAutomaticLocal(Var))
    return nullptr;
  if (Finish.getBeginLoc().isMacroID() || Finish.getEndLoc().isMacroID())
    return nullptr;
  // The only Finish() on the stream here, no half-close, no cancel, and the
  // stream not handed on: then no path reaches Finish() half-closed, and one
  // more WritesDone() can never be a second one.
  unsigned Finishes = 0;
  bool Other = anyStatement(Flow.function().getBody(), [&](const Stmt &S) {
    if (callsStreamRole(S, *Var, StreamCallRole::Finish))
      ++Finishes;
    return callsStreamRole(S, *Var, StreamCallRole::HalfClose) ||
           cancelsContext(S, Stream) ||
           handsOn(S, *Var, StreamCallRole::HalfClose);
  });
  if (Other || Finishes != 1)
    return nullptr;
  // From the call up to the statement of a block that evaluates it.
  const Stmt *Child = &Finish;
  DynTypedNode Current = DynTypedNode::create(Finish);
  while (true) {
    ParentList Parents = parentsOf(Ctx, Current);
    if (Parents.size() != 1)
      return nullptr;
    if (Parents[0].get<CompoundStmt>())
      break;
    if (!passesValueThrough(Parents[0], *Child))
      return nullptr;
    if (const auto *Parent = Parents[0].get<Stmt>())
      Child = Parent;
    Current = Parents[0];
  }
  if (Child->getBeginLoc().isMacroID() ||
      enclosingCallable(*Child, Ctx) != &Flow.function())
    return nullptr;
  return Child;
}

} // namespace grpcleak
