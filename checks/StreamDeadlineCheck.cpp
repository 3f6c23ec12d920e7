//===- StreamDeadlineCheck.cpp - grpc-leak-stream-deadline ----------------===//

#include "StreamDeadlineCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/DeadlineAnalysis.h"

#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"

using namespace clang::ast_matchers;

namespace clang::tidy::grpcleak {

StreamDeadlineCheck::StreamDeadlineCheck(StringRef Name,
                                         ClangTidyContext *Context)
    : GrpcLeakCheck(Name, Context),
      CheckUnary(Options.get("CheckUnary", false)),
      TrustServerContextPropagation(
          Options.get("TrustServerContextPropagation", true)),
      TreatTryCancelAsBounded(Options.get("TreatTryCancelAsBounded", true)),
      IgnoreContextParameters(Options.get("IgnoreContextParameters", true)),
      FixItTimeoutSeconds(Options.get("FixItTimeoutSeconds", 30U)),
      DeadlineSetterFunctions(readRegexOption("DeadlineSetterFunctions")) {}

void StreamDeadlineCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Options.store(Opts, "CheckUnary", CheckUnary);
  Options.store(Opts, "TrustServerContextPropagation",
                TrustServerContextPropagation);
  Options.store(Opts, "TreatTryCancelAsBounded", TreatTryCancelAsBounded);
  Options.store(Opts, "IgnoreContextParameters", IgnoreContextParameters);
  Options.store(Opts, "FixItTimeoutSeconds", FixItTimeoutSeconds);
  Options.store(Opts, "DeadlineSetterFunctions", DeadlineSetterFunctions.Text);
}

void StreamDeadlineCheck::registerCheckMatchers(MatchFinder *Finder) {
  // Every generated, generic and callback RPC start takes the context as
  // argument 0; the API model decides the rest.
  // Helpers of the TU that start one on a context they are given are found
  // from calls passing a context (by pointer or reference).
  auto Context = cxxRecordDecl(hasName("::grpc::ClientContext"));
  Finder->addMatcher(
      callExpr(hasAnyArgument(hasType(hasCanonicalType(
                   anyOf(pointsTo(Context), hasDeclaration(Context))))))
          .bind("call"),
      this);
}

/// For a call that hands a context to a helper which starts an RPC on it
/// (on some path without giving it a deadline first): the start, as if made
/// at \p Call on that argument, and what the helper does.
static std::optional<::grpcleak::RpcStart>
startedByHelper(const CallExpr &Call, ::grpcleak::DeadlineAnalysis &Analysis,
                std::optional<::grpcleak::DeadlineAnalysis::HelperRpc> &Helper) {
  const FunctionDecl *Callee = Call.getDirectCallee();
  if (!Callee || ::grpcleak::isInGrpcNamespace(*Callee))
    return std::nullopt;
  unsigned Offset =
      llvm::isa<CXXOperatorCallExpr>(Call) && llvm::isa<CXXMethodDecl>(Callee) ? 1
                                                                              : 0;
  for (unsigned I = Offset, E = Call.getNumArgs(); I != E; ++I) {
    QualType T = Call.getArg(I)->getType();
    if (!::grpcleak::isClientContextType(T) &&
        !(T->isPointerType() && ::grpcleak::isClientContextType(T->getPointeeType())))
      continue;
    Helper = Analysis.startsOnParam(*Callee, I - Offset);
    if (!Helper)
      continue;
    ::grpcleak::RpcStart Start;
    if (Helper->Start) {
      std::optional<::grpcleak::RpcStart> Inner =
          ::grpcleak::classifyRpcStart(Helper->Start);
      if (!Inner)
        continue;
      Start = *Inner;
    } else {
      Start.Streaming = Helper->Streaming;
    }
    Start.Call = &Call;
    Start.Context = Call.getArg(I);
    return Start;
  }
  return std::nullopt;
}

/// The name of the RPC method \p Start calls, for diagnostics.
static std::string methodName(
    const ::grpcleak::RpcStart &Start,
    const std::optional<::grpcleak::DeadlineAnalysis::HelperRpc> &Helper) {
  if (Start.Method && Start.Method->getIdentifier())
    return Start.Method->getName().str();
  return Helper ? Helper->Method : "";
}

