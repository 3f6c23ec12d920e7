//===- Repetition.h - Clients made over and over ----------------*- C++ -*-===//
//
// The temporary-client checks ask whether a channel (or stub) is created,
// used and destroyed again and again: once per loop iteration, or once per
// request a server handles. Real code rarely writes the factory call in the
// loop body itself: the channel is made by a helper, a lambda or a client
// wrapper's constructor, called from the loop or the handler. So:
//
//  (A) Follow the created value (through local variables, stubs built on
//      it, helpers that return it, constructors that keep it in the new
//      object) to the function in which it dies. Precision first: any use
//      that might keep it (a member of a long-lived object, a static, a
//      container, an unknown function) ends the search, silently.
//  (B) Find what runs that function repeatedly: a loop (directly, or through
//      a chain of calls of this TU, a lambda invoked in a loop, a repeating
//      std algorithm), or a per-request entry point (a service method
//      override, a reactor reaction, an async CallData step, a function
//      called from a CompletionQueue::Next loop).
//
// Both searches are bounded by a call depth, and keep the path of call and
// construction sites to explain the finding.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_REPETITION_H
#define GRPCLEAK_REPETITION_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Regex.h"
#include "grpcleak/TuIndex.h"
#include <optional>
#include <vector>

namespace grpcleak {

/// The innermost loop that runs \p S once per iteration, in the same
/// function or lambda as \p S; null if there is none. The init statement of a
/// `for` and the range of a range-`for` run once and do not count.
const clang::Stmt *enclosingLoop(const clang::Stmt &S, clang::ASTContext &Ctx);

/// How a created value's life ends, seen from one scope (a loop body or a
/// function body).
enum class ValueFate {
  Dies,         ///< destroyed within the scope
  Escapes,      ///< may be kept beyond it
  Returned,     ///< handed to the caller (function scope only)
  KeptByObject, ///< stored in the object a constructor is building
};

/// What kind of repetition to look for.
enum class RepeatKind { Loop, Request };

struct RepetitionOptions {
  /// How many calls up (and helpers down) to look.
  unsigned CallDepth = 3;
  /// Request mode: reactor reactions (OnReadDone, OnDone, ...) handle
  /// requests; functions called from a CompletionQueue::Next loop too.
  bool TreatReactionsAsHandlers = true;
  bool TreatCqLoopCalleesAsHandlers = true;
  /// Request mode: extra entry points, by function name. May be null.
  const llvm::Regex *HandlerFunctions = nullptr;
};

/// A creation that runs repeatedly, with the path that explains it.
struct RepeatedCreation {
  RepeatKind Kind = RepeatKind::Loop;
  /// Loop mode: the loop (or the repeating algorithm call).
  const clang::Stmt *Loop = nullptr;
  /// Request mode: the function that handles each request.
  const clang::FunctionDecl *Handler = nullptr;
  /// The call and construction sites from the creation outwards.
  std::vector<const clang::Expr *> Hops;
};

class RepetitionAnalysis {
public:
  RepetitionAnalysis(clang::ASTContext &Ctx, RepetitionOptions Options)
      : Ctx(Ctx), Options(Options) {}

  /// The first (shortest) way in which \p Creation runs repeatedly and its
  /// value dies each time, or std::nullopt. In request mode, values that
  /// die within a loop iteration are left to loop mode.
  std::optional<RepeatedCreation> find(const clang::Expr &Creation,
                                       RepeatKind Kind);

  /// What happens to the value of \p E within \p Scope of \p Fn.
  ValueFate fate(const clang::Expr &E, const clang::Stmt &Scope,
                 const clang::FunctionDecl &Fn);

  /// What \p Fn does with the value passed as its parameter \p Index.
  ValueFate paramFate(const clang::FunctionDecl &Fn, unsigned Index);

  /// True if \p Fn handles one request each time it runs.
  bool isRequestEntry(const clang::FunctionDecl &Fn) const;

private:
  friend class ValueFollower;
  std::optional<RepeatedCreation>
  repeatingCaller(const clang::FunctionDecl &Fn, RepeatKind Kind,
                  std::vector<const clang::Expr *> Hops, unsigned Depth);

  clang::ASTContext &Ctx;
  RepetitionOptions Options;
  unsigned SummaryDepth = 0;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>, ValueFate>
      ParamFates;
};

} // namespace grpcleak

#endif // GRPCLEAK_REPETITION_H
