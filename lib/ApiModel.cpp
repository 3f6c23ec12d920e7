//===- ApiModel.cpp - What the gRPC API does, as the checks need it --------===//

#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include <cctype>

using namespace clang;

namespace grpcleak {
namespace {

const CoreHandlePair CoreHandles[] = {
#define GRPC_CORE_HANDLE(Noun, Acquire, Release, ReleaseArg)                   \
  {Noun, #Acquire, #Release, ReleaseArg, -1},
#define GRPC_CORE_OUT_HANDLE(Noun, Init, InitArg, Release, ReleaseArg)         \
  {Noun, #Init, #Release, ReleaseArg, InitArg},
#include "grpcleak/GrpcApi.def"
};

const ReleasePrerequisite Prerequisites[] = {
#define GRPC_CORE_RELEASE_NEEDS(Release, Prerequisite, Step, Since)            \
  {#Release, Prerequisite, Step, Since},
#include "grpcleak/GrpcApi.def"
};

struct OwnershipEntry {
  llvm::StringRef Function;
  unsigned Arg;
};
const OwnershipEntry CoreOwnershipTakers[] = {
#define GRPC_CORE_TAKES_OWNERSHIP(Function, Arg) {#Function, Arg},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef ChannelFactories[] = {
#define GRPC_CHANNEL_FACTORY(Name) Name,
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef ClientStreams[] = {
#define GRPC_CLIENT_STREAM(Name) Name,
#include "grpcleak/GrpcApi.def"
};

struct ReactorEntry {
  llvm::StringRef Name;
  ReactorSide Side;
  bool Streaming;
};
const ReactorEntry Reactors[] = {
#define GRPC_REACTOR(Name, Side, Streaming)                                    \
  {Name, ReactorSide::Side, Streaming},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef Reactions[] = {
#define GRPC_REACTION(Method) Method,
#include "grpcleak/GrpcApi.def"
};

struct StreamCallEntry {
  llvm::StringRef Method;
  StreamCallRole Role;
};
const StreamCallEntry StreamCalls[] = {
#define GRPC_CLIENT_STREAM_CALL(Method, Role) {Method, StreamCallRole::Role},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef WritingStreams[] = {
#define GRPC_CLIENT_WRITING_STREAM(Name) Name,
#include "grpcleak/GrpcApi.def"
};

struct ReactorCallEntry {
  llvm::StringRef Method;
  ReactorSide Side;
  ReactorCallRole Role;
};
const ReactorCallEntry ReactorCalls[] = {
#define GRPC_REACTOR_CALL(Method, Side, Role)                                  \
  {Method, ReactorSide::Side, ReactorCallRole::Role},
#include "grpcleak/GrpcApi.def"
};

struct ReactionOperationEntry {
  llvm::StringRef Reaction;
  llvm::StringRef Start;
};
const ReactionOperationEntry ReactionOperations[] = {
#define GRPC_REACTION_OPERATION(Reaction, Start) {Reaction, Start},
#include "grpcleak/GrpcApi.def"
};

struct DefaultReactorEntry {
  llvm::StringRef Class;
  llvm::StringRef Method;
};
const DefaultReactorEntry DefaultReactors[] = {
#define GRPC_DEFAULT_REACTOR(Class, Method) {Class, Method},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef ContextFromServer[] = {
#define GRPC_CONTEXT_FROM_SERVER(Method) Method,
#include "grpcleak/GrpcApi.def"
};

/// The C core declares its API at global scope with C linkage.
bool isGlobalFunction(const FunctionDecl *FD) {
  return FD && FD->getIdentifier() &&
         FD->getDeclContext()->getRedeclContext()->isTranslationUnit();
}

bool matchesAnyQualifiedName(const NamedDecl *D,
                             llvm::ArrayRef<llvm::StringRef> Names) {
  for (llvm::StringRef Name : Names)
    if (hasQualifiedName(D, Name))
      return true;
  return false;
}

/// The class template \p T is an instance of, if it is one.
const ClassTemplateDecl *templateOf(QualType T) {
  const auto *RD = T.isNull() ? nullptr : T->getAsCXXRecordDecl();
  if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
    return Spec->getSpecializedTemplate();
  return nullptr;
}

/// For `std::unique_ptr<X<...>>`, the template X.
const ClassTemplateDecl *uniquePtrPointeeTemplate(QualType T) {
  const auto *RD = T.isNull() ? nullptr : T->getAsCXXRecordDecl();
  const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || !hasQualifiedName(Spec, "::std::unique_ptr") ||
      Spec->getTemplateArgs().size() < 1 ||
      Spec->getTemplateArgs()[0].getKind() != TemplateArgument::Type)
    return nullptr;
  return templateOf(Spec->getTemplateArgs()[0].getAsType());
}

bool isPointerToClientContext(QualType T) {
  return !T.isNull() && T->isPointerType() &&
         isClientContextType(T->getPointeeType());
}

/// The name of the reactor method \p S calls, and whether it is one of a
/// reactor base of side \p Side: a resolved call of a method of a
/// GRPC_REACTOR base, or, in a template, a call through `this` whose target
/// depends on a template parameter (`this->Finish(s)` in a class derived
/// from ServerWriteReactor<T>). Empty if neither.
llvm::StringRef reactorMethodCalled(const Stmt &S, std::optional<ReactorSide> &Side) {
  const auto *Call = llvm::dyn_cast<CallExpr>(&S);
  if (!Call)
    return {};
  if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call)) {
    const CXXMethodDecl *MD = Member->getMethodDecl();
    if (!MD || !MD->getIdentifier())
      return {};
    std::optional<ReactorBase> Base = asReactorBase(*MD->getParent());
    if (!Base)
      return {};
    Side = Base->Side;
    return MD->getName();
  }
  const Expr *Callee = Call->getCallee()->IgnoreParenImpCasts();
  if (const auto *Dependent = llvm::dyn_cast<CXXDependentScopeMemberExpr>(Callee))
    if (Dependent->isImplicitAccess() ||
        llvm::isa<CXXThisExpr>(Dependent->getBase()->IgnoreParenImpCasts()))
      if (Dependent->getMember().isIdentifier())
        return Dependent->getMember().getAsIdentifierInfo()->getName();
  if (const auto *Unresolved = llvm::dyn_cast<UnresolvedMemberExpr>(Callee))
    if (Unresolved->isImplicitAccess() ||
        llvm::isa<CXXThisExpr>(Unresolved->getBase()->IgnoreParenImpCasts()))
      if (Unresolved->getMemberName().isIdentifier())
        return Unresolved->getMemberName().getAsIdentifierInfo()->getName();
  return {};
}

} // namespace

llvm::ArrayRef<CoreHandlePair> coreHandlePairs() { return CoreHandles; }

llvm::ArrayRef<ReleasePrerequisite> releasePrerequisites() {
  return Prerequisites;
}

std::vector<CoreHandlePair> parseHandlePairs(llvm::StringRef Text,
                                             llvm::StringSaver &Saver,
                                             std::string &Error) {
  std::vector<CoreHandlePair> Pairs;
  llvm::SmallVector<llvm::StringRef, 8> Items;
  Text.split(Items, ';', -1, /*KeepEmpty=*/false);
  auto IsIdentifier = [](llvm::StringRef Name) {
    return !Name.empty() && (std::isalpha(Name[0]) || Name[0] == '_') &&
           llvm::all_of(Name, [](char C) { return std::isalnum(C) || C == '_'; });
  };
  auto SplitArg = [&](llvm::StringRef Part, llvm::StringRef &Name,
                      std::optional<unsigned> &Arg) {
    auto [N, A] = Part.trim().split('@');
    Name = N.trim();
    Arg.reset();
    if (Part.contains('@')) {
      unsigned Value;
      if (A.trim().getAsInteger(10, Value))
        return false;
      Arg = Value;
    }
    return IsIdentifier(Name);
  };
  for (llvm::StringRef Item : Items) {
    Item = Item.trim();
    if (Item.empty())
      continue;
    auto [Left, Right] = Item.split('=');
    llvm::StringRef Acquire, Release;
    std::optional<unsigned> AcquireArg, ReleaseArg;
    if (!Item.contains('=') || !SplitArg(Left, Acquire, AcquireArg) ||
        !SplitArg(Right, Release, ReleaseArg)) {
      Error = Item.str();
      return {};
    }
    llvm::StringRef AcquireName = Saver.save(Acquire);
    llvm::StringRef ReleaseName = Saver.save(Release);
    CoreHandlePair Pair{"handle", AcquireName, ReleaseName, ReleaseArg.value_or(0),
                        AcquireArg ? static_cast<int>(*AcquireArg) : -1};
    Pairs.push_back(Pair);
  }
  return Pairs;
}

const CoreHandlePair *findCoreAcquire(const FunctionDecl *FD,
                                      llvm::ArrayRef<CoreHandlePair> Extra) {
  if (!isGlobalFunction(FD))
    return nullptr;
  for (const CoreHandlePair &Pair : Extra)
    if (FD->getName() == Pair.Acquire)
      return &Pair;
  static const llvm::StringMap<const CoreHandlePair *> ByAcquire = [] {
    llvm::StringMap<const CoreHandlePair *> Map;
    for (const CoreHandlePair &P : CoreHandles)
      Map.try_emplace(P.Acquire, &P);
    return Map;
  }();
  return ByAcquire.lookup(FD->getName());
}

bool isCoreRelease(const CallExpr *Call, const CoreHandlePair &Pair,
                   const Expr *&Handle) {
  const FunctionDecl *FD = Call->getDirectCallee();
  if (!isGlobalFunction(FD) || FD->getName() != Pair.Release ||
      Call->getNumArgs() <= Pair.ReleaseArg)
    return false;
  Handle = Call->getArg(Pair.ReleaseArg);
  return true;
}

bool isCoreApiFunction(const FunctionDecl *FD) {
  if (!isGlobalFunction(FD))
    return false;
  llvm::StringRef Name = FD->getName();
  return Name.starts_with("grpc_") || Name.starts_with("gpr_");
}

bool coreTakesOwnership(const FunctionDecl *FD, unsigned Arg) {
  if (!isGlobalFunction(FD))
    return false;
  for (const OwnershipEntry &E : CoreOwnershipTakers)
    if (FD->getName() == E.Function && Arg == E.Arg)
      return true;
  return false;
}

bool isChannelFactory(const FunctionDecl *FD) {
  return FD && FD->getIdentifier() &&
         FD->getName().contains("Channel") &&
         matchesAnyQualifiedName(FD, ChannelFactories);
}

bool isStubFactoryCall(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    const auto *MD = llvm::dyn_cast_or_null<CXXMethodDecl>(Call->getDirectCallee());
    return MD && MD->isStatic() && MD->getIdentifier() &&
           MD->getName() == "NewStub";
  }
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(E)) {
    const CXXRecordDecl *RD = Construct->getConstructor()->getParent();
    if (RD->getIdentifier() && RD->getName() == "Stub" &&
        llvm::isa<CXXRecordDecl>(RD->getDeclContext()))
      return true;
    if (const auto *Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(RD))
      return hasQualifiedName(Spec->getSpecializedTemplate(),
                              "::grpc::TemplatedGenericStub");
  }
  return false;
}

bool isClientContextType(QualType T) {
  if (T.isNull())
    return false;
  const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  return RD && hasQualifiedName(RD, "::grpc::ClientContext");
}

bool isCoreHandleType(QualType T) {
  if (!T->isPointerType())
    return false;
  const auto *Tag = T->getPointeeType()->getAsTagDecl();
  return Tag && Tag->getIdentifier() &&
         (Tag->getName().starts_with("grpc_") || Tag->getName().starts_with("gpr_"));
}

bool isClientContextOwnerType(QualType T) {
  if (T.isNull())
    return false;
  const auto *RD = T.getNonReferenceType()->getAsCXXRecordDecl();
  const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD);
  if (!Spec || !(hasQualifiedName(Spec, "::std::unique_ptr") ||
                 hasQualifiedName(Spec, "::std::shared_ptr")))
    return false;
  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  return Args.size() >= 1 && Args[0].getKind() == TemplateArgument::Type &&
         isClientContextType(Args[0].getAsType());
}

