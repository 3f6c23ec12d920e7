//===- CallbackThreads.cpp - Code that runs on gRPC's callback threads ----===//

#include "grpcleak/CallbackThreads.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/DeadlineValue.h"
#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/Repetition.h"
#include "grpcleak/Summaries.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <deque>

using namespace clang;

namespace grpcleak {
namespace {

struct ThreadBlockingEntry {
  llvm::StringRef Class;
  llvm::StringRef Function;
  BlockingKind Kind;
  int TimeoutArg;
};
const ThreadBlockingEntry ThreadBlocking[] = {
#define GRPC_THREAD_BLOCKING(Class, Function, Kind, TimeoutArg)                \
  {Class, Function, BlockingKind::Kind, TimeoutArg},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef CallbackTakers[] = {
#define GRPC_CALLBACK_TAKER(Name) Name,
#include "grpcleak/GrpcApi.def"
};

/// True if \p RD is the class named \p Class (a class template's instances
/// carry its name), or derives from it.
bool isOrDerivesFrom(const CXXRecordDecl *RD, llvm::StringRef Class) {
  if (!RD)
    return false;
  auto Named = [&](const CXXRecordDecl &C) {
    return hasQualifiedName(&C, Class);
  };
  return Named(*RD) || derivesFrom(*RD, Named);
}

/// True if \p FD matches the user's name \p Name: `::a::b` exactly, `a::b`
/// as the end of its qualified name, `b` its name.
bool matchesUserName(const std::string &Qualified,
                     llvm::StringRef Name) {
  if (Name.consume_front("::"))
    return Qualified == Name;
  return Qualified == Name ||
         llvm::StringRef(Qualified).ends_with(("::" + Name).str());
}

/// A clock's now(): a deadline that has already come.
bool isNow(const Expr *E) {
  const auto *Call = llvm::dyn_cast_or_null<CallExpr>(E);
  const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
  if (!FD || !FD->getIdentifier())
    return false;
  if (const auto *MD = llvm::dyn_cast<CXXMethodDecl>(FD))
    return MD->isStatic() && MD->getName() == "now" &&
           (hasQualifiedName(MD->getParent(), "::std::chrono::system_clock") ||
            hasQualifiedName(MD->getParent(), "::std::chrono::steady_clock") ||
            hasQualifiedName(MD->getParent(),
                             "::std::chrono::high_resolution_clock"));
  return hasQualifiedName(FD, "::gpr_now") ||
         hasQualifiedName(FD, "::gpr_time_0") ||
         hasQualifiedName(FD, "::gpr_inf_past") ||
         hasQualifiedName(FD, "::absl::Now") ||
         hasQualifiedName(FD, "::absl::ZeroDuration");
}

} // namespace

/// True if \p Call, a wait on an object, only runs once a poll of the same
/// object said it is ready: `if (f.wait_for(0s) == ready) f.get();`.
static bool isGuardedByReadyPoll(const CallExpr &Call, ASTContext &Ctx) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const ValueDecl *Object = Member ? objectOf(*Member) : nullptr;
  if (!Object)
    return false;
  const Stmt *Child = &Call;
  ParentList Parents = parentsOf(Ctx, Call);
  while (Parents.size() == 1 && !Parents[0].get<FunctionDecl>() &&
         !Parents[0].get<LambdaExpr>()) {
    if (const auto *If = Parents[0].get<IfStmt>())
      if (If->getThen() == Child &&
          anyStatement(If->getCond(), [&](const Stmt &S) {
            const auto *Poll = llvm::dyn_cast<CXXMemberCallExpr>(&S);
            const CXXMethodDecl *MD = Poll ? Poll->getMethodDecl() : nullptr;
            return MD && MD->getIdentifier() &&
                   MD->getName().starts_with("wait_") && Poll->getNumArgs() >= 1 &&
                   objectOf(*Poll) == Object &&
                   isNonBlockingTimeout(Poll->getArg(0), Ctx);
          }))
        return true;
    Child = Parents[0].get<Stmt>();
    if (!Child)
      return false;
    Parents = parentsOf(Ctx, *Child);
  }
  return false;
}

bool isMethodCallOn(const CallExpr &Call, llvm::StringRef Class,
                    llvm::StringRef Method) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *MD = Member ? Member->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() || MD->getName() != Method)
    return false;
  // The object's own class, before any conversion to the base that
  // declares the method (`f.wait()` calls std::__basic_future::wait).
  const Expr *Object = Member->getImplicitObjectArgument();
  QualType T = Object ? Object->IgnoreParenImpCasts()->getType() : QualType();
  if (!T.isNull() && T->isPointerType())
    T = T->getPointeeType();
  const CXXRecordDecl *ObjectClass = T.isNull() ? nullptr : T->getAsCXXRecordDecl();
  return isOrDerivesFrom(ObjectClass, Class) ||
         isOrDerivesFrom(MD->getParent(), Class);
}

