//===- DeadlineAnalysis.h - Is a deadline set before the RPC starts? -*- C++ -*-===//
//
// For a stub call that starts an RPC on a local grpc::ClientContext, finds a
// path from the context's declaration to the call on which no deadline is
// set. What sets a deadline, precision first:
//   - `ctx.set_deadline(...)` / `ctx->set_deadline(...)`;
//   - a function of the TU that sets the deadline of the context passed to it
//     (looked into, a few levels deep), or one matched by the user's regex;
//   - a function we cannot see into that receives the context (it may);
//   - a context built by ClientContext::FromServerContext /
//     FromCallbackServerContext (it inherits the incoming deadline), when
//     trusted.
// Contexts that are parameters or members are not judged here: the caller or
// the owning class decides their deadline.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_DEADLINE_ANALYSIS_H
#define GRPCLEAK_DEADLINE_ANALYSIS_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"
#include <optional>

namespace grpcleak {

struct DeadlineOptions {
  /// Contexts from FromServerContext/FromCallbackServerContext are bounded.
  bool TrustServerContextPropagation = true;
  /// Functions whose name matches are assumed to set a deadline on a context
  /// passed to them. Null or empty: none.
  const llvm::Regex *DeadlineSetterFunctions = nullptr;
  /// How deep to look into functions of the TU that receive the context.
  unsigned SummaryDepth = 3;
};

/// An RPC started without a deadline on some path.
struct MissingDeadline {
  RpcStart Start;
  /// The local context (a grpc::ClientContext, or a smart pointer to one).
  const clang::VarDecl *Context = nullptr;
  /// A `set_deadline` on the context reachable after the call, if any.
  const clang::CallExpr *LateSetter = nullptr;
};

class DeadlineAnalysis {
public:
  explicit DeadlineAnalysis(DeadlineOptions Options) : Options(Options) {}

  std::optional<MissingDeadline> analyze(const RpcStart &Start,
                                         const FunctionFlow &Flow);

  /// True if \p FD may set the deadline of the context passed as parameter
  /// \p Index (looking into its body).
  bool setsDeadline(const clang::FunctionDecl &FD, unsigned Index);

  /// The same, with \p Depth levels of helpers left to look into.
  bool setsDeadline(const clang::FunctionDecl &FD, unsigned Index,
                    unsigned Depth);

  /// The local context variable the RPC uses, if this analysis judges it.
  const clang::VarDecl *localContext(const RpcStart &Start) const;

private:
  Verdict judge(const clang::Stmt &S, const clang::VarDecl &Context);
  bool isBoundedByConstruction(const clang::VarDecl &Context) const;

  DeadlineOptions Options;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>, bool>
      Summaries;
};

/// True if \p E denotes the context held in \p Context: `ctx`, `&ctx`,
/// `*ptr`, `ptr.get()`, `ptr->...` for a smart pointer `ptr`.
bool refersToContext(const clang::Expr *E, const clang::VarDecl *Context);

} // namespace grpcleak

#endif // GRPCLEAK_DEADLINE_ANALYSIS_H
