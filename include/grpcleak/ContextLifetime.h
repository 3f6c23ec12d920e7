//===- ContextLifetime.h - Objects an RPC uses must outlive it -*- C++ -*-===//
//
// "ClientContext instances should not be reused across rpcs" and "must
// remain alive and valid for the lifetime of the rpc" (grpcpp/
// client_context.h). An async or callback RPC keeps using its context, and
// the objects whose address was passed to it (the response it writes, the
// status, a callback call's request, a client reactor), until it completes:
// until its tag comes out of the completion queue, or its completion
// callback or OnDone has run. Three ways to get that wrong, each answered
// here:
//
//  (a) A local (a context, a smart pointer owning one that nothing else
//      keeps, an object passed by address) given to an async or callback RPC
//      in a function that can leave the local's scope before the RPC
//      completes: a forward path search (FunctionFlow) from the call that
//      hands it over to the end of its scope, on which nothing waits for the
//      completion. Waiting: polling the call's completion queue (or handing
//      the queue to a function that may), waiting on a future, condition
//      variable, latch, notification or thread (GrpcApi.def,
//      GRPC_THREAD_BLOCKING), a test of a flag that guards such a wait, a
//      function of the TU that waits, a function we cannot see into, or one
//      the user names. Objects on the heap (a call object freed by the
//      completion) are not locals, and are not judged.
//  (b) One context given to two RPC starts: a forward path search from one
//      start to another start on the same context (DeadlineAnalysis decides
//      what "the same context" is), not passing through a new declaration or
//      assignment of it. A loop that comes round to the same start counts.
//  (c) A class whose async call or stream member (std::unique_ptr to what an
//      async RPC start returns) is declared before the ClientContext member
//      it was started on: members are destroyed in reverse order, so the
//      stream object (allocated in the call's arena) outlives the context
//      that frees the call.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_CONTEXT_LIFETIME_H
#define GRPCLEAK_CONTEXT_LIFETIME_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"
#include <optional>
#include <vector>

namespace grpcleak {

struct LifetimeOptions {
  /// Functions whose name matches wait for the completion of the RPCs
  /// started before them. Null: none.
  const llvm::Regex *WaitFunctions = nullptr;
  /// How many calls deep to look into functions of the TU that may wait.
  unsigned SummaryDepth = 2;
};

/// A local an RPC keeps using that can be destroyed before the RPC completes.
struct ShortLivedObject {
  enum class Role {
    Context, ///< the RPC's ClientContext (or the smart pointer owning it)
    Pointee, ///< an object whose address was passed to the RPC
    Reactor, ///< a client reactor whose RPC was started (StartCall)
  };
  Role What = Role::Context;
  const clang::VarDecl *Object = nullptr;
  /// The call that hands the object over: the RPC start, an operation on
  /// the call it started (Finish, Read), or the reactor's StartCall (or its
  /// construction, when its constructor starts the call).
  const clang::Expr *HandedAt = nullptr;
  /// The RPC, when known (not for a reactor, nor for an operation on a call
  /// started elsewhere).
  std::optional<RpcStart> Start;
  /// How the object's life ends first: by the return ExitReturn, by falling
  /// off the end of the function (both null), or at the end of its scope
  /// (ScopeEnd valid: the closing brace of the block that declares it).
  const clang::ReturnStmt *ExitReturn = nullptr;
  clang::SourceLocation ScopeEnd;
};

/// A context given to a second RPC start.
struct ContextReuse {
  /// The start that reuses the context.
  RpcStart Second;
  /// The earlier start; the same call as Second.Call when a loop comes
  /// round to it again.
  const clang::CallExpr *First = nullptr;
  const clang::ValueDecl *Context = nullptr;
  bool IsMember = false;
};

/// An async call or stream member declared before its context member.
struct MemberOrderViolation {
  const clang::FieldDecl *Stream = nullptr;
  const clang::FieldDecl *Context = nullptr;
  /// The RPC start whose result is stored in Stream, on Context.
  const clang::CallExpr *Start = nullptr;
};

class ContextLifetimeAnalysis {
public:
  ContextLifetimeAnalysis(clang::ASTContext &Ctx, LifetimeOptions Options)
      : Ctx(Ctx), Options(Options) {}

  /// (a) For an async or callback RPC start in \p Flow's function: the first
  /// local it uses (its context first) that can die before it completes.
  std::optional<ShortLivedObject> findShortLived(const RpcStart &Start,
                                                 const FunctionFlow &Flow);

  /// (a) For an operation \p Op of an async client call that writes
  /// through its pointer arguments when its tag comes (Finish, Read:
  /// GRPC_ASYNC_CALL_OUTPUT), wherever the call was started: the first
  /// local passed by address that can die before the tag is taken from a
  /// completion queue (any queue: the call's is not known here).
  std::optional<ShortLivedObject> findShortLivedOutput(const clang::CallExpr &Op,
                                                       const FunctionFlow &Flow);

  /// (a) For a local client reactor \p Reactor of \p Flow's function whose
  /// RPC is started there (StartCall on it, or a constructor that calls
  /// StartCall): whether it can die before its OnDone.
  std::optional<ShortLivedObject>
  findShortLivedReactor(const clang::VarDecl &Reactor, const FunctionFlow &Flow);

  /// (b) Another RPC start on the context of \p Start, reachable after it.
  std::optional<ContextReuse> findReuse(const RpcStart &Start,
                                        const FunctionFlow &Flow);

  /// (c) The async call or stream members of \p Class declared before the
  /// context member they were started on (by a method or constructor of the
  /// class), unless the destructor resets them first.
  std::vector<MemberOrderViolation>
  findMemberOrder(const clang::CXXRecordDecl &Class);

  /// The context the RPC \p Start runs on, when this analysis can follow
  /// it: a local or parameter of \p Fn, or a member of `this` (\p IsMember).
  const clang::ValueDecl *contextOf(const RpcStart &Start,
                                    const clang::FunctionDecl &Fn,
                                    bool &IsMember) const;

  /// True if \p S waits, so that an RPC started before it has completed
  /// when it returns (see the file comment). \p Queue: the completion queue
  /// of an async RPC, or null for a callback RPC (or an unknown queue), when
  /// polling any queue counts.
  bool waitsForCompletion(const clang::Stmt &S, const clang::ValueDecl *Queue);

  /// True if \p FD, a function of the TU, waits somewhere in its body (or
  /// in the functions it calls, SummaryDepth levels down).
  bool functionWaits(const clang::FunctionDecl &FD, unsigned Depth);

private:
  std::optional<ShortLivedObject>
  judgeObject(const clang::VarDecl &Object, const clang::Expr &HandedAt,
              const clang::ValueDecl *Queue, const FunctionFlow &Flow);

  clang::ASTContext &Ctx;
  LifetimeOptions Options;
  llvm::DenseMap<const clang::FunctionDecl *, bool> WaitSummaries;
};

} // namespace grpcleak

#endif // GRPCLEAK_CONTEXT_LIFETIME_H
