//===- TemporaryClientCheck.cpp - Clients made over and over --------------===//

#include "TemporaryClientCheck.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Compat.h"
#include "grpcleak/Summaries.h"

#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "utils/OptionsUtils.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

TemporaryClientCheck::TemporaryClientCheck(StringRef Name,
                                           ClangTidyContext *Context,
                                           ::grpcleak::RepeatKind Kind)
    : GrpcLeakCheck(Name, Context), Kind(Kind),
      ExtraChannelFactories(Options.get("ExtraChannelFactories", "").str()),
      ExtraFactoryList(utils::options::parseStringList(ExtraChannelFactories)),
      IncludeStubs(Options.get("IncludeStubs", false)),
      CallDepth(Options.get("CallDepth", 3U)),
      MinLoopTripCount(Options.get("MinLoopTripCount", 2U)) {
  RepetitionOpts.CallDepth = CallDepth;
  RepetitionOpts.MinLoopTripCount = MinLoopTripCount;
  RepetitionOpts.IsCreation = [this](const Expr &E) { return isCreation(E); };
}

void TemporaryClientCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ExtraChannelFactories", ExtraChannelFactories);
  Options.store(Opts, "IncludeStubs", IncludeStubs);
  Options.store(Opts, "CallDepth", CallDepth);
  Options.store(Opts, "MinLoopTripCount", MinLoopTripCount);
}

void TemporaryClientCheck::registerCheckMatchers(MatchFinder *Finder) {
  // A cheap name filter first; the API model confirms the factory.
  auto Factory = functionDecl(hasAnyName("CreateChannel", "CreateCustomChannel",
                                         "CreateCustomChannelWithInterceptors",
                                         "CreateInsecureChannelFromFd",
                                         "CreateCustomInsecureChannelFromFd"));
  Finder->addMatcher(callExpr(callee(Factory)).bind("create"), this);
  if (!ExtraFactoryList.empty())
    Finder->addMatcher(
        callExpr(callee(functionDecl(hasAnyName(ExtraFactoryList))))
            .bind("user-create"),
        this);
  // A factory of the project defined in another file (no body here): its
  // summary (docs/summaries.md) says whether it makes a new channel.
  auto ElsewhereDefined =
      functionDecl(unless(isDefinition()), unless(isExpansionInSystemHeader()));
  Finder->addMatcher(
      callExpr(callee(functionDecl(ElsewhereDefined, unless(returns(voidType())))))
          .bind("summary-create"),
      this);
  Finder->addMatcher(
      cxxConstructExpr(hasDeclaration(cxxConstructorDecl(ElsewhereDefined)))
          .bind("summary-create"),
      this);
  if (IncludeStubs) {
    Finder->addMatcher(
        callExpr(callee(cxxMethodDecl(hasName("NewStub"))))
            .bind("stub"),
        this);
    Finder->addMatcher(cxxConstructExpr(hasDeclaration(cxxConstructorDecl(
                                            ofClass(hasAnyName(
                                                "Stub",
                                                "::grpc::TemplatedGenericStub")))))
                           .bind("stub"),
                       this);
  }
}

/// True if \p Stub is built on a channel created right there, or held by a
/// variable initialised so in the same function (and loop): the channel's
/// own finding covers it.
static bool isBuiltOnNewChannel(const Expr &Stub, ASTContext &Ctx) {
  const Expr *Arg = nullptr;
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&Stub))
    Arg = Call->getNumArgs() ? Call->getArg(0) : nullptr;
  else if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&Stub))
    Arg = Construct->getNumArgs() ? Construct->getArg(0) : nullptr;
  if (!Arg)
    return false;
  const Expr *Value = ::grpcleak::stripValue(Arg);
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Value))
    if (Construct->getNumArgs() == 1)
      Value = ::grpcleak::stripValue(Construct->getArg(0));
  if (const VarDecl *Var = ::grpcleak::referencedVar(Value)) {
    if (!Var->getInit() ||
        Var->getParentFunctionOrMethod() !=
            ::grpcleak::enclosingCallable(Stub, Ctx))
      return false;
    // Made once before the loop that builds the stubs: not covered.
    if (const Stmt *Loop = ::grpcleak::enclosingLoop(Stub, Ctx)) {
      auto Parents = ::grpcleak::parentsOf(Ctx, *Var);
      const auto *Decl = Parents.size() == 1 ? Parents[0].get<DeclStmt>() : nullptr;
      if (!Decl || ::grpcleak::enclosingLoop(*Decl, Ctx) != Loop)
        return false;
    }
    Value = ::grpcleak::stripValue(Var->getInit());
  }
  const auto *Call = llvm::dyn_cast_or_null<CallExpr>(Value);
  return Call && ::grpcleak::isChannelFactory(Call->getDirectCallee());
}

bool TemporaryClientCheck::isUserFactory(const FunctionDecl &Callee) const {
  return !ExtraFactoryList.empty() &&
         !match(functionDecl(hasAnyName(ExtraFactoryList)), Callee,
                Callee.getASTContext())
              .empty();
}

