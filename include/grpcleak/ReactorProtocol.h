//===- ReactorProtocol.h - Callback-API reactors that never complete -*- C++ -*-===//
//
// A callback-API RPC completes only through its reactor's protocol
// (grpcpp/support/server_callback.h, client_callback.h): a server reactor
// must be finished (Finish or StartWriteAndFinish) on every RPC, even a
// cancelled one, or OnDone never runs, the call and the reactor stay, and
// Server::Shutdown() does not return; a client reactor's call starts only
// with StartCall(), and a hold keeps OnDone away until it is removed.
//
// Two kinds of question are answered here:
//   - on a path: is the library's DefaultReactor() returned by a callback
//     handler before Finish() was called on it (or it was handed on)?
//   - on a class: can anything finish (start, release a hold of) an object
//     of this reactor class? The class, its user-written bases and the
//     classes of the TU derived from it are read, and so is every use of
//     such objects elsewhere in the TU: a Finish() called on one, or one
//     handed to other code (passed to a function, stored, returned by a
//     factory), counts. Precision first: a method without a body in this
//     TU, or a hand-off, makes the answer "it may".
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_REACTOR_PROTOCOL_H
#define GRPCLEAK_REACTOR_PROTOCOL_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <vector>

namespace grpcleak {

/// A DefaultReactor() that a callback handler returns on some path before
/// Finish() was called on it.
struct UnfinishedDefaultReactor {
  /// The variable holding it; null when the call is returned directly.
  const clang::VarDecl *Reactor = nullptr;
  /// The return statement that hands it to gRPC unfinished.
  const clang::ReturnStmt *Return = nullptr;
  FlowPath Path;
};

/// For a DefaultReactor() call \p Call in \p Flow's function: the shortest
/// path to a `return` of the reactor on which Finish() was not called on it
/// and it was not handed on (captured by a lambda, passed to a function
/// other than gRPC's, stored). std::nullopt when every path finishes it or
/// hands it on, or when the reactor is held in any other way.
std::optional<UnfinishedDefaultReactor>
findUnfinishedDefaultReactor(const clang::CallExpr &Call, const FunctionFlow &Flow);

/// A reaction that returns on `!ok` while nothing finishes the RPC after it.
struct UnhandledFailure {
  /// The `return` of `if (!ok) return;`.
  const clang::ReturnStmt *Return = nullptr;
  /// The Finish() calls of the class that cannot follow this return (on the
  /// failure path of another reaction whose operation is not in flight, or
  /// after this `return` in the reaction itself).
  llvm::SmallVector<const clang::Stmt *, 2> Unreachable;
};

/// Facts about the reactor classes of one translation unit, built on first
/// use (one walk over the TU's user code).
class ReactorIndex {
public:
  explicit ReactorIndex(clang::ASTContext &Ctx) : Ctx(Ctx) {}

  /// True if an object of \p Class (a server or client reactor class) may
  /// have a reactor call of \p Role made on it: by a method of the class,
  /// of a user-written base or of a class of the TU derived from it (with
  /// a body in this TU: one without makes it "may"); by a call elsewhere in
  /// the TU on an object of such a class (or of its gRPC reactor base,
  /// unless that object is a DefaultReactor()); or by code the object is
  /// handed to. A gRPC base other than the reactor bases themselves
  /// (internal::FinishOnlyReactor) is trusted to finish.
  bool mayCall(const clang::CXXRecordDecl &Class, ReactorCallRole Role);

  /// The first call of \p Role found for objects of \p Class, as mayCall
  /// looks for it (a method's own call, or a call elsewhere on such an
  /// object); null if none.
  const clang::Stmt *findCall(const clang::CXXRecordDecl &Class,
                              ReactorCallRole Role);

  /// For a reaction \p Reaction taking `bool ok` (OnReadDone, OnWriteDone)
  /// of a server reactor class that has a Finish() somewhere: the direct
  /// shape `if (!ok) return;` (only statements before it that call no
  /// method of the reactor), when no Finish() can follow that return: none
  /// in OnCancel, a constructor, a public method, a lambda, or another
  /// reaction whose operation may still be in flight, and none made on
  /// objects of the class elsewhere, nor the object handed on.
  /// std::nullopt otherwise.
  std::optional<UnhandledFailure> findUnhandledFailure(const clang::CXXMethodDecl &Reaction);

  /// Every user-written class of the TU derived from a reactor base of
  /// side \p Side (template instances: once, as their template's pattern).
  std::vector<const clang::CXXRecordDecl *> reactorClasses(ReactorSide Side);

private:
  struct RoleCall {
    const clang::CXXRecordDecl *ObjectClass; ///< static class of the object
    ReactorCallRole Role;
    const clang::Stmt *Call;
    bool FromDefaultReactor; ///< the object is a DefaultReactor()
  };
  void build();
  /// \p Class, its user-written bases and the TU's classes derived from it;
  /// TrustedBase when a base comes from gRPC's library but is no reactor
  /// interface (internal::FinishOnlyReactor finishes in its constructor).
  llvm::SmallVector<const clang::CXXRecordDecl *, 4>
  family(const clang::CXXRecordDecl &Class, bool &TrustedBase);
  /// True if \p Object's class is in \p Family (or is a gRPC reactor base
  /// of it and the object is not a DefaultReactor()).
  bool concerns(const RoleCall &Call,
                llvm::ArrayRef<const clang::CXXRecordDecl *> Family) const;
  bool handedOff(llvm::ArrayRef<const clang::CXXRecordDecl *> Family) const;

  clang::ASTContext &Ctx;
  bool Built = false;
  /// Reactor classes (canonical declarations) defined in user code.
  std::vector<const clang::CXXRecordDecl *> Classes;
  std::vector<RoleCall> Calls;
  llvm::DenseSet<const clang::CXXRecordDecl *> HandedOff;
};

/// The class of the object passed as a client reactor argument \p Arg of a
/// callback stub call, when it is known: `this` (the enclosing class),
/// `new X(...)`, `&x` or `x` for an object of class X, a pointer whose
/// static type is a user-written reactor class. Null for a pointer to a
/// gRPC reactor base (any class may be behind it) or anything else.
const clang::CXXRecordDecl *clientReactorClass(const clang::Expr &Arg);

/// The argument of \p Start (a callback-API RPC start) that is the client
/// reactor, if any.
const clang::Expr *clientReactorArgument(const RpcStart &Start);

} // namespace grpcleak

#endif // GRPCLEAK_REACTOR_PROTOCOL_H