bool isMethodCall(const CallExpr &Call, llvm::StringRef Name,
                  llvm::ArrayRef<llvm::StringRef> Classes) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *MD = Member ? Member->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() || MD->getName() != Name)
    return false;
  for (llvm::StringRef Class : Classes)
    if (hasQualifiedName(MD->getParent(), Class))
      return true;
  return false;
}

bool isClientContextMethodCall(const CallExpr *Call, llvm::StringRef Name,
                               const Expr *&Context) {
  if (!Call || !isMethodCall(*Call, Name, {"::grpc::ClientContext"}))
    return false;
  Context = llvm::cast<CXXMemberCallExpr>(Call)->getImplicitObjectArgument();
  return Context != nullptr;
}

bool isDeadlineSetter(const CallExpr *Call, const Expr *&Context) {
  return isClientContextMethodCall(Call, "set_deadline", Context);
}

bool isContextFromServer(const CallExpr *Call) {
  const auto *MD = llvm::dyn_cast_or_null<CXXMethodDecl>(Call->getDirectCallee());
  if (!MD || !MD->isStatic() || !MD->getIdentifier() ||
      !hasQualifiedName(MD->getParent(), "::grpc::ClientContext"))
    return false;
  for (llvm::StringRef Name : ContextFromServer)
    if (MD->getName() == Name)
      return true;
  return false;
}

