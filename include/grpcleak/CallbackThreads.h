//===- CallbackThreads.h - Code that runs on gRPC's callback threads -*- C++ -*-===//
//
// The callback API runs user code on a small pool of threads that gRPC owns:
// the reactions of client and server reactors (OnReadDone, OnDone, ...),
// callback service handlers (methods taking a grpc::CallbackServerContext*
// and returning a reactor), and the completion callbacks of callback calls
// (`stub->async()->M(ctx, req, resp, [](grpc::Status) {...})`, an alarm's
// callback). A thread of that pool that blocks (a synchronous RPC, a wait
// on a condition variable or a future, a sleep, a join) is taken from every
// other callback RPC of the process. This file answers two questions:
//
//  (1) Does a call block its thread (GrpcApi.def, GRPC_THREAD_BLOCKING, plus
//      synchronous RPC starts and the user's own list)? Its non-blocking
//      forms (a zero timeout, a deadline of now) do not.
//  (2) Does a statement run on a callback thread: in a reaction, a handler
//      or a completion callback, or in a function of the TU that one of them
//      calls (directly, through a lambda it calls, a constructor it runs),
//      at most a few calls away? The callers come from the TU's call-site
//      index (TuIndex), virtual dispatch included; work handed to another
//      executor (std::thread, std::async, a thread pool's post, any
//      std::function) is never followed, so it is never reported.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_CALLBACK_THREADS_H
#define GRPCLEAK_CALLBACK_THREADS_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>
#include <vector>

namespace grpcleak {

/// What a blocking call waits for (GRPC_THREAD_BLOCKING's Kind).
enum class BlockingKind {
  Signal, ///< an event another thread signals (condition, future, latch, ...)
  Sleep,  ///< a timer
  Join,   ///< another thread's end
  Poll,   ///< a completion queue's next event
  Rpc,    ///< the network: a synchronous RPC, stream operation, connectivity
  Server, ///< the server's own calls (Server::Wait, Server::Shutdown)
  User,   ///< one of the user's own blocking functions
  Project ///< a function of another file whose summary says it blocks
};

/// A call that blocks its thread.
struct BlockingCall {
  const clang::CallExpr *Call = nullptr;
  /// The function called, for diagnostics.
  const clang::FunctionDecl *Callee = nullptr;
  BlockingKind Kind = BlockingKind::Signal;
  /// A synchronous RPC start (the callee is then the stub's method).
  bool SyncRpc = false;
};

/// True if \p E is a wait bound that makes a blocking call return at once: a
/// zero duration, an integer 0, or a deadline of "now" (a clock's now(),
/// gpr_now, gpr_time_0, gpr_inf_past).
bool isNonBlockingTimeout(const clang::Expr *E, clang::ASTContext &Ctx);

/// Classifies \p Call as a blocking call, or returns std::nullopt: a table
/// entry (unless its timeout argument is non-blocking), a synchronous RPC
/// start, one of \p Extra: qualified names of free functions or methods
/// (`::ns::Wait`, `::ns::Queue::Pop`; a method also matches when called on an
/// object of a class derived from its class), or a function defined in
/// another file whose summary (Summaries.h) says it blocks.
std::optional<BlockingCall>
classifyBlockingCall(const clang::CallExpr &Call, clang::ASTContext &Ctx,
                     llvm::ArrayRef<std::string> Extra = {});

/// True if \p Call calls method \p Method on an object whose class is, or
/// derives from, \p Class (a qualified name; a class template's instances
/// count), or of a method declared by such a class.
bool isMethodCallOn(const clang::CallExpr &Call, llvm::StringRef Class,
                    llvm::StringRef Method);

/// The names (last component) of the functions GRPC_THREAD_BLOCKING lists:
/// a cheap filter for matchers, before classifyBlockingCall decides.
std::vector<llvm::StringRef> blockingCallNames();

/// Why code runs on a gRPC callback thread.
enum class CallbackEntryKind {
  Reaction,  ///< a reaction of a client or server reactor
  Handler,   ///< a callback service handler
  Completion ///< the completion callback of a callback call or an alarm
};

/// A function gRPC calls on its callback threads.
struct CallbackEntry {
  CallbackEntryKind Kind = CallbackEntryKind::Reaction;
  /// The reaction or handler; for a completion callback, the lambda's call
  /// operator.
  const clang::FunctionDecl *Function = nullptr;
  /// For a completion callback: the call it is passed to.
  const clang::CallExpr *TakenBy = nullptr;
};

/// If \p Lambda is the completion callback of a gRPC call (a callback RPC
/// start, GRPC_CALLBACK_TAKER), passed as the argument itself or through a
/// local variable, that call; else null.
const clang::CallExpr *completionCallTaking(const clang::LambdaExpr &Lambda,
                                            clang::ASTContext &Ctx);

struct CallbackThreadOptions {
  /// How many calls up from the statement to look for the entry.
  unsigned CallDepth = 3;
  /// Which entries count.
  bool Reactions = true;
  bool Handlers = true;
  bool Completions = true;
};

/// How a statement comes to run on a callback thread.
struct CallbackPath {
  CallbackEntry Entry;
  /// The call and construction sites from the statement outwards: the last
  /// one is in the entry. Empty when the statement is in the entry itself.
  std::vector<const clang::Expr *> Hops;
};

class CallbackThreadAnalysis {
public:
  CallbackThreadAnalysis(clang::ASTContext &Ctx, CallbackThreadOptions Options)
      : Ctx(Ctx), Options(Options) {}

  /// The entry \p Fn is (with \p Lambda, the lambda whose call operator
  /// \p Fn is, if any), if it is one.
  std::optional<CallbackEntry> entryOf(const clang::FunctionDecl &Fn,
                                       const clang::LambdaExpr *Lambda) const;

  /// The shortest way (fewest calls) in which \p S runs on a callback thread,
  /// or std::nullopt.
  std::optional<CallbackPath> find(const clang::Stmt &S) const;

private:
  clang::ASTContext &Ctx;
  CallbackThreadOptions Options;
};

} // namespace grpcleak

#endif // GRPCLEAK_CALLBACK_THREADS_H