/// The summary of the function \p E calls (or the constructor it runs), when
/// that function is defined in another file and makes a new channel.
static std::shared_ptr<const ::grpcleak::FunctionFacts>
newChannelFacts(const Expr &E) {
  const FunctionDecl *Callee = nullptr;
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&E))
    Callee = Call->getDirectCallee();
  else if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(&E))
    Callee = Construct->getConstructor();
  if (!Callee || Callee->hasBody())
    return nullptr;
  std::shared_ptr<const ::grpcleak::FunctionFacts> Facts =
      ::grpcleak::projectFacts(*Callee);
  return Facts && Facts->ReturnsNewChannel ? Facts : nullptr;
}

bool TemporaryClientCheck::isCreation(const Expr &E) const {
  if (const auto *Call = llvm::dyn_cast<CallExpr>(&E)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (::grpcleak::isChannelFactory(Callee) ||
        (Callee && !Callee->hasBody() && isUserFactory(*Callee)))
      return true;
  }
  return newChannelFacts(E) ||
         (IncludeStubs && ::grpcleak::isStubFactoryCall(&E));
}

void TemporaryClientCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  const Expr *Creation = Result.Nodes.getNodeAs<CallExpr>("create");
  bool IsStub = false;
  std::shared_ptr<const ::grpcleak::FunctionFacts> Facts;
  if (const auto *Elsewhere = Result.Nodes.getNodeAs<Expr>("summary-create")) {
    if (!::grpcleak::summariesFor(*Result.Context))
      return;
    // A factory the user named already counts (ExtraChannelFactories).
    const auto *Call = llvm::dyn_cast<CallExpr>(Elsewhere);
    const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
    if (Callee && (::grpcleak::isChannelFactory(Callee) || isUserFactory(*Callee)))
      return;
    Facts = newChannelFacts(*Elsewhere);
    if (!Facts)
      return;
    Creation = Elsewhere;
  } else if (Creation) {
    if (!::grpcleak::isChannelFactory(
            llvm::cast<CallExpr>(Creation)->getDirectCallee()))
      return;
  } else if ((Creation = Result.Nodes.getNodeAs<CallExpr>("user-create"))) {
    // A factory whose body we see is followed from the gRPC factory inside
    // it; reporting the call too would say the same thing twice.
    const FunctionDecl *Callee =
        llvm::cast<CallExpr>(Creation)->getDirectCallee();
    if (Callee && Callee->hasBody())
      return;
  } else if ((Creation = Result.Nodes.getNodeAs<Expr>("stub"))) {
    IsStub = true;
    if (!::grpcleak::isStubFactoryCall(Creation) ||
        isBuiltOnNewChannel(*Creation, *Result.Context))
      return;
  }
  ASTContext &Ctx = *Result.Context;
  if (!Creation)
    return;
  // In a function, or in a default member initialiser (which runs in the
  // constructors that do not initialise that member).
  if (!analyzableFunctionAround(*Creation, Ctx)) {
    const auto *Field = ::grpcleak::defaultInitialisedField(*Creation, Ctx);
    if (!Field || isGenerated(Creation->getBeginLoc(), Ctx.getSourceManager()) ||
        Field->getParent()->isDependentContext() ||
        (Field->getInClassInitializer() &&
         Field->getInClassInitializer()->containsErrors()))
      return;
  }
  // Clang may show a default member initialiser's expression twice (as the
  // field's and in a constructor): one finding.
  if (!Reported.insert(Creation).second)
    return;

  ::grpcleak::RepetitionOptions Opts = RepetitionOpts;
  Opts.HandlerFunctions = HandlerFunctions.get();
  ::grpcleak::RepetitionAnalysis Analysis(Ctx, Opts);
  std::optional<::grpcleak::RepeatedCreation> Found =
      Analysis.find(*Creation, Kind);
  if (!Found)
    return;

  const NamedDecl *Factory = nullptr;
  if (const auto *Call = llvm::dyn_cast<CallExpr>(Creation))
    Factory = Call->getDirectCallee();
  else
    Factory = llvm::cast<CXXConstructExpr>(Creation)->getConstructor()->getParent();
  if (Kind == ::grpcleak::RepeatKind::Loop)
    diag(Creation->getBeginLoc(),
         "gRPC %select{channel|stub}0 created by %1 in every loop iteration "
         "is destroyed before the next one; create it once outside the loop "
         "and reuse it")
        << IsStub << Factory->getDeclName();
  else
    diag(Creation->getBeginLoc(),
         "gRPC %select{channel|stub}0 created by %1 for every request is "
         "destroyed when the request ends; create it once (for example in "
         "the service's constructor) and reuse it")
        << IsStub << Factory->getDeclName();

  if (Facts)
    diag(Creation->getBeginLoc(),
         "%0, defined in %1, creates a new channel on each call (from the "
         "project's summaries)",
         DiagnosticIDs::Note)
        << Factory->getDeclName() << Facts->File;
  notePath(*Found, IsStub);
}

void TemporaryClientCheck::onEndOfTranslationUnit() {
  Reported.clear();
  GrpcLeakCheck::onEndOfTranslationUnit();
}

