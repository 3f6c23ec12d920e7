//===- ProjectFacts.cpp - The facts a TU records for the project ----------===//

#include "grpcleak/ProjectFacts.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/CallbackThreads.h"
#include "grpcleak/DeadlineAnalysis.h"
#include "grpcleak/HandleLifetime.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/StreamProtocol.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace clang;

namespace grpcleak {
namespace {

/// Does a call of \p FD hand back a channel made anew on each call (for a
/// constructor: does the object built hold one)? Looks into the functions
/// of this TU it calls, and at the summaries of those of other TUs.
class NewChannelFinder {
public:
  explicit NewChannelFinder(ASTContext &Ctx) : Ctx(Ctx), Repetition(Ctx, {}) {}

  bool makesNewChannel(const FunctionDecl &FD, unsigned Depth = 3) {
    const FunctionDecl *Def = nullptr;
    if (!FD.hasBody(Def) || !Def) {
      std::shared_ptr<const FunctionFacts> Facts = projectFacts(FD);
      return Facts && Facts->ReturnsNewChannel;
    }
    if (Depth == 0 || isUnanalyzable(*Def) || isInGrpcNamespace(*Def))
      return false;
    auto [It, Inserted] = Known.try_emplace(Def, false);
    if (!Inserted)
      return It->second; // cached, or recursion
    ValueFate Wanted = llvm::isa<CXXConstructorDecl>(Def) ? ValueFate::KeptByObject
                                                           : ValueFate::Returned;
    bool Found = false;
    auto Visit = [&](const Stmt &S) {
      const auto *E = llvm::dyn_cast<Expr>(&S);
      if (!E || !isCreation(*E, Depth) || enclosingCallable(*E, Ctx) != Def)
        return false;
      Found = Repetition.fate(*E, *Def->getBody(), *Def) == Wanted;
      return Found;
    };
    anyStatement(Def->getBody(), Visit);
    // A member initialiser of a constructor: `channel_(CreateChannel(...))`.
    if (!Found)
      if (const auto *Ctor = llvm::dyn_cast<CXXConstructorDecl>(Def))
        for (const CXXCtorInitializer *Init : Ctor->inits())
          if (Init->isMemberInitializer() && Init->getInit() &&
              anyStatement(Init->getInit(), [&](const Stmt &S) {
                const auto *E = llvm::dyn_cast<Expr>(&S);
                return E && isCreation(*E, Depth);
              })) {
            Found = true;
            break;
          }
    Known[Def] = Found;
    return Found;
  }

private:
  bool isCreation(const Expr &E, unsigned Depth) {
    if (const auto *Call = llvm::dyn_cast<CallExpr>(&E)) {
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (!Callee)
        return false;
      if (isChannelFactory(Callee))
        return true;
      return !isInGrpcNamespace(*Callee) &&
             !Ctx.getSourceManager().isInSystemHeader(Callee->getLocation()) &&
             makesNewChannel(*Callee, Depth - 1);
    }
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&E)) {
      const CXXConstructorDecl *Ctor = Construct->getConstructor();
      return !Ctx.getSourceManager().isInSystemHeader(Ctor->getLocation()) &&
             !Ctor->isCopyOrMoveConstructor() && makesNewChannel(*Ctor, Depth - 1);
    }
    return false;
  }

  ASTContext &Ctx;
  RepetitionAnalysis Repetition;
  llvm::DenseMap<const FunctionDecl *, bool> Known;
};

/// The class \p T points or refers to, directly or through a smart
/// pointer (`T*`, `T&`, `std::unique_ptr<T>&`, ...), or null.
const CXXRecordDecl *pointeeClass(QualType T) {
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  const CXXRecordDecl *RD = T->getAsCXXRecordDecl();
  if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
    if ((hasQualifiedName(Spec, "::std::unique_ptr") ||
         hasQualifiedName(Spec, "::std::shared_ptr")) &&
        Spec->getTemplateArgs().size() >= 1 &&
        Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
      return Spec->getTemplateArgs()[0].getAsType()->getAsCXXRecordDecl();
  return RD;
}

bool isContextParam(QualType T) {
  return isClientContextType(T) ||
         (T->isPointerType() && isClientContextType(T->getPointeeType()));
}

/// True if \p Fn keeps \p Param or hands it to code it cannot see: any use
/// other than calling its methods or operators, or passing it to gRPC's
/// API (which never keeps it).
bool mayKeep(const FunctionDecl &Fn, const ParmVarDecl &Param) {
  return anyStatement(Fn.getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    if (!Call || llvm::isa<CXXOperatorCallExpr>(Call))
      return false;
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (Callee && (isInGrpcNamespace(*Callee) || isCoreApiFunction(Callee) ||
                   isInGeneratedFile(Callee->getLocation(),
                                     Fn.getASTContext().getSourceManager())))
      return false;
    for (const Expr *Arg : Call->arguments())
      if (namesObject(Arg, &Param) && !(Callee && Callee->hasBody()))
        return true;
    return false;
  });
}

} // namespace

