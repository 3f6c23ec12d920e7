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
//      A value kept in an object lives as long as the object: a wrapper
//      built in a constructor's member initialiser, or by a default member
//      initialiser (which runs in each constructor that does not initialise
//      that member itself), is followed to where that object is built. In
//      request mode, an object that lives for one request counts as dying
//      with it: a heap object that deletes itself (`delete this` in OnDone)
//      or that the function's own completion callback deletes.
//  (B) Find what runs that function repeatedly: a loop (directly, or through
//      a chain of calls of this TU, a lambda invoked in a loop, a repeating
//      std algorithm), or a per-request entry point (a service method
//      override, a reactor reaction, a method of an async "call data" class
//      that is the tag of a generated `RequestX(..., tag)`, a function called
//      from a CompletionQueue::Next loop). Calls through a std::function or a
//      virtual method count only if every function they may run makes a new
//      client on each call. Loops with a small constant trip count do not
//      repeat.
//
// Both searches are bounded by a call depth, and keep the path of call and
// construction sites to explain the finding.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_REPETITION_H
#define GRPCLEAK_REPETITION_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Regex.h"
#include "llvm/ADT/DenseSet.h"
#include "grpcleak/TuIndex.h"
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace grpcleak {

/// The innermost loop that runs \p S once per iteration, in the same
/// function or lambda as \p S; null if there is none. The init statement of a
/// `for` and the range of a range-`for` run once and do not count.
const clang::Stmt *enclosingLoop(const clang::Stmt &S, clang::ASTContext &Ctx);

/// The number of iterations of \p Loop if it is a counting `for` loop whose
/// bounds are constants (`for (int i = 0; i < 3; ++i)`) and whose body does
/// not change the counter; std::nullopt otherwise.
std::optional<uint64_t> constantTripCount(const clang::Stmt &Loop,
                                          const clang::ASTContext &Ctx);

/// The field whose default member initialiser contains \p E, if any.
const clang::FieldDecl *defaultInitialisedField(const clang::Expr &E,
                                                clang::ASTContext &Ctx);

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
  /// Loops whose constant trip count is below this do not repeat; the loop
  /// around them (or the function's callers) is looked at instead.
  unsigned MinLoopTripCount = 2;
  /// Request mode: reactor reactions (OnReadDone, OnDone, ...) handle
  /// requests; functions called from a CompletionQueue::Next loop too.
  bool TreatReactionsAsHandlers = true;
  bool TreatCqLoopCalleesAsHandlers = true;
  /// Request mode: extra entry points, by function name. May be null.
  const llvm::Regex *HandlerFunctions = nullptr;
  /// What makes a new client: the creations the caller looks for. Used to
  /// decide whether every function an indirect call may run makes one.
  /// Empty: the gRPC C++ channel factories.
  std::function<bool(const clang::Expr &)> IsCreation;
};

/// One step of the path from a creation to what repeats it: a call or
/// construction site, and the function it runs there. They differ for a
/// call through a std::function (the lambda it holds), a virtual call (an
/// override) and `std::make_unique<T>` (T's constructor).
struct Hop {
  const clang::Expr *Site = nullptr;
  const clang::FunctionDecl *Reached = nullptr;
};

/// A creation that runs repeatedly, with the path that explains it.
struct RepeatedCreation {
  RepeatKind Kind = RepeatKind::Loop;
  /// Loop mode: the loop (or the repeating algorithm call).
  const clang::Stmt *Loop = nullptr;
  /// Request mode: the function that handles each request.
  const clang::FunctionDecl *Handler = nullptr;
  /// The call and construction sites from the creation outwards.
  std::vector<Hop> Hops;
  /// Request mode: the value is kept by a heap object that lives for one
  /// request; this `delete` ends it. The object deletes itself (Class), or
  /// Holder points to it. It belongs after the first EndAfterHops hops.
  struct ObjectEnd {
    const clang::CXXDeleteExpr *Delete = nullptr;
    const clang::CXXRecordDecl *Class = nullptr;
    const clang::VarDecl *Holder = nullptr;
    size_t AfterHops = 0;
  } End;
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
  bool isRequestEntry(const clang::FunctionDecl &Fn);

  /// True if objects of \p Class (or of a base) are tags of async request
  /// calls: each one stands for a request being served (an async
  /// "CallData"), and its methods are request steps.
  bool isRequestStepClass(const clang::CXXRecordDecl &Class);

  /// The `delete this` that a method of \p Class (or of a base) runs, or
  /// null.
  const clang::CXXDeleteExpr *deletesItself(const clang::CXXRecordDecl &Class);

  /// True if each call of \p Fn makes a new client (a creation that dies in
  /// it or that it returns), directly or through the functions it calls.
  bool createsPerCall(const clang::FunctionDecl &Fn);

  /// The innermost loop around \p S that repeats it (see enclosingLoop),
  /// skipping loops with a constant trip count below MinLoopTripCount.
  const clang::Stmt *repeatingLoop(const clang::Stmt &S);

private:
  friend class ValueFollower;
  enum class PerCall { No, Dies, Returns };
  PerCall perCall(const clang::FunctionDecl &Fn, unsigned Depth);
  bool everyCalleeCreates(const clang::Expr &Site,
                          const clang::FunctionDecl &Reached);
  bool isPerRequestObject(const clang::CXXRecordDecl &Class);
  void collectRequestSteps();
  void resolveTag(const clang::Expr &Tag, unsigned Depth);
  std::optional<RepeatedCreation>
  repeatingCaller(const clang::FunctionDecl &Fn, RepeatKind Kind,
                  std::vector<Hop> Hops, unsigned Depth);

  clang::ASTContext &Ctx;
  RepetitionOptions Options;
  unsigned SummaryDepth = 0;
  /// Request mode, at function scope: objects that live for one request die
  /// with it (see ValueFollower).
  bool RequestObjects = false;
  llvm::DenseMap<std::pair<const clang::FunctionDecl *, unsigned>, ValueFate>
      ParamFates;
  llvm::DenseMap<const clang::FunctionDecl *, PerCall> PerCallCache;
  llvm::DenseMap<const clang::CXXRecordDecl *, const clang::CXXDeleteExpr *>
      SelfDeleting;
  /// What ended the object that keeps the value, when the value died with it.
  RepeatedCreation::ObjectEnd PendingEnd;
  bool StepsCollected = false;
  llvm::DenseSet<const clang::CXXRecordDecl *> StepClasses;
  llvm::DenseSet<const clang::FunctionDecl *> ArmingFunctions;
};

} // namespace grpcleak

#endif // GRPCLEAK_REPETITION_H
