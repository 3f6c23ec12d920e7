//===- DeadlineAnalysis.h - Is a deadline set before the RPC starts? -*- C++ -*-===//
//
// For a stub call that starts an RPC, decides whether its ClientContext can
// reach the call without a deadline. What bounds a context, precision first:
//   - `ctx.set_deadline(...)` / `ctx->set_deadline(...)` (an explicitly
//     infinite deadline is grpc-leak-infinite-deadline's finding, not this);
//   - a function of the TU that sets the deadline of the context passed to it
//     (looked into, a few levels deep), or one matched by the user's regex;
//   - a function we cannot see into that receives the context (it may);
//   - a context built by ClientContext::FromServerContext /
//     FromCallbackServerContext (it inherits the incoming deadline), when
//     trusted and not built with disable_deadline_propagation();
//   - `TryCancel()` called on the context where it runs without the peer's
//     help, when that option is on: in a lambda (a timer, an alarm, another
//     thread), or, for a member, in a method other than the one that starts
//     the RPC and other than a reaction (a stop method, a destructor). A
//     cancel in the RPC's own function after it started, or in a reaction
//     (after the n-th message), runs only once the peer has answered: a
//     stalled peer never triggers it, so it bounds nothing.
// Local contexts are judged on the CFG: every path from the declaration to
// the call must set the deadline. Member contexts (call-data and reactor
// objects) are judged per class: some method of the class, or the function
// starting the RPC, must bound them; a class with methods defined elsewhere
// is assumed to. Context parameters are the caller's, unless the option
// says otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_DEADLINE_ANALYSIS_H
#define GRPCLEAK_DEADLINE_ANALYSIS_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/Summaries.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"
#include <optional>

namespace grpcleak {

struct DeadlineOptions {
  /// Contexts from FromServerContext/FromCallbackServerContext are bounded.
  bool TrustServerContextPropagation = true;
  /// A context cancelled by TryCancel() from code that runs without the
  /// peer (a lambda, a stop method, a destructor) is bounded.
  bool TreatTryCancelAsBounded = true;
  /// Contexts received as parameters are not judged.
  bool IgnoreContextParameters = true;
  /// Functions whose name matches are assumed to set a deadline on a context
  /// passed to them. Null: none.
  const llvm::Regex *DeadlineSetterFunctions = nullptr;
  /// How deep to look into functions of the TU that receive the context.
  unsigned SummaryDepth = 3;
};

/// An RPC started without a deadline on some path.
struct MissingDeadline {
  RpcStart Start;
  /// The context: a local or parameter (a grpc::ClientContext, a pointer or
  /// smart pointer to one), or a field of the class.
  const clang::ValueDecl *Context = nullptr;
  bool IsMember = false;
  /// A `set_deadline` on the context reachable after the call, if any.
  const clang::CallExpr *LateSetter = nullptr;
  /// A TryCancel() on the context that does not bound the call, because it
  /// runs only after the peer answered (in a reaction, or in the function
  /// that started the RPC), if any.
  const clang::CallExpr *PeerDependentCancel = nullptr;
};

class DeadlineAnalysis {
public:
  explicit DeadlineAnalysis(DeadlineOptions Options) : Options(Options) {}

  std::optional<MissingDeadline> analyze(const RpcStart &Start,
                                         const FunctionFlow &Flow);

  /// True if \p FD may set the deadline of the context passed as parameter
  /// \p Index (looking into its body, \p Depth levels of helpers deep).
  bool setsDeadline(const clang::FunctionDecl &FD, unsigned Index);
  bool setsDeadline(const clang::FunctionDecl &FD, unsigned Index,
                    unsigned Depth);

  /// True if \p FD gives the context it receives as parameter \p Index a
  /// deadline on every path through its body (a deadline helper).
  bool setsDeadlineOnEveryPath(const clang::FunctionDecl &FD, unsigned Index);

  /// An RPC a helper starts on a context it is given.
  struct HelperRpc {
    /// The start, when it is in this TU.
    const clang::CallExpr *Start = nullptr;
    /// Otherwise: the summary (from another TU) of the helper that starts
    /// it, and what it says of the start.
    std::shared_ptr<const FunctionFacts> Facts;
    std::string Method;
    bool Streaming = false;
  };

  /// The RPC that \p FD starts on the context it receives as parameter
  /// \p Index, on some path from its entry on which that context is not
  /// given a deadline first; also through the functions it hands the
  /// context to (those of this TU, SummaryDepth levels deep, and those
  /// another TU's summary describes). std::nullopt when there is none: the
  /// caller's context is then not started on by this call, or is bounded
  /// by it. (A helper `StartWatch(grpc::ClientContext& ctx)` starting a
  /// stream: the caller's context needs its deadline before the call.)
  std::optional<HelperRpc> startsOnParam(const clang::FunctionDecl &FD,
                                         unsigned Index);

  /// True if \p Body calls set_deadline on \p Context anywhere.
  static bool setsDeadlineAnywhere(const clang::Stmt *Body,
                                   const clang::ValueDecl &Context);

  /// The context the RPC \p Start (made in \p Fn) runs on, as this
  /// analysis identifies it: a local of \p Fn (a grpc::ClientContext or a
  /// smart pointer to one), a parameter (unless IgnoreContextParameters),
  /// or a field (\p IsMember). Null for a context it does not judge: a
  /// local pointer or reference to one made elsewhere, a captured variable,
  /// an element of a container.
  const clang::ValueDecl *contextOf(const RpcStart &Start,
                                    const clang::FunctionDecl &Fn,
                                    bool &IsMember) const {
    return contextDecl(Start, Fn, IsMember);
  }

private:
  /// The variable or field the RPC's context argument names, if judged
  /// here (\p Fn is the function starting the RPC).
  const clang::ValueDecl *contextDecl(const RpcStart &Start,
                                      const clang::FunctionDecl &Fn,
                                      bool &IsMember) const;
  Verdict judge(const clang::Stmt &S, const clang::VarDecl &Context);
  /// A statement that bounds \p Context: a setter, a cancel (option), a
  /// call handing it to a function that may set it.
  bool isBoundingStmt(const clang::Stmt &S, const clang::ValueDecl &Context);
  bool isBoundedByConstruction(const clang::VarDecl &Context) const;
  /// For a TryCancel() on the context of an RPC started in \p Starter: true
  /// if it runs without the peer's help, so bounds the call.
  bool cancelBounds(const clang::CallExpr &Cancel,
                    const clang::FunctionDecl &Starter) const;
  bool memberIsBounded(const clang::FieldDecl &Field,
                       const clang::FunctionDecl &Caller,
                       const clang::CallExpr *&PeerDependentCancel);

  std::optional<HelperRpc> startsOnParam(const clang::FunctionDecl &FD,
                                         unsigned Index, unsigned Depth);

  DeadlineOptions Options;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>, bool>
      Summaries;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>,
                 std::optional<HelperRpc>>
      Starts;
};

} // namespace grpcleak

#endif // GRPCLEAK_DEADLINE_ANALYSIS_H
