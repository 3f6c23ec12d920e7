//===- TuIndex.h - What the analyses look up across the TU ------*- C++ -*-===//
//
// Some questions need the whole translation unit, not one function: who
// calls this function (to find the loop or the request handler that repeats
// it), which classes derive from this one (a member declared in a base class
// is used, shut down or bounded by the derived classes' methods too), which
// methods override this one, which async request calls the TU makes. One
// walk over the user's code (system headers skipped) answers them all,
// built on first use and shared by all checks, per TU.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_TU_INDEX_H
#define GRPCLEAK_TU_INDEX_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include <vector>
#include <optional>

namespace grpcleak {

class TuIndex {
public:
  /// The index of \p Ctx's translation unit. Thread-local: clangd analyses
  /// several files at once.
  static const TuIndex &get(clang::ASTContext &Ctx);
  /// Forgets the index of \p Ctx (called at the end of each TU).
  static void clear(clang::ASTContext &Ctx);

  /// Every call and construction site of \p Fn (a lambda's call operator
  /// included): direct calls; `std::make_unique<T>`/`make_shared<T>` for
  /// T's constructors; std algorithms that run a lambda once per element;
  /// calls of a `std::function` variable or member that holds a lambda;
  /// thread launches (launchedFunction); and,
  /// for a method that overrides a virtual one, the virtual calls of the
  /// method it overrides (they may dispatch to it). For the last two, the
  /// site's direct callee is not \p Fn.
  llvm::SmallVector<const clang::Expr *, 4>
  callSitesOf(const clang::FunctionDecl &Fn) const;

  /// The expression \p Site passes for parameter \p Param of \p Fn (one of
  /// callSitesOf(Fn)), or null when it passes none that we can name.
  static const clang::Expr *argumentFor(const clang::Expr &Site,
                                        const clang::FunctionDecl &Fn,
                                        unsigned Param);

  /// The function a thread launch runs, and the position of the first
  /// argument it is given: `std::thread(f, args...)`, `std::jthread`,
  /// `std::async([policy,] f, args...)`, `threads.emplace_back(f, args...)`
  /// on a container of threads; for `&Class::Method`, the object comes
  /// first. Null if \p Site is not a launch or runs something unnamed.
  static const clang::FunctionDecl *launchedFunction(const clang::Expr &Site,
                                                     unsigned &FirstArg);

  /// True if \p Site is a std algorithm call that runs a lambda repeatedly.
  bool isRepeatingSite(const clang::Expr *Site) const {
    return Repeating.lookup(Site);
  }

  /// The function definitions of the user's code in this TU (system headers
  /// left out), in the order met.
  llvm::ArrayRef<const clang::FunctionDecl *> definedFunctions() const {
    return Definitions;
  }

  /// True if a `delete` in this TU deletes what \p Holder (a variable or a
  /// field) points to.
  bool isDeleted(const clang::ValueDecl &Holder) const {
    return Deleted.contains(&Holder);
  }

  /// The classes of this TU that derive from \p Class, directly or not.
  llvm::SmallVector<const clang::CXXRecordDecl *, 4>
  subclassesOf(const clang::CXXRecordDecl &Class) const;

  /// The methods of this TU that override \p Method, directly or not.
  llvm::SmallVector<const clang::CXXMethodDecl *, 4>
  overridersOf(const clang::CXXMethodDecl &Method) const;

  /// Every function a call at \p Site may run: its direct callee; for a
  /// virtual call, also each override of the named method in this TU (the
  /// named method itself only if it is not pure); for a call of a
  /// `std::function`, the lambdas it is given (and nothing else). Empty if
  /// unknown (a function pointer, a std::function given something else).
  llvm::SmallVector<const clang::FunctionDecl *, 4>
  possibleCallees(const clang::Expr &Site) const;

  /// A constructor's initialiser that the user did not write (a member or
  /// base class built by default, a member built by its default member
  /// initialiser): if \p Site is the construction it makes, that
  /// initialiser and its constructor. Such sites are in callSitesOf() too,
  /// but have no parents in the AST.
  struct ImplicitInit {
    const clang::CXXConstructorDecl *Ctor = nullptr;
    const clang::CXXCtorInitializer *Init = nullptr;
  };
  std::optional<ImplicitInit> implicitInitOf(const clang::Expr &Site) const {
    auto It = ImplicitInits.find(&Site);
    if (It == ImplicitInits.end())
      return std::nullopt;
    return It->second;
  }

  /// An async request call: a generated `RequestX(ctx, ..., cq, cq, tag)`
  /// (a method of a class derived from grpc::Service, taking a
  /// `grpc::ServerCompletionQueue*` and a trailing `void*` tag), called
  /// directly or through a member-function pointer, outside generated files.
  struct AsyncRequestCall {
    const clang::CallExpr *Call = nullptr;
    const clang::Expr *Tag = nullptr;
  };
  llvm::ArrayRef<AsyncRequestCall> asyncRequestCalls() const {
    return RequestCalls;
  }

private:
  friend class TuIndexer;
  using SiteList = llvm::SmallVector<const clang::Expr *, 2>;
  llvm::DenseMap<const clang::FunctionDecl *, SiteList> Sites;
  /// Virtual calls, keyed by the method named at the call.
  llvm::DenseMap<const clang::FunctionDecl *, SiteList> VirtualSites;
  llvm::DenseMap<const clang::Expr *, bool> Repeating;
  llvm::DenseSet<const clang::ValueDecl *> Deleted;
  std::vector<const clang::FunctionDecl *> Definitions;
  llvm::DenseMap<const clang::CXXRecordDecl *,
                 llvm::SmallVector<const clang::CXXRecordDecl *, 2>>
      DirectSubclasses;
  llvm::DenseMap<const clang::CXXMethodDecl *,
                 llvm::SmallVector<const clang::CXXMethodDecl *, 2>>
      Overriders;
  /// The lambdas a std::function call may run, by call site.
  llvm::DenseMap<const clang::Expr *,
                 llvm::SmallVector<const clang::FunctionDecl *, 1>>
      FunctionTargets;
  llvm::DenseMap<const clang::Expr *, ImplicitInit> ImplicitInits;
  llvm::SmallVector<AsyncRequestCall, 4> RequestCalls;
};

} // namespace grpcleak

#endif // GRPCLEAK_TU_INDEX_H
