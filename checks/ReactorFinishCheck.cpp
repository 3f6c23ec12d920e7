//===- ReactorFinishCheck.cpp - grpc-leak-reactor-finish ------------------===//

#include "ReactorFinishCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/ReactorProtocol.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

namespace {

/// The declaration a finding about \p Class is reported on: for an instance
/// of a class template, the template's own definition.
const CXXRecordDecl *reportedClass(const CXXRecordDecl &Class) {
  if (const auto *Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(&Class))
    if (!Spec->isExplicitSpecialization())
      if (const CXXRecordDecl *Pattern =
              Spec->getSpecializedTemplate()->getTemplatedDecl())
        return Pattern;
  return &Class;
}

std::vector<StringRef> asRefs(const std::vector<std::string> &Names) {
  return std::vector<StringRef>(Names.begin(), Names.end());
}

} // namespace

ReactorFinishCheck::ReactorFinishCheck(StringRef Name, ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckDefaultReactor(Options.get("CheckDefaultReactor", true)),
      CheckReactorClasses(Options.get("CheckReactorClasses", true)),
      CheckNotOkPaths(Options.get("CheckNotOkPaths", true)),
      CheckClientStartCall(Options.get("CheckClientStartCall", true)),
      CheckHolds(Options.get("CheckHolds", true)) {}

void ReactorFinishCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckDefaultReactor", CheckDefaultReactor);
  Options.store(Opts, "CheckReactorClasses", CheckReactorClasses);
  Options.store(Opts, "CheckNotOkPaths", CheckNotOkPaths);
  Options.store(Opts, "CheckClientStartCall", CheckClientStartCall);
  Options.store(Opts, "CheckHolds", CheckHolds);
}

void ReactorFinishCheck::registerCheckMatchers(MatchFinder *Finder) {
  static const std::vector<std::string> ServerBases =
      ::grpcleak::reactorBaseNames(::grpcleak::ReactorSide::Server);
  auto ServerReactor = cxxRecordDecl(
      isDerivedFrom(cxxRecordDecl(hasAnyName(asRefs(ServerBases)))));
  if (CheckDefaultReactor)
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasName("DefaultReactor"))))
            .bind("default"),
        this);
  if (CheckReactorClasses || CheckNotOkPaths) {
    Finder->addMatcher(cxxRecordDecl(isDefinition(), ServerReactor).bind("class"),
                       this);
    Finder->addMatcher(cxxConstructExpr(hasDeclaration(cxxConstructorDecl(
                                            ofClass(ServerReactor))))
                           .bind("create"),
                       this);
  }
  if (CheckNotOkPaths)
    Finder->addMatcher(cxxMethodDecl(isDefinition(), parameterCountIs(1),
                                     hasParameter(0, hasType(booleanType())),
                                     ofClass(ServerReactor))
                           .bind("reaction"),
                       this);
  if (CheckClientStartCall || CheckHolds)
    Finder->addMatcher(
        cxxMemberCallExpr(hasArgument(
                              0, hasType(hasCanonicalType(pointsTo(cxxRecordDecl(
                                     hasName("::grpc::ClientContext")))))))
            .bind("rpc"),
        this);
}

void ReactorFinishCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  ASTContext &Ctx = *Result.Context;
  Context = &Ctx;
  const SourceManager &SM = Ctx.getSourceManager();
  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("default")) {
    checkDefaultReactor(*Call, Ctx);
    return;
  }
  if (const auto *Class = Result.Nodes.getNodeAs<CXXRecordDecl>("class")) {
    if (!Class->isDependentType() && !::grpcleak::isInGrpcNamespace(*Class) &&
        !isGenerated(Class->getLocation(), SM))
      ServerClasses.insert(Class->getCanonicalDecl());
    return;
  }
  if (const auto *Construct = Result.Nodes.getNodeAs<CXXConstructExpr>("create")) {
    if (Construct->getConstructionKind() != CXXConstructionKind::Complete)
      return;
    // `new X(...)`: the note points at the `new`.
    const Expr *Where = Construct;
    ::grpcleak::ParentList Parents = ::grpcleak::parentsOf(Ctx, *Construct);
    if (Parents.size() == 1)
      if (const auto *New = Parents[0].get<CXXNewExpr>())
        Where = New;
    if (const CXXRecordDecl *Made = Construct->getConstructor()->getParent())
      Creations.insert({Made->getCanonicalDecl(), Where});
    return;
  }
  if (const auto *Reaction = Result.Nodes.getNodeAs<CXXMethodDecl>("reaction")) {
    if (!Reaction->isDependentContext() &&
        !::grpcleak::isInGrpcNamespace(*Reaction) &&
        !isGenerated(Reaction->getLocation(), SM))
      Reactions.insert(Reaction);
    return;
  }
  if (const auto *Call = Result.Nodes.getNodeAs<CXXMemberCallExpr>("rpc")) {
    std::optional<::grpcleak::RpcStart> Start = ::grpcleak::classifyRpcStart(Call);
    if (!Start || Start->Api != ::grpcleak::RpcApi::Callback ||
        !analyzableFunctionAround(*Call, Ctx))
      return;
    if (const Expr *Arg = ::grpcleak::clientReactorArgument(*Start))
      if (const CXXRecordDecl *Class = ::grpcleak::clientReactorClass(*Arg))
        ClientCalls.emplace_back(Call, Class);
  }
}