FunctionFacts factsOf(const FunctionDecl &FD) {
  ASTContext &Ctx = FD.getASTContext();
  const SourceManager &SM = Ctx.getSourceManager();
  FunctionFacts Facts;
  Facts.Usr = usrOf(FD);
  Facts.Name = FD.getQualifiedNameAsString();
  Facts.Line = SM.getExpansionLineNumber(FD.getLocation());

  NewChannelFinder Channels(Ctx);
  Facts.ReturnsNewChannel = Channels.makesNewChannel(FD);
  Facts.HandlesRequests = RepetitionAnalysis(Ctx, {}).isRequestEntry(FD);

  HandleLifetimeAnalysis Handles(Ctx);
  DeadlineAnalysis Deadlines({});
  for (unsigned I = 0, E = FD.getNumParams(); I != E; ++I) {
    const ParmVarDecl &Param = *FD.getParamDecl(I);
    QualType T = Param.getType();
    if (isCoreHandleType(T)) {
      switch (Handles.summarize(FD, I)) {
      case ParamEffect::Releases:
        Facts.ReleasesParams.push_back(I);
        break;
      case ParamEffect::Keeps:
      case ParamEffect::Unknown:
        Facts.KeepsParams.push_back(I);
        break;
      case ParamEffect::None:
        break;
      }
    } else if (isCompletionQueueHolder(T)) {
      bool ShutsDown = anyStatement(FD.getBody(), [&](const Stmt &S) {
        const auto *Call = llvm::dyn_cast<CXXMemberCallExpr>(&S);
        return Call && isQueueCall(*Call, "Shutdown") && objectOf(*Call) == &Param;
      });
      bool Drains = anyStatement(FD.getBody(), [&](const Stmt &S) {
        return drainsQueue(S, Param);
      });
      if (ShutsDown)
        Facts.ShutsDownQueueParams.push_back(I);
      if (Drains)
        Facts.DrainsQueueParams.push_back(I);
      if (mayKeep(FD, Param))
        Facts.KeepsParams.push_back(I);
    } else if (!isContextParam(T) && pointeeClass(T)) {
      // An object passed by pointer, reference or smart pointer: a client
      // stream it may Finish() (any class: the call decides).
      bool Finishes = anyStatement(FD.getBody(), [&](const Stmt &S) {
        return callsStreamRole(S, Param, StreamCallRole::Finish);
      });
      if (Finishes)
        Facts.FinishesStreamParams.push_back(I);
      if (mayKeep(FD, Param))
        Facts.KeepsParams.push_back(I);
    } else if (isContextParam(T)) {
      if (Deadlines.setsDeadlineOnEveryPath(FD, I))
        Facts.SetsDeadlineParams.push_back(I);
      if (std::optional<DeadlineAnalysis::HelperRpc> Rpc =
              Deadlines.startsOnParam(FD, I)) {
        FunctionFacts::StreamStart Start;
        Start.Param = I;
        Start.Streaming = Rpc->Streaming;
        Start.Method = Rpc->Method;
        if (Rpc->Start)
          if (std::optional<RpcStart> Inner = classifyRpcStart(Rpc->Start))
            if (Inner->Method && Inner->Method->getIdentifier())
              Start.Method = Inner->Method->getName().str();
        Facts.StartsRpcs.push_back(std::move(Start));
      }
      if (mayKeep(FD, Param))
        Facts.KeepsParams.push_back(I);
    }
  }

  // Whether it may block its caller's thread: a blocking call of its own
  // (not in a lambda it hands on), or of a helper of another file.
  Facts.Blocks = anyStatement(FD.getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    return Call && enclosingCallable(*Call, Ctx) == &FD &&
           classifyBlockingCall(*Call, Ctx).has_value();
  });

  // What it calls that this TU does not define (for ordering the TUs).
  anyStatement(FD.getBody(), [&](const Stmt &S) {
    const auto *Call = llvm::dyn_cast<CallExpr>(&S);
    const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
    if (Callee && !Callee->hasBody() && !SM.isInSystemHeader(Callee->getLocation()) &&
        !isInGeneratedFile(Callee->getLocation(), SM))
      if (std::string Usr = usrOf(*Callee);
          !Usr.empty() && !llvm::is_contained(Facts.Calls, Usr))
        Facts.Calls.push_back(std::move(Usr));
    return false;
  });
  return Facts;
}

TuSummary summarizeTu(ASTContext &Ctx) {
  TuSummary Summary;
  const SourceManager &SM = Ctx.getSourceManager();
  OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID());
  if (!Main)
    return Summary;
  llvm::SmallString<256> Path(Main->getName());
  llvm::sys::fs::make_absolute(Path);
  llvm::sys::path::remove_dots(Path, /*remove_dot_dot=*/true);
  Summary.File = std::string(Path);
  bool Invalid = false;
  llvm::StringRef Contents = SM.getBufferData(SM.getMainFileID(), &Invalid);
  if (Invalid)
    return TuSummary();
  Summary.Hash = contentHash(Contents);

  for (const Decl *D : TuIndex::get(Ctx).definedFunctions()) {
    const auto *FD = llvm::dyn_cast<FunctionDecl>(D);
    if (!FD || !FD->isExternallyVisible() || FD->isTemplated() ||
        FD->isImplicit() || !SM.isInMainFile(SM.getExpansionLoc(FD->getLocation())) ||
        isUnanalyzable(*FD))
      continue;
    if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(FD))
      if (Method->getParent()->isLambda())
        continue;
    FunctionFacts Facts = factsOf(*FD);
    if (Facts.Usr.empty())
      continue;
    Facts.File = Summary.File;
    Summary.Functions.push_back(std::move(Facts));
  }
  return Summary;
}

} // namespace grpcleak
