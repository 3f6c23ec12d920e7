//===- ContextLifetimeCheck.cpp - grpc-leak-context-lifetime --------------===//

#include "ContextLifetimeCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/Repetition.h"

#include "clang/AST/DeclCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

ContextLifetimeCheck::ContextLifetimeCheck(StringRef Name,
                                           ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckLocalLifetime(Options.get("CheckLocalLifetime", true)),
      CheckReuse(Options.get("CheckReuse", true)),
      CheckMemberOrder(Options.get("CheckMemberOrder", true)),
      WaitFunctions(readRegexOption("WaitFunctions")) {}

void ContextLifetimeCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckLocalLifetime", CheckLocalLifetime);
  Options.store(Opts, "CheckReuse", CheckReuse);
  Options.store(Opts, "CheckMemberOrder", CheckMemberOrder);
  Options.store(Opts, "WaitFunctions", WaitFunctions.Text);
}

void ContextLifetimeCheck::onEndOfTranslationUnit() {
  ReportedLifetime.clear();
  ReportedReuse.clear();
  ReportedOrder.clear();
  GrpcLeakCheck::onEndOfTranslationUnit();
}

::grpcleak::LifetimeOptions ContextLifetimeCheck::lifetimeOptions() const {
  ::grpcleak::LifetimeOptions Opts;
  Opts.WaitFunctions = WaitFunctions.get();
  return Opts;
}

void ContextLifetimeCheck::registerCheckMatchers(MatchFinder *Finder) {
  auto ContextClass = cxxRecordDecl(hasName("::grpc::ClientContext"));
  if (CheckLocalLifetime || CheckReuse)
    // Every generated, generic and callback RPC start takes the context as
    // argument 0; the API model decides the rest.
    Finder->addMatcher(
        cxxMemberCallExpr(
            hasArgument(0, hasType(hasCanonicalType(pointsTo(ContextClass)))))
            .bind("call"),
        this);
  if (CheckLocalLifetime)
    // Finish/Read on an async call started anywhere; the model decides.
    Finder->addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasAnyName("Finish", "Read"))))
            .bind("output"),
        this);
  if (CheckLocalLifetime)
    Finder->addMatcher(
        varDecl(hasLocalStorage(), unless(parmVarDecl()),
                hasType(cxxRecordDecl(isSameOrDerivedFrom(hasAnyName(
                    "::grpc::ClientBidiReactor", "::grpc::ClientReadReactor",
                    "::grpc::ClientWriteReactor",
                    "::grpc::ClientUnaryReactor")))))
            .bind("reactor"),
        this);
  if (CheckMemberOrder)
    Finder->addMatcher(
        cxxRecordDecl(isDefinition(), has(fieldDecl()))
            .bind("class"),
        this);
}

void ContextLifetimeCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  ASTContext &Ctx = *Result.Context;
  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call"))
    checkRpcStart(*Call, Ctx);
  else if (const auto *Output = Result.Nodes.getNodeAs<CallExpr>("output"))
    checkAsyncOutput(*Output, Ctx);
  else if (const auto *Reactor = Result.Nodes.getNodeAs<VarDecl>("reactor"))
    checkLocalReactor(*Reactor, Ctx);
  else if (const auto *Class = Result.Nodes.getNodeAs<CXXRecordDecl>("class"))
    checkMemberOrder(*Class, Ctx);
}

void ContextLifetimeCheck::checkRpcStart(const CallExpr &Call, ASTContext &Ctx) {
  std::optional<::grpcleak::RpcStart> Start = ::grpcleak::classifyRpcStart(&Call);
  if (!Start)
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(Call, Ctx);
  if (!Flow)
    return;
  ::grpcleak::ContextLifetimeAnalysis Analysis(Ctx, lifetimeOptions());
  if (CheckLocalLifetime && Start->Api != ::grpcleak::RpcApi::Sync)
    if (std::optional<::grpcleak::ShortLivedObject> Found =
            Analysis.findShortLived(*Start, *Flow))
      if (ReportedLifetime.insert(Found->HandedAt).second)
        reportShortLived(*Found, *Flow);
  if (CheckReuse)
    if (std::optional<::grpcleak::ContextReuse> Reuse =
            Analysis.findReuse(*Start, *Flow))
      if (ReportedReuse.insert(Reuse->Second.Call).second)
        reportReuse(*Reuse, Ctx);
}

void ContextLifetimeCheck::checkAsyncOutput(const CallExpr &Op,
                                            ASTContext &Ctx) {
  if (ReportedLifetime.contains(&Op))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(Op, Ctx);
  if (!Flow)
    return;
  ::grpcleak::ContextLifetimeAnalysis Analysis(Ctx, lifetimeOptions());
  if (std::optional<::grpcleak::ShortLivedObject> Found =
          Analysis.findShortLivedOutput(Op, *Flow))
    if (ReportedLifetime.insert(Found->HandedAt).second)
      reportShortLived(*Found, *Flow);
}