std::optional<RpcStart> classifyRpcStart(const CallExpr *Call) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call);
  if (!Member || Call->getNumArgs() == 0)
    return std::nullopt;
  const CXXMethodDecl *MD = Member->getMethodDecl();
  if (!MD || MD->getNumParams() == 0 ||
      !isPointerToClientContext(MD->getParamDecl(0)->getType()) ||
      hasQualifiedName(MD->getParent(), "::grpc::ClientContext"))
    return std::nullopt;

  RpcStart Start;
  Start.Call = Call;
  Start.Context = Call->getArg(0);
  Start.Method = MD;

  QualType Ret = MD->getReturnType();
  if (const ClassTemplateDecl *Stream = uniquePtrPointeeTemplate(Ret)) {
    if (matchesAnyQualifiedName(Stream, ClientStreams)) {
      Start.Streaming = true;
      Start.Api = Stream->getName().contains("Async") ? RpcApi::Async
                                                      : RpcApi::Sync;
      return Start;
    }
    if (hasQualifiedName(Stream, "::grpc::ClientAsyncResponseReader") ||
        hasQualifiedName(Stream, "::grpc::ClientAsyncResponseReaderInterface")) {
      Start.Api = RpcApi::Async;
      return Start;
    }
    return std::nullopt;
  }
  if (Ret->isVoidType()) {
    // Callback API: the reactor (or completion callback) is the last parameter.
    for (const ParmVarDecl *Param : MD->parameters()) {
      QualType T = Param->getType();
      const auto *RD =
          T->isPointerType() ? T->getPointeeType()->getAsCXXRecordDecl() : nullptr;
      if (!RD)
        continue;
      if (std::optional<ReactorBase> Reactor = asReactorBase(*RD))
        if (Reactor->Side == ReactorSide::Client) {
          Start.Api = RpcApi::Callback;
          Start.Streaming = Reactor->Streaming;
          return Start;
        }
    }
    const ParmVarDecl *Last = MD->parameters().back();
    if (const auto *RD = Last->getType().getNonReferenceType()->getAsCXXRecordDecl())
      if (hasQualifiedName(RD, "::std::function")) {
        Start.Api = RpcApi::Callback;
        return Start;
      }
    return std::nullopt;
  }
  if (const auto *RD = Ret->getAsCXXRecordDecl())
    if (hasQualifiedName(RD, "::grpc::Status")) {
      Start.Api = RpcApi::Sync;
      return Start;
    }
  return std::nullopt;
}