void StreamDeadlineCheck::checkMatch(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  ::grpcleak::DeadlineOptions Opts;
  Opts.TrustServerContextPropagation = TrustServerContextPropagation;
  Opts.TreatTryCancelAsBounded = TreatTryCancelAsBounded;
  Opts.IgnoreContextParameters = IgnoreContextParameters;
  Opts.DeadlineSetterFunctions = DeadlineSetterFunctions.get();
  ::grpcleak::DeadlineAnalysis Analysis(Opts);

  // The RPC start: this call, or one made by the helper this call runs.
  std::optional<::grpcleak::DeadlineAnalysis::HelperRpc> Helper;
  std::optional<::grpcleak::RpcStart> Start =
      ::grpcleak::classifyRpcStart(Call);
  if (!Start && !isGenerated(Call->getBeginLoc(),
                             Result.Context->getSourceManager()))
    Start = startedByHelper(*Call, Analysis, Helper);
  if (!Start || (!Start->Streaming && !CheckUnary))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(*Call, *Result.Context);
  if (!Flow)
    return;

  std::optional<::grpcleak::MissingDeadline> Missing =
      Analysis.analyze(*Start, *Flow);
  const FunctionDecl &Fn = Flow->function();
  if (!Missing || !firstInstance(Call->getExprLoc(), Fn))
    return;

  std::string Method = methodName(*Start, Helper);
  if (Helper) {
    diag(Call->getExprLoc(), "%select{|streaming }0RPC '%1' is started on %2 "
                             "by %3, called here, with no deadline set on "
                             "some path to it")
        << Start->Streaming << Method << Missing->Context
        << Call->getDirectCallee();
    if (Helper->Start)
      diag(Helper->Start->getExprLoc(), "the RPC is started here, on the "
                                        "context given to %0",
           DiagnosticIDs::Note)
          << Call->getDirectCallee();
    else
      diag(Call->getExprLoc(), "%0, defined in %1, starts it on the context "
                               "it is given (from the project's summaries)",
           DiagnosticIDs::Note)
          << Call->getDirectCallee() << Helper->Facts->File;
  } else {
    diag(Call->getExprLoc(), "%select{|streaming }0RPC '%1' is started on %2 "
                             "with no deadline set on some path to it")
        << Start->Streaming << Method << Missing->Context;
  }
  if (Missing->IsMember) {
    const auto *Class = llvm::cast<RecordDecl>(Missing->Context->getDeclContext());
    bool Inherited = true;
    if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn))
      Inherited = Method->getParent()->getCanonicalDecl() != Class->getCanonicalDecl();
    // A class template's instance is named by its template, as written.
    const NamedDecl *ClassName = Class;
    if (const auto *Spec = llvm::dyn_cast<ClassTemplateSpecializationDecl>(Class))
      ClassName = Spec->getSpecializedTemplate();
    diag(Missing->Context->getLocation(),
         "%0 is a member of %1; no method of %1%select{| or of a class derived "
         "from it}2 sets a deadline on it%select{| or cancels it without "
         "waiting for the peer}3",
         DiagnosticIDs::Note)
        << Missing->Context << ClassName << Inherited << TreatTryCancelAsBounded;
  } else {
    diag(Missing->Context->getLocation(),
         "%0 is declared here; call 'set_deadline' on it before the RPC starts",
         DiagnosticIDs::Note)
        << Missing->Context;
    noteSummarisedCalls(
        Fn, *Missing->Context, Call,
        [](const ::grpcleak::FunctionFacts &F, unsigned I) {
          return ::grpcleak::FunctionFacts::has(F.SetsDeadlineParams, I);
        },
        "is given it and sets no deadline on it");
  }
  if (Missing->LateSetter)
    diag(Missing->LateSetter->getExprLoc(),
         "a deadline set after the RPC has started has no effect on it",
         DiagnosticIDs::Note);
  if (Missing->PeerDependentCancel)
    diag(Missing->PeerDependentCancel->getExprLoc(),
         "this TryCancel() runs only after the peer has answered; it does not "
         "end a call the peer has stalled",
         DiagnosticIDs::Note);
  // No automatic edit where a deadline is already set on some path: one
  // inserted before the call would silently replace it there; none in
  // template code, shared by every instance.
  if (const auto *Var = llvm::dyn_cast<VarDecl>(Missing->Context))
    if (!llvm::isa<ParmVarDecl>(Var) && !isTemplateInstance(Fn) &&
        !::grpcleak::DeadlineAnalysis::setsDeadlineAnywhere(Fn.getBody(), *Var))
      offerDeadlineFix(*Call, *Var, *Result.Context);
  noteInstantiation(Fn);
}

