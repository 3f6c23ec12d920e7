//===- DeadlineValue.cpp - Deadlines that never expire --------------------===//

#include "grpcleak/DeadlineValue.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include <limits>

using namespace clang;

namespace grpcleak {
namespace {

struct TakerEntry {
  llvm::StringRef Name;
  DeadlineUse Use;
};
const TakerEntry DeadlineTakers[] = {
#define GRPC_DEADLINE_TAKER(Name, Kind) {Name, DeadlineUse::Kind},
#include "grpcleak/GrpcApi.def"
};

const llvm::StringRef InfiniteFunctions[] = {
#define GRPC_INFINITE_DEADLINE(Name) Name,
#include "grpcleak/GrpcApi.def"
};

/// True if \p FD is the table's \p Name; constructors ("::ns::C::C") are
/// matched through their class, since they have no identifier.
bool isNamed(const FunctionDecl &FD, llvm::StringRef Name) {
  if (const auto *Ctor = llvm::dyn_cast<CXXConstructorDecl>(&FD)) {
    auto [Class, Last] = Name.rsplit("::");
    return Class.ends_with("::" + Last.str()) &&
           hasQualifiedName(Ctor->getParent(), Class);
  }
  return hasQualifiedName(&FD, Name);
}

std::optional<int64_t> evaluateInt(const Expr *E, ASTContext &Ctx) {
  Expr::EvalResult Result;
  if (!E || E->isValueDependent() || !E->EvaluateAsInt(Result, Ctx))
    return std::nullopt;
  return Result.Val.getInt().getExtValue();
}

int64_t clampSeconds(long double Seconds) {
  constexpr long double Max =
      static_cast<long double>(std::numeric_limits<int64_t>::max());
  if (Seconds >= Max)
    return std::numeric_limits<int64_t>::max();
  if (Seconds <= -Max)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(Seconds);
}

/// For a std::chrono::duration<Rep, std::ratio<N, D>> type: N / D.
std::optional<long double> secondsPerTick(QualType T) {
  const auto *Duration = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T.isNull() ? nullptr : T->getAsCXXRecordDecl());
  if (!Duration || !hasQualifiedName(Duration, "::std::chrono::duration") ||
      Duration->getTemplateArgs().size() < 2)
    return std::nullopt;
  const TemplateArgument &Period = Duration->getTemplateArgs()[1];
  if (Period.getKind() != TemplateArgument::Type)
    return std::nullopt;
  const auto *Ratio = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      Period.getAsType()->getAsCXXRecordDecl());
  if (!Ratio || !hasQualifiedName(Ratio, "::std::ratio") ||
      Ratio->getTemplateArgs().size() < 2 ||
      Ratio->getTemplateArgs()[0].getKind() != TemplateArgument::Integral ||
      Ratio->getTemplateArgs()[1].getKind() != TemplateArgument::Integral)
    return std::nullopt;
  long double Num = Ratio->getTemplateArgs()[0].getAsIntegral().getSExtValue();
  long double Den = Ratio->getTemplateArgs()[1].getAsIntegral().getSExtValue();
  if (Den == 0)
    return std::nullopt;
  return Num / Den;
}

std::optional<InfiniteDeadline> classify(const Expr *E, ASTContext &Ctx,
                                         const InfiniteDeadlineOptions &Options,
                                         unsigned Hops);

/// "now + D" / gpr_time_add(now, D) with a too long D, or with an infinite
/// left-hand side.
std::optional<InfiniteDeadline> classifySum(const Expr *Base, const Expr *Offset,
                                            ASTContext &Ctx,
                                            const InfiniteDeadlineOptions &Options,
                                            unsigned Hops) {
  if (std::optional<InfiniteDeadline> Inner = classify(Base, Ctx, Options, Hops))
    return Inner;
  if (Options.MaxDeadlineSeconds <= 0)
    return std::nullopt;
  std::optional<int64_t> Seconds = constantDurationSeconds(Offset, Ctx);
  if (!Seconds || *Seconds <= Options.MaxDeadlineSeconds)
    return std::nullopt;
  return InfiniteDeadline{std::to_string(*Seconds) +
                          " seconds away, more than the limit of " +
                          std::to_string(Options.MaxDeadlineSeconds)};
}