/// The name a call site gives the function it calls: for a call of a
/// std::function, the variable or member that holds it.
static const NamedDecl *calledName(const CallExpr &Call) {
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&Call))
    if (Op->getOperator() == OO_Call && Op->getNumArgs() >= 1) {
      const Expr *Object = ::grpcleak::stripValue(Op->getArg(0));
      if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Object))
        return Ref->getDecl();
      if (const auto *Member = llvm::dyn_cast<MemberExpr>(Object))
        return Member->getMemberDecl();
    }
  return Call.getDirectCallee();
}

void TemporaryClientCheck::notePath(const ::grpcleak::RepeatedCreation &Found,
                                    bool IsStub) {
  const ::grpcleak::TuIndex *Index = nullptr;
  // The path, from the creation outwards.
  for (size_t I = 0; I <= Found.Hops.size(); ++I) {
    if (Found.End.Delete && Found.End.AfterHops == I) {
      // The heap object that keeps it, for one request.
      if (Found.End.Class)
        diag(Found.End.Delete->getBeginLoc(),
             "%0 keeps it and deletes itself here", DiagnosticIDs::Note)
            << Found.End.Class;
      else
        diag(Found.End.Delete->getBeginLoc(),
             "the object %0 points to keeps it and is deleted here",
             DiagnosticIDs::Note)
            << Found.End.Holder;
    }
    if (I == Found.Hops.size())
      break;
    const ::grpcleak::Hop &Hop = Found.Hops[I];
    if (Found.Loop == Hop.Site)
      continue; // a repeating algorithm: noted below
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Hop.Site)) {
      // A member or base built implicitly: at its declaration.
      if (!Index)
        Index = &::grpcleak::TuIndex::get(Hop.Reached->getASTContext());
      if (auto Init = Index->implicitInitOf(*Construct)) {
        if (const FieldDecl *Member = Init->Init->getMember()) {
          diag(Member->getLocation(),
               "member %0 is constructed here, by the constructor of %1",
               DiagnosticIDs::Note)
              << Member << Init->Ctor->getParent();
          continue;
        }
        if (Init->Init->isBaseInitializer()) {
          diag(Init->Ctor->getLocation(),
               "base class %0 is constructed here", DiagnosticIDs::Note)
              << Construct->getConstructor()->getParent();
          continue;
        }
      }
      diag(Hop.Site->getBeginLoc(), "%0 is constructed here", DiagnosticIDs::Note)
          << Construct->getConstructor()->getParent();
      continue;
    }
    const auto *Call = llvm::dyn_cast<CallExpr>(Hop.Site);
    if (!Call)
      continue;
    SourceLocation Loc = ::grpcleak::compat::callBeginLoc(*Call);
    const FunctionDecl *Callee = Call->getDirectCallee();
    const FunctionDecl *Reached = Hop.Reached;
    if (!Callee || !Reached ||
        Callee->getCanonicalDecl() == Reached->getCanonicalDecl()) {
      diag(Loc, "%0 is called here", DiagnosticIDs::Note) << calledName(*Call);
    } else if (llvm::isa<CXXConstructorDecl>(Reached)) {
      // std::make_unique<T>(...) / std::make_shared<T>(...)
      diag(Loc, "%0 is constructed here", DiagnosticIDs::Note)
          << llvm::cast<CXXConstructorDecl>(Reached)->getParent();
    } else if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Reached);
               Method && Method->getParent()->isLambda()) {
      // A std::function: say what the lambda it holds does on the way.
      auto D = diag(Loc, "%0 is called here; it holds the lambda that "
                         "%select{creates the %select{channel|stub}2|"
                         "calls %3|constructs %3}1",
                    DiagnosticIDs::Note)
               << calledName(*Call);
      const Expr *Inner = I == 0 ? nullptr : Found.Hops[I - 1].Site;
      if (!Inner)
        D << 0 << IsStub << "";
      else if (const auto *InnerConstruct = llvm::dyn_cast<CXXConstructExpr>(Inner))
        D << 2 << IsStub << InnerConstruct->getConstructor()->getParent();
      else if (const auto *InnerCall = llvm::dyn_cast<CallExpr>(Inner))
        D << 1 << IsStub << calledName(*InnerCall);
      else
        D << 0 << IsStub << "";
    } else {
      // A virtual call that may dispatch to an override.
      std::string Target = Reached->getQualifiedNameAsString();
      diag(Loc, "%0 is called here and may dispatch to '%1'",
           DiagnosticIDs::Note)
          << calledName(*Call) << Target;
    }
  }
  if (Found.Kind == ::grpcleak::RepeatKind::Loop) {
    diag(Found.Loop->getBeginLoc(),
         "%select{the loop|the algorithm call}0 that repeats it is here",
         DiagnosticIDs::Note)
        << llvm::isa<CallExpr>(Found.Loop);
  } else if (Found.Loop) {
    diag(Found.Loop->getBeginLoc(),
         "this completion-queue loop runs it for every request step",
         DiagnosticIDs::Note);
  } else {
    diag(Found.Handler->getLocation(), "%0 handles each request",
         DiagnosticIDs::Note)
        << Found.Handler;
  }
}

} // namespace clang::tidy::grpcleak
