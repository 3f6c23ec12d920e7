//===- HandleLifetime.h - Is a C-core handle released on every path? -*- C++ -*-===//
//
// For a call that acquires a C-core handle (GrpcApi.def), finds a path out of
// the function on which the handle is neither released nor handed to an
// owner. "Handed to an owner" is judged conservatively, precision first:
// returned, stored anywhere but in the handle's own variable, copied into
// another variable, wrapped by a constructor (RAII), captured by a lambda,
// passed to a function we cannot see into, or to a function of this TU that
// releases or keeps its parameter. Passing a handle to the C core (including
// as a `void*` tag) does not end the obligation, except for the few C-core
// functions that take ownership.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_HANDLE_LIFETIME_H
#define GRPCLEAK_HANDLE_LIFETIME_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"
#include <functional>
#include <optional>

namespace grpcleak {

/// A handle that is not released on some path.
struct HandleLeak {
  enum class Exit {
    Return,        ///< leaves by the return statement `At`
    EndOfFunction, ///< falls off the end of the body
    Overwritten,   ///< the variable is assigned again at `At`
    NextIteration, ///< the acquire `At` runs again (loop) before a release
    NeverBound,    ///< created inline as the argument `At` of a C-core call
  };
  const clang::CallExpr *Acquire = nullptr;
  const CoreHandlePair *Pair = nullptr;
  /// The variable holding the handle; null for Exit::NeverBound.
  const clang::VarDecl *Var = nullptr;
  Exit How = Exit::EndOfFunction;
  const clang::Stmt *At = nullptr;
};

/// What a function of the TU does with one of its parameters.
enum class ParamEffect { None, Releases, Keeps, Unknown };

class HandleLifetimeAnalysis {
public:
  /// \p ReleaseFunctions, if not null, names user functions that release
  /// (or take ownership of) any handle passed to them.
  /// \p ExtraPairs come from the user's configuration.
  explicit HandleLifetimeAnalysis(clang::ASTContext &Ctx,
                                  const llvm::Regex *ReleaseFunctions = nullptr,
                                  llvm::ArrayRef<CoreHandlePair> ExtraPairs = {},
                                  unsigned SummaryDepth = 3)
      : Ctx(Ctx), ReleaseFunctions(ReleaseFunctions), ExtraPairs(ExtraPairs),
        SummaryDepth(SummaryDepth) {}

  /// Also counts as a release every call \p Release accepts; it returns the
  /// released object's expression in its second argument. For summaries of
  /// other protocols than the C core's (a client stream's Finish()).
  void setExtraRelease(
      std::function<bool(const clang::CallExpr &, const clang::Expr *&)> Release) {
    ExtraRelease = std::move(Release);
  }

  /// Analyses one acquiring call found in \p Flow's function.
  std::optional<HandleLeak> analyze(const clang::CallExpr &Acquire,
                                    const CoreHandlePair &Pair,
                                    const FunctionFlow &Flow);

  /// What \p FD does with parameter \p Index, looking into its body (and
  /// into the bodies it passes the parameter to, SummaryDepth levels deep).
  ParamEffect summarize(const clang::FunctionDecl &FD, unsigned Index);

  /// A release call made before a step it needs (GRPC_CORE_RELEASE_NEEDS):
  /// a completion queue destroyed before it was shut down or drained, a
  /// server destroyed before it was shut down. Only for local handles, on
  /// some path from their creation.
  struct OrderViolation {
    const ReleasePrerequisite *Needs = nullptr;
    const clang::VarDecl *Var = nullptr;
  };
  std::optional<OrderViolation> checkReleaseOrder(const clang::CallExpr &Release,
                                                  const FunctionFlow &Flow);

  /// True if \p Call releases a handle of any known kind (table, user pairs,
  /// ReleaseFunctions); the handle argument is returned in \p Handle.
  bool isAnyRelease(const clang::CallExpr &Call, const clang::Expr *&Handle) const;

  /// The same, with \p Depth levels of helpers left to look into.
  ParamEffect summarize(const clang::FunctionDecl &FD, unsigned Index,
                        unsigned Depth);

private:
  Verdict judge(const clang::Stmt &S, const clang::VarDecl &Var,
                const clang::CallExpr &Acquire, const CoreHandlePair &Pair);
  /// What passing the handle as argument \p Arg of \p Call does to it.
  Verdict judgeArgument(const clang::CallExpr &Call, unsigned Arg);

  clang::ASTContext &Ctx;
  const llvm::Regex *ReleaseFunctions;
  llvm::ArrayRef<CoreHandlePair> ExtraPairs;
  unsigned SummaryDepth;
  std::function<bool(const clang::CallExpr &, const clang::Expr *&)> ExtraRelease;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>, ParamEffect>
      Summaries;
};

} // namespace grpcleak

#endif // GRPCLEAK_HANDLE_LIFETIME_H