void ContextLifetimeCheck::checkLocalReactor(const VarDecl &Reactor,
                                             ASTContext &Ctx) {
  const Expr *Init = Reactor.getInit();
  const ::grpcleak::FunctionFlow *Flow = Init ? flowAround(*Init, Ctx) : nullptr;
  if (!Flow)
    return;
  ::grpcleak::ContextLifetimeAnalysis Analysis(Ctx, lifetimeOptions());
  if (std::optional<::grpcleak::ShortLivedObject> Found =
          Analysis.findShortLivedReactor(Reactor, *Flow))
    if (ReportedLifetime.insert(Found->HandedAt).second)
      reportShortLived(*Found, *Flow);
}

void ContextLifetimeCheck::reportShortLived(
    const ::grpcleak::ShortLivedObject &Found,
    const ::grpcleak::FunctionFlow &Flow) {
  using Role = ::grpcleak::ShortLivedObject::Role;
  SourceLocation Loc = Found.HandedAt->getExprLoc();
  if (Found.What == Role::Reactor) {
    diag(Loc, "client reactor %0 can be destroyed before its RPC completes "
              "and gRPC calls its OnDone")
        << Found.Object;
  } else if (!Found.Start) {
    const auto *Op = llvm::cast<CallExpr>(Found.HandedAt);
    diag(Loc, "%0 is passed by address to %1 of an asynchronous call and can "
              "be destroyed before the operation completes")
        << Found.Object << Op->getDirectCallee()->getDeclName();
  } else {
    bool Callback = Found.Start->Api == ::grpcleak::RpcApi::Callback;
    if (Found.What == Role::Context)
      diag(Loc, "ClientContext %0 can be destroyed before the "
                "%select{asynchronous|callback}1 RPC %2 started on it completes")
          << Found.Object << Callback << Found.Start->Method;
    else
      diag(Loc, "%0 is passed by address to the %select{asynchronous|callback}1 "
                "RPC %2 and can be destroyed before the RPC completes")
          << Found.Object << Callback << Found.Start->Method;
  }
  if (Found.ExitReturn)
    diag(Found.ExitReturn->getBeginLoc(),
         "returns here without waiting for the RPC to complete",
         DiagnosticIDs::Note);
  else if (Found.ScopeEnd.isValid())
    diag(Found.ScopeEnd,
         "%0 is destroyed here, at the end of its scope, without waiting for "
         "the RPC to complete",
         DiagnosticIDs::Note)
        << Found.Object;
  else if (const auto *Body =
               llvm::dyn_cast_or_null<CompoundStmt>(Flow.function().getBody()))
    diag(Body->getRBracLoc(),
         "reaches the end of the function without waiting for the RPC to "
         "complete",
         DiagnosticIDs::Note);
}

void ContextLifetimeCheck::reportReuse(const ::grpcleak::ContextReuse &Reuse,
                                       ASTContext &Ctx) {
  const CallExpr *Second = Reuse.Second.Call;
  if (Second == Reuse.First) {
    const Stmt *Loop = ::grpcleak::enclosingLoop(*Second, Ctx);
    diag(Second->getExprLoc(),
         "ClientContext %0 is reused by RPC %1 when %select{it runs|the loop "
         "comes round}2 again; a ClientContext must not be used for more than "
         "one RPC")
        << Reuse.Context << Reuse.Second.Method << (Loop != nullptr);
    if (Reuse.IsMember)
      diag(Reuse.Context->getLocation(),
           "%0 is a member; create a new ClientContext for each RPC",
           DiagnosticIDs::Note)
          << Reuse.Context;
    else
      diag(Reuse.Context->getLocation(),
           "%0 is declared here%select{|, outside the loop}1; create a new "
           "ClientContext for each RPC",
           DiagnosticIDs::Note)
          << Reuse.Context << (Loop != nullptr);
    return;
  }
  std::optional<::grpcleak::RpcStart> First =
      ::grpcleak::classifyRpcStart(Reuse.First);
  diag(Second->getExprLoc(),
       "RPC %0 reuses ClientContext %1, already used by an earlier RPC; a "
       "ClientContext must not be used for more than one RPC")
      << Reuse.Second.Method << Reuse.Context;
  if (First)
    diag(Reuse.First->getExprLoc(), "RPC %0 is started on %1 here",
         DiagnosticIDs::Note)
        << First->Method << Reuse.Context;
}

