//===- ObjectProtocol.h - gRPC C++ objects with a shutdown protocol -*- C++ -*-===//
//
// grpc::Server and grpc::CompletionQueue are ordinary C++ objects whose
// destructors do not end their work safely: a started Server must be shut
// down (~Server() otherwise shuts it down with no deadline), a queue that is
// polled must be shut down and then drained before it is destroyed. This
// file names the objects and the calls on them, and answers the questions
// the checks ask about an object held in a variable or a member: who holds
// it, is a call of a given kind made on it (anywhere in a function, or in
// any method of its class), and on which paths it is not.
//
// Precision first, as everywhere: an object handed to code we cannot judge
// (returned, stored elsewhere, passed to a function, captured by a lambda),
// or a class with a method defined in another TU, is assumed to be dealt
// with. Exception paths are not judged.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_OBJECT_PROTOCOL_H
#define GRPCLEAK_OBJECT_PROTOCOL_H

#include "grpcleak/FunctionFlow.h"

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>

namespace grpcleak {

/// grpc::Server, or a smart pointer to one.
bool isServerHolder(clang::QualType T);
/// grpc::CompletionQueue / grpc::ServerCompletionQueue, or a smart pointer
/// to one. \p ServerQueue tells which.
bool isCompletionQueueHolder(clang::QualType T, bool *ServerQueue = nullptr);

/// The variable or field whose object \p E reaches, looking through what
/// only leads to it: a smart pointer's `->`, `*` and get(), `&` and `*`, an
/// element of a container (`qs_[i]`, `qs_.at(i)`, front(), an iterator, a
/// range-for variable over it), and a local pointer, reference or iterator
/// initialised so (`auto *cq = cq_.get();`). A container stands for all its
/// elements.
const clang::ValueDecl *holderOf(const clang::Expr *E);

/// The holder (holderOf) of the object a member call is made on:
/// `q.Next()`, `q->Next()`, `q_->Shutdown()`, `qs_[i]->Next()`.
const clang::ValueDecl *objectOf(const clang::CXXMemberCallExpr &Call);

/// True if \p Call calls method \p Name of grpc::Server (or its
/// ServerInterface base) or of grpc::CompletionQueue, on an object.
bool isServerCall(const clang::CallExpr &Call, llvm::StringRef Name);
bool isQueueCall(const clang::CallExpr &Call, llvm::StringRef Name);

/// ServerBuilder::BuildAndStart().
bool isBuildAndStart(const clang::CallExpr &Call);

/// True if \p Pred holds for some statement of some method of \p Class
/// (its own methods only: not its bases' nor its derived classes'). Sets
/// \p Unseen when a user-written method has no body in this TU: it might
/// do anything.
bool anyMethodStatement(const clang::CXXRecordDecl &Class,
                        llvm::function_ref<bool(const clang::Stmt &)> Pred,
                        bool &Unseen);

/// What a class-level question asks of one statement about a member: the
/// member is passed in, because a class template's code names the
/// template's own member, not the instance's.
using MemberStmtPred =
    llvm::function_ref<bool(const clang::Stmt &, const clang::FieldDecl &)>;

/// For a member \p Member: true if \p Pred holds for some statement of some
/// method of its class or of a class of this TU derived from it (a member of
/// an "action" or "call" base class is started, polled, bounded and shut
/// down by the derived classes' methods as often as by its own), or might:
/// a user-written method has no body in this TU, or \p Member is not in a
/// C++ class. A method of a class template instance that was not
/// instantiated is judged on the template's code.
bool anyMethodMay(const clang::FieldDecl &Member, MemberStmtPred Pred);

/// The variable or field that receives the object the call \p Result
/// returns: `auto s = f();`, `T s(f());`, `const auto &s = f();`,
/// `s = f();` (a local, member or global, through a smart pointer's
/// operator= or a plain assignment), looking through casts, temporaries
/// and constructors (a conversion to another smart pointer included). Null
/// when the value is returned, passed to a call, or used any other way.
const clang::ValueDecl *resultHolder(const clang::Expr &Result,
                                     clang::ASTContext &Ctx);

//===--- grpc::Server: started, then shut down ----------------------------===//

/// The variable or field that holds the server \p Start (a BuildAndStart()
/// call) returns: `auto s = b.BuildAndStart();`, `s = b.BuildAndStart();`,
/// `server_ = b.BuildAndStart();`, looking through casts, temporaries and
/// constructors. Null when the server is returned, passed to a call, or
/// stored anywhere else (the new owner's concern), and when the holder is
/// not a grpc::Server or a smart pointer to one.
const clang::ValueDecl *startedServerHolder(const clang::CallExpr &Start,
                                            clang::ASTContext &Ctx);

/// True if \p S ends the life of the server held by \p Server safely, or
/// hands it to someone who will: Shutdown(), Wait() (which returns only
/// after a shutdown), release(), a move, a store, a return, a call that
/// receives it, a lambda that captures it. A throw also counts: exception
/// paths are not judged. Using the server (`s->X()`, `*s`, `s == nullptr`,
/// `s = ...`) does not. Known gap: `return s;` of a smart pointer (an
/// implicit move, behind the move constructor) is not seen as a return;
/// `return std::move(s);` is.
bool releasesServer(const clang::Stmt &S, const clang::ValueDecl &Server);

/// If \p Cond tests \p Server for start-up failure (`!server`,
/// `server == nullptr`, `server != nullptr`, `server`, also as a side of
/// `||`, which then makes the whole condition a failure test): true when the
/// true branch is the failure branch, false when the false branch is
/// (`if (server)`). std::nullopt when \p Cond does not test the server (or
/// is null).
std::optional<bool> serverFailureBranchIsTrue(const clang::Expr *Cond,
                                              const clang::VarDecl &Server);

/// For a server member \p Server: true if some method of its class releases
/// it (releasesServer), or the class may (a user-written method has no body
/// in this TU, or \p Server is not a member of a C++ class). False means no
/// method of the class ever shuts the server down.
bool classMayShutDownServer(const clang::FieldDecl &Server);

/// For a server member \p Server that only a destructor of its class (or of
/// a subclass) shuts down: a `new` of that class in this TU whose object is
/// never deleted, so that destructor never runs; the object is held by a
/// raw pointer with static storage (a global, a static member or a static
/// local: the leaky singleton) that no `delete` of this TU names. Null
/// otherwise, and when some other method shuts the server down or may.
const clang::CXXNewExpr *leakedOwnerOf(const clang::FieldDecl &Server,
                                       const clang::CXXDestructorDecl *&ShutsDown);

/// For a server started by \p Start into the local variable \p Server: the
/// shortest path from the start to the end of the function on which nothing
/// releases it (releasesServer). The failure branch of a test of the server
/// (serverFailureBranchIsTrue) is not followed: start-up error handling is
/// not a path to judge. The path's ExitReturn is the return it leaves by,
/// null if it falls off the end of the body. std::nullopt when every path
/// releases the server, when \p Server is not an automatic local (a static
/// or global server lives until exit), or when \p Start is not in \p Flow.
std::optional<FlowPath> findUnshutServerPath(const FunctionFlow &Flow,
                                             const clang::CallExpr &Start,
                                             const clang::VarDecl &Server);

/// True if \p Call blocks on gRPC or shuts it down: Server::Shutdown/Wait,
/// CompletionQueue::Shutdown/Next/AsyncNext, grpc_shutdown and the C-core
/// shutdown and queue-polling functions, and starting an RPC.
bool isBlockingGrpcCall(const clang::CallExpr &Call);

/// The first blocking gRPC call (isBlockingGrpcCall) made by the signal
/// handler \p Handler, or by a function of the TU it calls directly, at most
/// \p MaxDepth calls down. Breadth first, so each function is looked into at
/// its smallest depth; functions without a body here, and unanalyzable ones,
/// are skipped. Null if there is none.
const clang::CallExpr *blockingCallInSignalHandler(const clang::FunctionDecl &Handler,
                                                   unsigned MaxDepth);

//===--- grpc::CompletionQueue: polled, shut down, drained ----------------===//

/// The queue \p Call is made on, when the code around it owns that queue: a
/// local variable or a member held by value or by smart pointer. Null for a
/// pointer or reference (someone else's queue), a parameter, a static, or
/// anything that is not a completion queue. \p ServerQueue tells whether it
/// is a grpc::ServerCompletionQueue.
const clang::ValueDecl *ownedQueueOf(const clang::CXXMemberCallExpr &Call,
                                     bool *ServerQueue = nullptr);

/// True if \p S is a call that shuts \p Queue down (`Queue.Shutdown()`), or
/// that receives the queue as an argument and so may: a function of the
/// user's, not gRPC's own API nor a generated stub or service (they only
/// post tags on it).
bool shutsDownOrHandsOnQueue(const clang::Stmt &S, const clang::ValueDecl &Queue);

/// True if the owner of \p Queue (ownedQueueOf) shuts it down or hands it
/// on somewhere (shutsDownOrHandsOnQueue), in any order: for a member, some
/// method of its class (or the class may: a method has no body in this TU);
/// for a local, the function that declares it, lambdas included. False means
/// nothing ever shuts the queue down, so a Next() loop on it cannot end.
bool queueMayBeShutDown(const clang::ValueDecl &Queue);

/// A Server::Shutdown() (of any server) reachable after the queue shutdown
/// \p QueueShutdown in \p Flow, or, in a destructor, made by a base class's
/// destructor (which runs after it) when no server was shut down before the
/// queue: the server would still post on a queue that is shut down. Null if
/// there is none.
const clang::CallExpr *serverShutdownAfter(const FunctionFlow &Flow,
                                           const clang::CallExpr &QueueShutdown);

//===--- Threads that poll a queue ----------------------------------------===//

/// A loop that polls a completion queue (Next() or AsyncNext() on it).
struct QueuePoll {
  const clang::ValueDecl *Queue = nullptr;
  const clang::CallExpr *Poll = nullptr;
  const clang::Stmt *Loop = nullptr;
  /// True if the loop can end before the queue is shut down and empty: its
  /// condition tests something else too (`while (running_ && ...)`,
  /// `while (!stop_) { AsyncNext(..., deadline) }`), or a break or return
  /// leaves it on another test (`if (!ok) break;`). False for loops that
  /// end only when Next() returns false or AsyncNext() SHUTDOWN, and for
  /// loops that never end.
  bool LeavesEarly = false;
  /// What ends it early: the condition, or the break or return.
  const clang::Stmt *EarlyExit = nullptr;
};

/// The innermost loop around \p S within \p Fn (not around a lambda
/// that contains \p S), or null.
const clang::Stmt *enclosingLoopIn(const clang::Stmt &S,
                                   const clang::FunctionDecl &Fn);

/// The polling loops over owned queues (ownedQueueOf) in \p Fn and in the
/// functions of this TU it calls, two levels down.
llvm::SmallVector<QueuePoll, 2> queuePolls(const clang::FunctionDecl &Fn);

/// The functions the threads held by \p Thread run (a std::thread member or
/// local, a smart pointer to one, a container of them), as far as this TU
/// shows: the lambdas and functions launched into it by the code that owns
/// it (its class and subclasses, or its function).
llvm::SmallVector<const clang::FunctionDecl *, 2>
threadFunctions(const clang::ValueDecl &Thread);

/// For a `t.join()` (or a join of each thread of a container): the holder
/// of the threads joined, or null when \p Call is not such a join.
const clang::ValueDecl *joinedThreads(const clang::CallExpr &Call);

/// True if \p S takes events from the queue \p Queue (a holder, or a
/// parameter of the function \p S is in): a Next() or AsyncNext() on it that
/// is not part of a polling loop that can end before the queue is drained,
/// or a call that hands it to a helper that may drain it (for a helper
/// defined in another file, what its summary says).
bool drainsQueue(const clang::Stmt &S, const clang::ValueDecl &Queue);

/// A join() that never returns: the joined thread polls \p Queue in a loop
/// that ends only after the queue is shut down, and \p Flow's function shuts
/// it down only after the join.
struct JoinBeforeShutdown {
  QueuePoll Poller;
  /// The queue's shutdown, reachable after the join.
  const clang::CallExpr *LaterShutdown = nullptr;
};
std::optional<JoinBeforeShutdown>
findJoinBeforeShutdown(const FunctionFlow &Flow, const clang::CallExpr &Join);

/// A queue shut down by \p Shutdown and not drained.
struct UndrainedQueue {
  /// From the shutdown to the end of the function.
  FlowPath Path;
  /// A join() on the path of a thread whose polling loop can end before the
  /// queue is drained, and that loop; null when there is none.
  const clang::CallExpr *Join = nullptr;
  std::optional<QueuePoll> EarlyPoller;
  /// True for a member shut down outside its class's destructor (a stop
  /// method) when no code of its class drains it.
  bool NeverDrained = false;
};

/// For a queue \p Queue shut down by \p Shutdown: the shortest path from
/// the shutdown to the end of the function on which it is not drained, when
/// it is destroyed there (a local; a member in the destructor) or nothing
/// else drains it (a member no code of its class drains). Drained: Next() or
/// AsyncNext() on it, a join() of its poller threads (unless their polling
/// loops can end before the queue is drained), a call that receives it (a
/// helper may drain it), a throw. std::nullopt when every path drains it,
/// when something else may, or when \p Shutdown is not in \p Flow.
std::optional<UndrainedQueue> findUndrainedQueue(const FunctionFlow &Flow,
                                                 const clang::CallExpr &Shutdown,
                                                 const clang::ValueDecl &Queue);

/// An `AsyncNext()` on a local queue with an operation pending on it, whose
/// TIMEOUT branch (`if (cq.AsyncNext(...) == TIMEOUT)`, also through a
/// status variable) leads to the end of the function without consuming the
/// operation's event (Next(), AsyncNext(), a helper given the queue): the
/// queue is destroyed with the event still to come, which aborts the
/// process when it arrives. The path from the test to the exit, or
/// std::nullopt.
std::optional<FlowPath> findTimeoutAbandonment(const FunctionFlow &Flow,
                                               const clang::CallExpr &AsyncNext);

} // namespace grpcleak

#endif // GRPCLEAK_OBJECT_PROTOCOL_H