bool isNonBlockingTimeout(const Expr *E, ASTContext &Ctx) {
  if (!E)
    return false;
  E = stripValue(E);
  // A copy or conversion of a time point or duration is the same value.
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(E))
    if (Construct->getNumArgs() == 1 &&
        !llvm::isa<CXXTemporaryObjectExpr>(Construct))
      return isNonBlockingTimeout(Construct->getArg(0), Ctx);
  if (isNow(E) || isZeroDuration(E, Ctx))
    return true;
  if (E->getType()->isIntegerType() && !E->isValueDependent()) {
    Expr::EvalResult Result;
    return E->EvaluateAsInt(Result, Ctx) && Result.Val.getInt().isZero();
  }
  // now + 0s
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(E))
    if (Op->getOperator() == OO_Plus && Op->getNumArgs() == 2)
      return (isNow(stripValue(Op->getArg(0))) &&
              isZeroDuration(Op->getArg(1), Ctx)) ||
             (isNow(stripValue(Op->getArg(1))) &&
              isZeroDuration(Op->getArg(0), Ctx));
  return false;
}

std::vector<llvm::StringRef> blockingCallNames() {
  std::vector<llvm::StringRef> Names;
  for (const ThreadBlockingEntry &Entry : ThreadBlocking) {
    llvm::StringRef Name = Entry.Function.rsplit("::").second;
    if (Name.empty())
      Name = Entry.Function;
    if (!llvm::is_contained(Names, Name))
      Names.push_back(Name);
  }
  return Names;
}

std::optional<BlockingCall>
classifyBlockingCall(const CallExpr &Call, ASTContext &Ctx,
                     llvm::ArrayRef<std::string> Extra) {
  const FunctionDecl *FD = Call.getDirectCallee();
  if (!FD)
    return std::nullopt;
  if (std::optional<RpcStart> Start = classifyRpcStart(&Call))
    if (Start->Api == RpcApi::Sync)
      return BlockingCall{&Call, Start->Method, BlockingKind::Rpc, true};
  for (const ThreadBlockingEntry &Entry : ThreadBlocking) {
    bool Matches = Entry.Class.empty()
                       ? hasQualifiedName(FD, Entry.Function)
                       : isMethodCallOn(Call, Entry.Class, Entry.Function);
    if (!Matches)
      continue;
    if (Entry.TimeoutArg >= 0 &&
        static_cast<unsigned>(Entry.TimeoutArg) < Call.getNumArgs() &&
        isNonBlockingTimeout(Call.getArg(Entry.TimeoutArg), Ctx))
      return std::nullopt;
    if (Entry.Kind == BlockingKind::Signal && isGuardedByReadyPoll(Call, Ctx))
      return std::nullopt;
    return BlockingCall{&Call, FD, Entry.Kind, false};
  }
  if (!FD->hasBody())
    if (std::shared_ptr<const FunctionFacts> Facts = projectFacts(*FD))
      if (Facts->Blocks)
        return BlockingCall{&Call, FD, BlockingKind::Project, false};
  if (Extra.empty() || !FD->getIdentifier())
    return std::nullopt;
  std::string Qualified = FD->getQualifiedNameAsString();
  for (const std::string &Name : Extra) {
    bool Matches = matchesUserName(Qualified, Name);
    // A method listed as `::ns::Class::Method` also matches when called on
    // an object of a class derived from Class that overrides it.
    llvm::StringRef Ref(Name);
    if (!Matches && Ref.starts_with("::") && Ref.contains("::")) {
      auto [Class, Method] = Ref.rsplit("::");
      Matches = !Class.empty() && isMethodCallOn(Call, Class, Method);
    }
    if (Matches)
      return BlockingCall{&Call, FD, BlockingKind::User, false};
  }
  return std::nullopt;
}

const CallExpr *completionCallTaking(const LambdaExpr &Lambda, ASTContext &Ctx) {
  auto IsTaker = [](const CallExpr &Call) {
    if (std::optional<RpcStart> Start = classifyRpcStart(&Call))
      return Start->Api == RpcApi::Callback;
    const FunctionDecl *FD = Call.getDirectCallee();
    return FD && llvm::any_of(CallbackTakers, [&](llvm::StringRef Name) {
             return hasQualifiedName(FD, Name);
           });
  };
  // Up through the conversions to std::function (a temporary, a
  // constructor, std::move) to the call it is an argument of.
  const Expr *Current = &Lambda;
  while (true) {
    ParentList Parents = parentsOf(Ctx, *Current);
    if (Parents.size() != 1)
      return nullptr;
    if (const auto *Var = Parents[0].get<VarDecl>()) {
      // `auto done = [...](grpc::Status s) {...};` then passed by name.
      const auto *Owner =
          llvm::dyn_cast_or_null<FunctionDecl>(Var->getParentFunctionOrMethod());
      if (!Owner || !isAutomaticLocal(Var))
        return nullptr;
      const CallExpr *Taker = nullptr;
      anyStatement(Owner->getBody(), [&](const Stmt &S) {
        const auto *Call = llvm::dyn_cast<CallExpr>(&S);
        if (!Call || !IsTaker(*Call))
          return false;
        for (const Expr *Arg : Call->arguments()) {
          const Expr *Value = stripValue(Arg);
          if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(Value))
            if (Construct->getNumArgs() >= 1)
              Value = Construct->getArg(0);
          if (namesObject(Value, Var)) {
            Taker = Call;
            return true;
          }
        }
        return false;
      });
      return Taker;
    }
    const auto *Parent = Parents[0].get<Expr>();
    if (!Parent)
      return nullptr;
    if (const auto *Call = llvm::dyn_cast<CallExpr>(Parent)) {
      const FunctionDecl *FD = Call->getDirectCallee();
      if (FD && hasQualifiedName(FD, "::std::move")) {
        Current = Call;
        continue;
      }
      if (Call->getCallee() == Current)
        return nullptr; // called right here, not handed on
      return IsTaker(*Call) ? Call : nullptr;
    }
    if (!llvm::isa<ImplicitCastExpr, ParenExpr, MaterializeTemporaryExpr,
                   CXXBindTemporaryExpr, ExprWithCleanups, CXXConstructExpr,
                   CXXFunctionalCastExpr>(Parent))
      return nullptr;
    Current = Parent;
  }
}