/// The statement of a block that contains \p S, and that block.
static const Stmt *statementInBlock(const Stmt &S, ASTContext &Ctx,
                                    const CompoundStmt *&Block) {
  DynTypedNode Current = DynTypedNode::create(S);
  const Stmt *LastStmt = &S;
  while (true) {
    auto Parents = ::grpcleak::parentsOf(Ctx, Current);
    if (Parents.size() != 1)
      return nullptr;
    if (const auto *Compound = Parents[0].get<CompoundStmt>()) {
      Block = Compound;
      return LastStmt;
    }
    // Through the variable a call initialises, up to its DeclStmt; but not
    // out of a function, lambda or class.
    if (Parents[0].get<FunctionDecl>() || Parents[0].get<LambdaExpr>() ||
        Parents[0].get<RecordDecl>())
      return nullptr;
    if (const auto *Parent = Parents[0].get<Stmt>())
      LastStmt = Parent;
    Current = Parents[0];
  }
}

/// The fix-it is offered only where inserting one statement right before the
/// one that starts the RPC is safe by construction: the context is a local
/// declared in an enclosing block before that statement, nothing involved
/// comes from a macro, and the statement is not a label or `case` (a jump to
/// it would skip the new line). The deadline then holds on every path to
/// the call. It rides on a note, so only --fix-notes applies it.
void StreamDeadlineCheck::offerDeadlineFix(const CallExpr &Call,
                                           const VarDecl &Context,
                                           ASTContext &Ctx) {
  if (FixItTimeoutSeconds == 0)
    return;
  const SourceManager &SM = Ctx.getSourceManager();
  const CompoundStmt *Block = nullptr;
  const Stmt *Statement = statementInBlock(Call, Ctx, Block);
  if (!Statement || llvm::isa<SwitchCase, LabelStmt>(Statement))
    return;
  SourceLocation Insert = Statement->getBeginLoc();
  if (Insert.isMacroID() || Call.getBeginLoc().isMacroID() ||
      Context.getLocation().isMacroID())
    return;
  // The context's declaration must be in this block or an enclosing one.
  const CompoundStmt *DeclBlock = nullptr;
  auto DeclParents = ::grpcleak::parentsOf(Ctx, Context);
  const auto *Decl = DeclParents.size() == 1 ? DeclParents[0].get<DeclStmt>()
                                             : nullptr;
  if (!Decl || !statementInBlock(*Decl, Ctx, DeclBlock))
    return;
  bool Enclosed = false;
  for (const Stmt *S = Block; S;) {
    if (S == DeclBlock) {
      Enclosed = true;
      break;
    }
    auto Parents = ::grpcleak::parentsOf(Ctx, *S);
    S = Parents.size() == 1 ? Parents[0].get<Stmt>() : nullptr;
  }
  if (!Enclosed || !SM.isBeforeInTranslationUnit(Decl->getEndLoc(), Insert))
    return;

  std::string Access = ::grpcleak::isClientContextType(Context.getType())
                           ? "."
                           : "->";
  std::string Text = Context.getName().str() + Access +
                     "set_deadline(std::chrono::system_clock::now() + "
                     "std::chrono::seconds(" +
                     std::to_string(FixItTimeoutSeconds) + "));";
  // Editors (through clangd) show this message as the title of the quick
  // fix, so it says what the edit does.
  diag(Insert, "set a %0 s deadline on %1", DiagnosticIDs::Note)
      << FixItTimeoutSeconds << &Context
      << insertStatementBefore(Insert, Text, SM);
}

} // namespace clang::tidy::grpcleak