void ReactorFinishCheck::checkDefaultReactor(const CallExpr &Call,
                                             ASTContext &Ctx) {
  if (!::grpcleak::isDefaultReactorCall(Call))
    return;
  const FunctionDecl *Handler = analyzableFunctionAround(Call, Ctx);
  if (!Handler || !::grpcleak::isCallbackHandler(*Handler))
    return;
  const ::grpcleak::FunctionFlow *Flow = ::grpcleak::FlowCache::get(*Handler, Ctx);
  if (!Flow)
    return;
  std::optional<::grpcleak::UnfinishedDefaultReactor> Unfinished =
      ::grpcleak::findUnfinishedDefaultReactor(Call, *Flow);
  if (!Unfinished || !Unfinished->Return)
    return;
  diag(Call.getExprLoc(),
       "reactor %select{|%1 }0from DefaultReactor() is returned without "
       "Finish() on some path; that RPC never completes: OnDone never runs, "
       "its call stays, and Server::Shutdown() waits for it")
      << (Unfinished->Reactor != nullptr) << Unfinished->Reactor;
  diag(Unfinished->Return->getBeginLoc(),
       "returned here without Finish()%select{| on %1}0", DiagnosticIDs::Note)
      << (Unfinished->Reactor != nullptr) << Unfinished->Reactor;
}

void ReactorFinishCheck::onEndOfTranslationUnit() {
  if (Context)
    checkClasses(*Context);
  ServerClasses.clear();
  Reactions.clear();
  Creations.clear();
  ClientCalls.clear();
  Context = nullptr;
  GrpcLeakCheck::onEndOfTranslationUnit();
}

void ReactorFinishCheck::checkClasses(ASTContext &Ctx) {
  if (ServerClasses.empty() && Reactions.empty() && ClientCalls.empty())
    return;
  // A file that does not compile may have lost the very statement that
  // finishes or starts a reactor (the parser drops it without a trace), in
  // any method of the class: judge no class there.
  if (Ctx.getDiagnostics().hasUncompilableErrorOccurred())
    return;
  ::grpcleak::ReactorIndex Index(Ctx);
  using ::grpcleak::ReactorCallRole;

  // Created here, or a class of the TU derived from it is: otherwise it may
  // be a base for classes written elsewhere.
  auto CreatedHere = [&](const CXXRecordDecl &Class) -> const Expr * {
    if (const Expr *Made = Creations.lookup(Class.getCanonicalDecl()))
      return Made;
    for (const auto &[Made, Where] : Creations)
      if (::grpcleak::derivesFrom(*Made, [&](const CXXRecordDecl &Base) {
            return Base.getCanonicalDecl() == Class.getCanonicalDecl();
          }))
        return Where;
    return nullptr;
  };

  // A server reactor class that nothing finishes.
  llvm::DenseSet<const CXXRecordDecl *> Reported;
  if (CheckReactorClasses)
    for (const CXXRecordDecl *Canonical : ServerClasses) {
      const CXXRecordDecl *Class = Canonical->getDefinition();
      if (!Class || Class->isAbstract())
        continue;
      const Expr *Made = Creations.lookup(Canonical);
      if (!Made || Index.mayCall(*Class, ReactorCallRole::Finish))
        continue;
      const CXXRecordDecl *Shown = reportedClass(*Class);
      if (!Reported.insert(Shown->getCanonicalDecl()).second)
        continue;
      diag(Shown->getLocation(),
           "server reactor %0 never calls Finish() or StartWriteAndFinish(); "
           "its RPCs never complete: OnDone never runs, each call and its "
           "reactor stay, and Server::Shutdown() waits for them")
          << Shown;
      diag(Made->getBeginLoc(), "an RPC's reactor is created here",
           DiagnosticIDs::Note);
    }

  // A reaction that returns on failure when nothing finishes after it.
  if (CheckNotOkPaths)
    for (const CXXMethodDecl *Reaction : Reactions) {
      const CXXRecordDecl *Class = Reaction->getParent();
      if (!CreatedHere(*Class) || Reported.contains(reportedClass(*Class)->getCanonicalDecl()))
        continue;
      std::optional<::grpcleak::UnhandledFailure> Failure =
          Index.findUnhandledFailure(*Reaction);
      if (!Failure)
        continue;
      diag(Failure->Return->getBeginLoc(),
           "%0 returns when its operation failed without calling Finish(), "
           "and nothing finishes the RPC after that: OnDone never runs and the "
           "call and its reactor stay")
          << Reaction;
      for (const Stmt *Finish : Failure->Unreachable)
        diag(Finish->getBeginLoc(),
             "Finish() is called here, but not after %0 returned on failure",
             DiagnosticIDs::Note)
            << Reaction;
    }

  // Client reactors given to a callback stub call.
  for (const auto &[Call, Class] : ClientCalls) {
    if (CheckClientStartCall && !Index.mayCall(*Class, ReactorCallRole::Start)) {
      diag(Call->getExprLoc(),
           "client reactor %0 is given to %1 but nothing calls StartCall() on "
           "it; the RPC never starts and OnDone never runs")
          << reportedClass(*Class) << Call->getDirectCallee();
      diag(reportedClass(*Class)->getLocation(),
           "%0 is declared here; call StartCall() once the reactor is set up",
           DiagnosticIDs::Note)
          << reportedClass(*Class);
      continue;
    }
    if (!CheckHolds || Index.mayCall(*Class, ReactorCallRole::Unhold))
      continue;
    if (const Stmt *Hold = Index.findCall(*Class, ReactorCallRole::Hold)) {
      diag(Call->getExprLoc(),
           "client reactor %0 is given to %1 and adds a hold that nothing "
           "removes; OnDone never runs, so the RPC and the reactor stay")
          << reportedClass(*Class) << Call->getDirectCallee();
      diag(Hold->getBeginLoc(),
           "a hold is added here; call RemoveHold() when the extra work is done",
           DiagnosticIDs::Note);
    }
  }
}

} // namespace clang::tidy::grpcleak