std::optional<InfiniteDeadline> classify(const Expr *E, ASTContext &Ctx,
                                         const InfiniteDeadlineOptions &Options,
                                         unsigned Hops) {
  if (!E)
    return std::nullopt;
  E = stripValue(E);
  // A copy or conversion of a time point is the same time point.
  if (const auto *Construct = llvm::dyn_cast<CXXConstructExpr>(E))
    return Construct->getNumArgs() == 1
               ? classify(Construct->getArg(0), Ctx, Options, Hops)
               : std::nullopt;
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(E)) {
    if (Op->getOperator() == OO_Plus && Op->getNumArgs() == 2) {
      // time_point + duration, or duration + time_point.
      if (std::optional<InfiniteDeadline> Sum =
              classifySum(Op->getArg(0), Op->getArg(1), Ctx, Options, Hops))
        return Sum;
      return classifySum(Op->getArg(1), Op->getArg(0), Ctx, Options, Hops);
    }
    return std::nullopt;
  }
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    const FunctionDecl *FD = Call->getDirectCallee();
    if (!FD)
      return std::nullopt;
    for (llvm::StringRef Name : InfiniteFunctions)
      if (hasQualifiedName(FD, Name))
        return InfiniteDeadline{"'" + FD->getName().str() + "'"};
    if (const auto *MD = llvm::dyn_cast<CXXMethodDecl>(FD))
      if (MD->isStatic() && MD->getIdentifier() && MD->getName() == "max")
        if (const auto *Spec =
                llvm::dyn_cast<ClassTemplateSpecializationDecl>(MD->getParent()))
          if (hasQualifiedName(Spec, "::std::chrono::time_point"))
            return InfiniteDeadline{"'time_point::max()'"};
    if (hasQualifiedName(FD, "::gpr_time_add") && Call->getNumArgs() == 2)
      return classifySum(Call->getArg(0), Call->getArg(1), Ctx, Options, Hops);
    return std::nullopt;
  }
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(E)) {
    const auto *Var = llvm::dyn_cast<VarDecl>(Ref->getDecl());
    if (!Var || !Var->getIdentifier())
      return std::nullopt;
    if (Options.InfiniteNames && Options.InfiniteNames->match(Var->getName()))
      return InfiniteDeadline{"'" + Var->getName().str() + "'"};
    // One hop through a constant: `constexpr auto kNever = ...max();`.
    bool IsConstant = Var->isConstexpr() || Var->getType().isConstQualified();
    if (Hops == 0 && IsConstant && Var->getInit())
      if (std::optional<InfiniteDeadline> Inner =
              classify(Var->getInit(), Ctx, Options, Hops + 1))
        return InfiniteDeadline{"'" + Var->getName().str() + "', which is " +
                                Inner->Why};
  }
  return std::nullopt;
}

} // namespace

std::optional<DeadlineArgument> deadlineArgument(const Expr &Call) {
  const FunctionDecl *FD = nullptr;
  llvm::ArrayRef<const Expr *> Args;
  if (const auto *C = llvm::dyn_cast<CallExpr>(&Call)) {
    FD = C->getDirectCallee();
    Args = llvm::ArrayRef(C->getArgs(), C->getNumArgs());
    if (llvm::isa<CXXOperatorCallExpr>(C))
      return std::nullopt;
  } else if (const auto *C = llvm::dyn_cast<CXXConstructExpr>(&Call)) {
    FD = C->getConstructor();
    Args = llvm::ArrayRef(C->getArgs(), C->getNumArgs());
  }
  if (!FD)
    return std::nullopt;
  for (const TakerEntry &Taker : DeadlineTakers) {
    if (!isNamed(*FD, Taker.Name))
      continue;
    for (unsigned I = 0, E = FD->getNumParams(); I != E && I < Args.size(); ++I) {
      const ParmVarDecl *Param = FD->getParamDecl(I);
      if (Param->getIdentifier() && Param->getName() == "deadline")
        return DeadlineArgument{Taker.Use, Args[I]};
    }
  }
  return std::nullopt;
}

std::optional<int64_t> constantDurationSeconds(const Expr *E, ASTContext &Ctx) {
  if (!E)
    return std::nullopt;
  E = stripValue(E);
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    const FunctionDecl *FD = Call->getDirectCallee();
    static const std::pair<llvm::StringRef, long double> GprUnits[] = {
        {"::gpr_time_from_hours", 3600},   {"::gpr_time_from_minutes", 60},
        {"::gpr_time_from_seconds", 1},    {"::gpr_time_from_millis", 1e-3},
        {"::gpr_time_from_micros", 1e-6},  {"::gpr_time_from_nanos", 1e-9}};
    for (const auto &[Name, Scale] : GprUnits)
      if (FD && hasQualifiedName(FD, Name) && Call->getNumArgs() >= 1)
        if (std::optional<int64_t> Count = evaluateInt(Call->getArg(0), Ctx))
          return clampSeconds(*Count * Scale);
  }
  std::optional<long double> Tick = secondsPerTick(E->getType());
  if (!Tick)
    return std::nullopt;
  // std::chrono::duration is a literal type holding one count: evaluate the
  // whole expression (hours(24 * 365), 87600h, a constexpr constant...).
  Expr::EvalResult Result;
  if (E->isValueDependent() || !E->EvaluateAsRValue(Result, Ctx) ||
      !Result.Val.isStruct() || Result.Val.getStructNumFields() < 1)
    return std::nullopt;
  const APValue &Count = Result.Val.getStructField(0);
  if (Count.isInt())
    return clampSeconds(Count.getInt().getExtValue() * *Tick);
  if (Count.isFloat())
    return clampSeconds(Count.getFloat().convertToDouble() * *Tick);
  return std::nullopt;
}

bool isZeroDuration(const Expr *E, ASTContext &Ctx) {
  if (!E)
    return false;
  E = stripValue(E);
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    const FunctionDecl *FD = Call->getDirectCallee();
    if (FD && FD->getIdentifier() && FD->getName().starts_with("gpr_time_from_") &&
        Call->getNumArgs() >= 1)
      return evaluateInt(Call->getArg(0), Ctx) == 0;
  }
  if (!secondsPerTick(E->getType()))
    return false;
  Expr::EvalResult Result;
  if (E->isValueDependent() || !E->EvaluateAsRValue(Result, Ctx) ||
      !Result.Val.isStruct() || Result.Val.getStructNumFields() < 1)
    return false;
  const APValue &Count = Result.Val.getStructField(0);
  return (Count.isInt() && Count.getInt().isZero()) ||
         (Count.isFloat() && Count.getFloat().isZero());
}

std::optional<InfiniteDeadline>
classifyInfiniteDeadline(const Expr *Deadline, ASTContext &Ctx,
                         const InfiniteDeadlineOptions &Options) {
  return classify(Deadline, Ctx, Options, 0);
}

} // namespace grpcleak