std::optional<ReactorBase> asReactorBase(const CXXRecordDecl &RD) {
  for (const ReactorEntry &Entry : Reactors) {
    bool Is = Entry.Streaming ? isInstanceOfTemplate(RD, Entry.Name)
                              : hasQualifiedName(&RD, Entry.Name);
    if (Is)
      return ReactorBase{&RD, Entry.Side, Entry.Streaming};
  }
  return std::nullopt;
}

std::optional<ReactorBase> reactorBaseOf(const CXXRecordDecl &Class) {
  if (std::optional<ReactorBase> Self = asReactorBase(Class))
    return Self;
  std::optional<ReactorBase> Found;
  derivesFrom(Class, [&](const CXXRecordDecl &Base) {
    Found = asReactorBase(Base);
    return Found.has_value();
  });
  return Found;
}

bool isReaction(const CXXMethodDecl &Method) {
  if (!Method.getIdentifier() || !llvm::is_contained(Reactions, Method.getName()))
    return false;
  const CXXRecordDecl *Class = Method.getParent();
  return Class && reactorBaseOf(*Class).has_value();
}

bool isReactionName(llvm::StringRef Name) {
  return llvm::is_contained(Reactions, Name);
}

bool isCallbackHandler(const FunctionDecl &Fn) {
  const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn);
  if (!Method || Method->getNumParams() == 0)
    return false;
  QualType First = Method->getParamDecl(0)->getType();
  const auto *Context = First->isPointerType()
                            ? First->getPointeeType()->getAsCXXRecordDecl()
                            : nullptr;
  if (!Context || !hasQualifiedName(Context, "::grpc::CallbackServerContext"))
    return false;
  QualType Ret = Method->getReturnType();
  const auto *Reactor =
      Ret->isPointerType() ? Ret->getPointeeType()->getAsCXXRecordDecl() : nullptr;
  std::optional<ReactorBase> Base =
      Reactor ? reactorBaseOf(*Reactor) : std::nullopt;
  return Base && Base->Side == ReactorSide::Server;
}