std::optional<CallbackEntry>
CallbackThreadAnalysis::entryOf(const FunctionDecl &Fn,
                                const LambdaExpr *Lambda) const {
  if (Lambda) {
    if (!Options.Completions)
      return std::nullopt;
    if (const CallExpr *Taker = completionCallTaking(*Lambda, Ctx))
      return CallbackEntry{CallbackEntryKind::Completion, &Fn, Taker};
    return std::nullopt;
  }
  if (Options.Reactions)
    if (const auto *Method = llvm::dyn_cast<CXXMethodDecl>(&Fn))
      if (isReaction(*Method))
        return CallbackEntry{CallbackEntryKind::Reaction, &Fn, nullptr};
  if (Options.Handlers && isCallbackHandler(Fn))
    return CallbackEntry{CallbackEntryKind::Handler, &Fn, nullptr};
  return std::nullopt;
}

/// The lambda whose call operator \p CallOperator is, found from a statement
/// \p S of its body.
static const LambdaExpr *lambdaAround(const Stmt &S,
                                      const FunctionDecl &CallOperator,
                                      ASTContext &Ctx) {
  ParentList Parents = parentsOf(Ctx, S);
  while (!Parents.empty()) {
    if (const auto *Lambda = Parents[0].get<LambdaExpr>())
      if (Lambda->getCallOperator() == &CallOperator)
        return Lambda;
    // The parent index reaches the lambda through its call operator and
    // closure class; any other function is not inside it.
    if (const auto *Fn = Parents[0].get<FunctionDecl>())
      if (Fn != &CallOperator)
        return nullptr;
    Parents = parentsOf(Ctx, Parents[0]);
  }
  return nullptr;
}

/// True if the code \p Site calls runs on another thread or later: a
/// thread launch, or a call of a std::function (what a thread pool's post
/// or a callback registry holds). The callers of a function reached only
/// so are not its callers on this thread.
static bool runsElsewhere(const Expr &Site) {
  unsigned FirstArg = 0;
  if (TuIndex::launchedFunction(Site, FirstArg))
    return true;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(&Site))
    if (Op->getOperator() == OO_Call && Op->getNumArgs() >= 1)
      if (const auto *RD = Op->getArg(0)->getType()->getAsCXXRecordDecl())
        return hasQualifiedName(RD, "::std::function");
  return false;
}

std::optional<CallbackPath>
CallbackThreadAnalysis::find(const Stmt &S) const {
  struct Item {
    const Stmt *At;
    std::vector<const Expr *> Hops;
  };
  std::deque<Item> Work;
  Work.push_back({&S, {}});
  llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
  const TuIndex &Index = TuIndex::get(Ctx);
  while (!Work.empty()) {
    Item It = std::move(Work.front());
    Work.pop_front();
    const FunctionDecl *Fn = enclosingCallable(*It.At, Ctx);
    if (!Fn || !Seen.insert(Fn->getCanonicalDecl()).second)
      continue;
    const auto *Method = llvm::dyn_cast<CXXMethodDecl>(Fn);
    const LambdaExpr *Lambda = Method && Method->getParent()->isLambda()
                                   ? lambdaAround(*It.At, *Fn, Ctx)
                                   : nullptr;
    if (std::optional<CallbackEntry> Entry = entryOf(*Fn, Lambda))
      return CallbackPath{*Entry, std::move(It.Hops)};
    if (It.Hops.size() >= Options.CallDepth)
      continue;
    for (const Expr *Site : Index.callSitesOf(*Fn)) {
      if (runsElsewhere(*Site))
        continue;
      std::vector<const Expr *> Hops = It.Hops;
      Hops.push_back(Site);
      Work.push_back({Site, std::move(Hops)});
    }
  }
  return std::nullopt;
}

} // namespace grpcleak
