//===- TemporaryClientCheck.cpp - Clients made over and over --------------===//

#include "TemporaryClientCheck.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Compat.h"

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
      CallDepth(Options.get("CallDepth", 3U)) {
  RepetitionOpts.CallDepth = CallDepth;
}

void TemporaryClientCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "ExtraChannelFactories", ExtraChannelFactories);
  Options.store(Opts, "IncludeStubs", IncludeStubs);
  Options.store(Opts, "CallDepth", CallDepth);
}

void TemporaryClientCheck::registerMatchers(MatchFinder *Finder) {
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

void TemporaryClientCheck::check(const MatchFinder::MatchResult &Result) {
  const Expr *Creation = Result.Nodes.getNodeAs<CallExpr>("create");
  bool IsStub = false;
  if (Creation) {
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
  if (!Creation || !analyzableFunctionAround(*Creation, Ctx))
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

  // The path, from the creation outwards.
  for (const Expr *Hop : Found->Hops) {
    if (Found->Loop == Hop)
      continue; // a repeating algorithm: noted below
    if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Hop))
      diag(Hop->getBeginLoc(), "%0 is constructed here", DiagnosticIDs::Note)
          << Construct->getConstructor()->getParent();
    else if (const auto *Call = llvm::dyn_cast<CallExpr>(Hop))
      diag(::grpcleak::compat::callBeginLoc(*Call), "%0 is called here",
           DiagnosticIDs::Note)
          << Call->getDirectCallee();
  }
  if (Found->Kind == ::grpcleak::RepeatKind::Loop) {
    diag(Found->Loop->getBeginLoc(),
         "%select{the loop|the algorithm call}0 that repeats it is here",
         DiagnosticIDs::Note)
        << llvm::isa<CallExpr>(Found->Loop);
  } else if (Found->Loop) {
    diag(Found->Loop->getBeginLoc(),
         "this completion-queue loop runs it for every request step",
         DiagnosticIDs::Note);
  } else {
    diag(Found->Handler->getLocation(), "%0 handles each request",
         DiagnosticIDs::Note)
        << Found->Handler;
  }
}

} // namespace clang::tidy::grpcleak