std::optional<StreamCallRole> clientStreamCallRole(const CallExpr &Call) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *MD = Member ? Member->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() || !isInGrpcNamespace(*MD))
    return std::nullopt;
  for (const StreamCallEntry &Entry : StreamCalls)
    if (MD->getName() == Entry.Method)
      return Entry.Role;
  return std::nullopt;
}

bool startsWritingStream(const RpcStart &Start) {
  if (!Start.Streaming || !Start.Method)
    return false;
  const ClassTemplateDecl *Stream =
      uniquePtrPointeeTemplate(Start.Method->getReturnType());
  return Stream && matchesAnyQualifiedName(Stream, WritingStreams);
}

std::optional<ReactorCallRole> reactorCallRole(const Stmt &S) {
  std::optional<ReactorSide> Side;
  llvm::StringRef Name = reactorMethodCalled(S, Side);
  if (Name.empty())
    return std::nullopt;
  for (const ReactorCallEntry &Entry : ReactorCalls)
    if (Name == Entry.Method && (!Side || *Side == Entry.Side))
      return Entry.Role;
  return std::nullopt;
}

bool startsReactionOperation(const Stmt &S, llvm::StringRef Reaction) {
  std::optional<ReactorSide> Side;
  llvm::StringRef Name = reactorMethodCalled(S, Side);
  if (Name.empty())
    return false;
  for (const ReactionOperationEntry &Entry : ReactionOperations)
    if (Entry.Reaction == Reaction && Entry.Start == Name)
      return true;
  return false;
}

bool isOperationReaction(llvm::StringRef Reaction) {
  for (const ReactionOperationEntry &Entry : ReactionOperations)
    if (Entry.Reaction == Reaction)
      return true;
  return false;
}

bool isDefaultReactorCall(const CallExpr &Call) {
  for (const DefaultReactorEntry &Entry : DefaultReactors)
    if (isMethodCall(Call, Entry.Method, {Entry.Class}))
      return true;
  return false;
}

std::vector<std::string> reactorBaseNames(ReactorSide Side) {
  std::vector<std::string> Names;
  for (const ReactorEntry &Entry : Reactors)
    if (Entry.Side == Side)
      Names.push_back(Entry.Name.str());
  return Names;
}

bool isInGrpcNamespace(const Decl &D) {
  for (const DeclContext *DC = D.getDeclContext(); DC; DC = DC->getParent())
    if (const auto *NS = llvm::dyn_cast<NamespaceDecl>(DC))
      if (NS->getIdentifier() && NS->getName() == "grpc" &&
          NS->getDeclContext()->getRedeclContext()->isTranslationUnit())
        return true;
  return false;
}

bool isGeneratedFileName(llvm::StringRef FileName) {
  return FileName.ends_with(".pb.h") || FileName.ends_with(".pb.cc");
}

} // namespace grpcleak