void ContextLifetimeCheck::checkMemberOrder(const CXXRecordDecl &Class,
                                            ASTContext &Ctx) {
  if (isGenerated(Class.getLocation(), Ctx.getSourceManager()))
    return;
  // Cheap filter: a class with a context member at all.
  bool HasContext = llvm::any_of(Class.fields(), [](const FieldDecl *F) {
    return ::grpcleak::isClientContextType(F->getType()) ||
           ::grpcleak::isClientContextOwnerType(F->getType());
  });
  if (!HasContext)
    return;
  ::grpcleak::ContextLifetimeAnalysis Analysis(Ctx, lifetimeOptions());
  for (const ::grpcleak::MemberOrderViolation &V :
       Analysis.findMemberOrder(Class)) {
    if (!analyzableFunctionAround(*V.Start, Ctx) ||
        !ReportedOrder.insert(V.Start).second)
      continue;
    diag(V.Start->getExprLoc(),
         "%0 holds an async RPC started on ClientContext %1 but is declared "
         "before it, so it is destroyed after the context that frees the "
         "call; declare %1 first")
        << V.Stream << V.Context;
    diag(V.Stream->getLocation(), "%0 is declared here", DiagnosticIDs::Note)
        << V.Stream;
    offerMemberOrderFix(V, Ctx);
  }
}

/// The note that moves the context member's declaration up, above the
/// stream member's, when that edit only changes the order of destruction
/// (and construction): both are whole-line declarations of one member each,
/// in one access section of a class that is not an aggregate (no brace
/// initialisation by position), and the context has no initializer that
/// could depend on the members between them.
void ContextLifetimeCheck::offerMemberOrderFix(
    const ::grpcleak::MemberOrderViolation &V, ASTContext &Ctx) {
  const FieldDecl &Stream = *V.Stream;
  const FieldDecl &Context = *V.Context;
  const SourceManager &SM = Ctx.getSourceManager();
  const auto *Class = llvm::dyn_cast<CXXRecordDecl>(Context.getParent());
  if (!Class || Class->isAggregate() || Context.hasInClassInitializer() ||
      Stream.getBeginLoc().isMacroID() || Context.getBeginLoc().isMacroID() ||
      Context.getEndLoc().isMacroID() ||
      SM.getFileID(Stream.getBeginLoc()) != SM.getFileID(Context.getBeginLoc()))
    return;
  for (const CXXConstructorDecl *Ctor : Class->ctors())
    for (const CXXCtorInitializer *Init : Ctor->inits())
      if (Init->isWritten() && Init->getMember() == &Context)
        return;
  bool Between = false;
  for (const Decl *D : Class->decls()) {
    if (D == &Stream)
      Between = true;
    else if (D == &Context)
      break;
    else if (Between && llvm::isa<AccessSpecDecl>(D))
      return;
  }
  for (const FieldDecl *Other : Class->fields())
    if (Other != &Context && Other->getBeginLoc() == Context.getBeginLoc())
      return; // `grpc::ClientContext a_, b_;`

  SourceLocation AfterSemi = Lexer::findLocationAfterToken(
      Context.getEndLoc(), tok::semi, SM, Ctx.getLangOpts(),
      /*SkipTrailingWhitespaceAndNewLine=*/false);
  if (AfterSemi.isInvalid())
    return;
  FileID File = SM.getFileID(Context.getBeginLoc());
  bool Invalid = false;
  StringRef Buffer = SM.getBufferData(File, &Invalid);
  if (Invalid)
    return;
  auto LineStart = [&](unsigned Offset) {
    size_t NL = Buffer.rfind('\n', Offset == 0 ? 0 : Offset - 1);
    return NL == StringRef::npos || Offset == 0 ? 0u
                                                : static_cast<unsigned>(NL + 1);
  };
  auto OnlySpaceBefore = [&](unsigned Offset) {
    unsigned Start = LineStart(Offset);
    return Buffer.slice(Start, Offset).find_first_not_of(" \t") ==
           StringRef::npos;
  };
  unsigned ContextBegin = SM.getFileOffset(Context.getBeginLoc());
  unsigned StreamBegin = SM.getFileOffset(Stream.getBeginLoc());
  unsigned SemiEnd = SM.getFileOffset(AfterSemi);
  if (!OnlySpaceBefore(ContextBegin) || !OnlySpaceBefore(StreamBegin))
    return;
  size_t LineEnd = Buffer.find('\n', SemiEnd);
  StringRef Rest = Buffer.slice(SemiEnd, LineEnd == StringRef::npos
                                             ? Buffer.size()
                                             : LineEnd)
                       .trim();
  if (!Rest.empty() && !Rest.starts_with("//"))
    return;
  unsigned CutBegin = LineStart(ContextBegin);
  unsigned CutEnd = LineEnd == StringRef::npos ? Buffer.size() : LineEnd + 1;
  std::string Line = Buffer.slice(CutBegin, CutEnd).str();
  if (!StringRef(Line).ends_with("\n"))
    Line += "\n";
  SourceLocation FileStart = SM.getLocForStartOfFile(File);
  SourceLocation InsertAt = FileStart.getLocWithOffset(LineStart(StreamBegin));
  diag(Context.getLocation(), "declare %0 before %1", DiagnosticIDs::Note)
      << &Context << &Stream
      << FixItHint::CreateInsertion(InsertAt, Line)
      << FixItHint::CreateRemoval(CharSourceRange::getCharRange(
             FileStart.getLocWithOffset(CutBegin),
             FileStart.getLocWithOffset(CutEnd)));
}

} // namespace clang::tidy::grpcleak
