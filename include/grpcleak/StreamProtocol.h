//===- StreamProtocol.h - A client stream's Finish and half-close -*- C++ -*-===//
//
// A client stream (sync_stream.h, async_stream.h) has a protocol of its own
// besides its deadline: Finish() must be called to receive the call's final
// status, exactly once, and on a stream the client writes to, after the
// client half-closed it (WritesDone() or WriteLast()), because Finish() on a
// ClientWriter or ClientReaderWriter sends no half-close itself: a server
// that reads until the client is done then never answers.
//
// This file finds, for a stream started in a function:
//   (a) a path out of the stream variable's scope on which Finish() is not
//       called and the stream does not escape;
//   (b) a path from the start to a Finish() on which it was not
//       half-closed;
// and, for a stream kept in a member, a Finish() in its class when nothing
// in the class half-closes it. Precision first, as everywhere: a stream
// handed to code that may finish or half-close it (returned, moved, stored,
// captured by a lambda, wrapped by an object, passed to a function we cannot
// see into or that finishes it, its context cancelled with TryCancel()) is
// assumed to be dealt with. Exception paths and paths that end the process
// are not judged.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_STREAM_PROTOCOL_H
#define GRPCLEAK_STREAM_PROTOCOL_H

#include "grpcleak/ApiModel.h"
#include "grpcleak/FunctionFlow.h"
#include "grpcleak/HandleLifetime.h"

#include "clang/AST/ASTContext.h"
#include <optional>

namespace grpcleak {

/// A client stream started by a stub call, and who holds it.
struct StartedStream {
  RpcStart Start;
  /// The local variable (a smart pointer, or a reference bound to the
  /// returned one) or the member that holds it.
  const clang::ValueDecl *Holder = nullptr;
  /// The variable or field of the ClientContext the RPC runs on, when the
  /// call names one (`&ctx`, `ctx.get()`, `&ctx_`); null otherwise.
  const clang::ValueDecl *Context = nullptr;
  /// The client writes to it (client streaming, bidi): it must be
  /// half-closed before Finish().
  bool Writes = false;
};

/// The stream \p Start (a streaming RPC start) returns and its holder, or
/// std::nullopt when the stream is not held by a named variable or member
/// of a stream holder type (returned, passed on, chained, wrapped).
std::optional<StartedStream> startedStream(const RpcStart &Start,
                                           clang::ASTContext &Ctx);

/// True if \p S calls \p Role (Finish, or a half-close) on the stream
/// held by \p Holder: `s->Finish()`, `s.get()->WritesDone()`, `(*s).Finish()`.
bool callsStreamRole(const clang::Stmt &S, const clang::ValueDecl &Holder,
                     StreamCallRole Role);

/// The ways a stream leaves without Finish() (a).
struct UnfinishedStream {
  enum class Exit {
    Return,        ///< a return statement `At` ends its scope
    LoopJump,      ///< a break or continue `At` leaves its scope
    ScopeEnd,      ///< it goes out of scope at the end of block `At`
    Replaced,      ///< `At` gives its variable a new stream, or resets it
    EndOfFunction, ///< falls off the end of the body (no scope end seen)
  };
  Exit How = Exit::EndOfFunction;
  const clang::Stmt *At = nullptr;
  FlowPath Path;
};

class StreamProtocolAnalysis {
public:
  /// \p SummaryDepth: how deep to look into the functions of the TU that
  /// receive the stream, and into the functions they pass it to.
  explicit StreamProtocolAnalysis(clang::ASTContext &Ctx,
                                  unsigned SummaryDepth = 3);

  /// (a) For a stream held by an automatic local variable: the shortest
  /// path from its start out of the variable's scope (or to a new stream
  /// replacing it) on which it is neither finished nor handed on. The
  /// branch on which the stream is tested for null is not followed.
  /// std::nullopt when every path finishes it or hands it on, or when the
  /// holder is not an automatic local.
  std::optional<UnfinishedStream> findUnfinishedPath(const StartedStream &Stream,
                                                     const FunctionFlow &Flow);

  /// (b) For a stream the client writes to, held by an automatic local: the
  /// shortest path from its start to a Finish() on it on which it was not
  /// half-closed (WritesDone, WriteLast), its context not cancelled, and
  /// the stream not handed on. The path's ViolatedAt is that Finish() call.
  std::optional<FlowPath> findFinishBeforeHalfClose(const StartedStream &Stream,
                                                    const FunctionFlow &Flow);

  /// (b) For a stream the client writes to, held by a member: a Finish() on
  /// it in some method of its class when no method of the class half-closes
  /// it, cancels its context (a member too) or hands it on, and every
  /// user-written method has a body in this TU. Null otherwise.
  const clang::CallExpr *memberFinishBeforeHalfClose(const StartedStream &Stream);

  /// Where one `WritesDone()` statement, inserted before it, half-closes the
  /// stream on every path to \p Finish and on no path that already did: the
  /// statement (in a block, not labelled, not from a macro) that evaluates
  /// \p Finish unconditionally, when \p Finish is the only Finish() on the
  /// stream in \p Flow's function, nothing there half-closes the stream or
  /// cancels its context, and the stream is not handed on anywhere there.
  /// Only for synchronous streams held by a local. Null otherwise.
  const clang::Stmt *halfCloseInsertionPoint(const StartedStream &Stream,
                                             const clang::CallExpr &Finish,
                                             const FunctionFlow &Flow);

private:
  /// What \p S does to the stream for obligation \p Role.
  Verdict judge(const clang::Stmt &S, const StartedStream &Stream,
                StreamCallRole Role);
  /// True if \p S hands the stream on to code that may do \p Role.
  bool handsOn(const clang::Stmt &S, const clang::ValueDecl &Holder,
               StreamCallRole Role);
  /// True if \p S cancels the stream's context.
  bool cancelsContext(const clang::Stmt &S, const StartedStream &Stream) const;

  clang::ASTContext &Ctx;
  /// Summaries of helpers: "finishes the stream passed to it" and "finishes
  /// or half-closes it".
  HandleLifetimeAnalysis Finishes;
  HandleLifetimeAnalysis Closes;
};

} // namespace grpcleak

#endif // GRPCLEAK_STREAM_PROTOCOL_H
