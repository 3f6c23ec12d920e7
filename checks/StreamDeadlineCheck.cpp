//===- StreamDeadlineCheck.cpp - grpc-leak-stream-deadline ----------------===//

#include "StreamDeadlineCheck.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/DeadlineAnalysis.h"

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

void StreamDeadlineCheck::registerMatchers(MatchFinder *Finder) {
  // Every generated, generic and callback RPC start takes the context as
  // argument 0; the API model decides the rest.
  Finder->addMatcher(
      cxxMemberCallExpr(
          hasArgument(0, hasType(hasCanonicalType(pointsTo(
                             cxxRecordDecl(hasName("::grpc::ClientContext")))))))
          .bind("call"),
      this);
}

void StreamDeadlineCheck::check(const MatchFinder::MatchResult &Result) {
  const auto *Call = Result.Nodes.getNodeAs<CXXMemberCallExpr>("call");
  std::optional<::grpcleak::RpcStart> Start =
      ::grpcleak::classifyRpcStart(Call);
  if (!Start || (!Start->Streaming && !CheckUnary))
    return;
  const ::grpcleak::FunctionFlow *Flow = flowAround(*Call, *Result.Context);
  if (!Flow)
    return;

  ::grpcleak::DeadlineOptions Opts;
  Opts.TrustServerContextPropagation = TrustServerContextPropagation;
  Opts.TreatTryCancelAsBounded = TreatTryCancelAsBounded;
  Opts.IgnoreContextParameters = IgnoreContextParameters;
  Opts.DeadlineSetterFunctions = DeadlineSetterFunctions.get();
  ::grpcleak::DeadlineAnalysis Analysis(Opts);
  std::optional<::grpcleak::MissingDeadline> Missing =
      Analysis.analyze(*Start, *Flow);
  if (!Missing)
    return;

  diag(Call->getExprLoc(), "%select{|streaming }0RPC %1 is started on %2 with "
                           "no deadline set on some path to it")
      << Start->Streaming << Start->Method << Missing->Context;
  if (Missing->IsMember)
    diag(Missing->Context->getLocation(),
         "%0 is a member; no method of its class sets a deadline on it"
         "%select{| or cancels it}1",
         DiagnosticIDs::Note)
        << Missing->Context << TreatTryCancelAsBounded;
  else
    diag(Missing->Context->getLocation(),
         "%0 is declared here; call 'set_deadline' on it before the RPC starts",
         DiagnosticIDs::Note)
        << Missing->Context;
  if (Missing->LateSetter)
    diag(Missing->LateSetter->getExprLoc(),
         "a deadline set after the RPC has started has no effect on it",
         DiagnosticIDs::Note);
  // No automatic edit where a deadline is already set on some path: one
  // inserted before the call would silently replace it there.
  if (const auto *Var = llvm::dyn_cast<VarDecl>(Missing->Context))
    if (!llvm::isa<ParmVarDecl>(Var) &&
        !::grpcleak::DeadlineAnalysis::setsDeadlineAnywhere(
            Flow->function().getBody(), *Var))
      offerDeadlineFix(*Call, *Var, *Result.Context);
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
  diag(Insert, "set a deadline of %0 seconds before the RPC starts",
       DiagnosticIDs::Note)
      << FixItTimeoutSeconds << insertStatementBefore(Insert, Text, SM);
}

} // namespace clang::tidy::grpcleak
