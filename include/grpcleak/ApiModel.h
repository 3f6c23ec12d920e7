//===- ApiModel.h - What the gRPC API does, as the checks need it -*- C++ -*-===//
//
// Answers questions about calls and types in gRPC terms: does this call
// create a C-core handle, does it release one, does it start a streaming RPC,
// set a deadline, create a channel or a stub. Every answer is derived from
// the table in GrpcApi.def and from the shapes grpc_cpp_plugin 1.51 generates
// (recognised by type, never by a user's service or method name).
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_API_MODEL_H
#define GRPCLEAK_API_MODEL_H

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/StringSaver.h"
#include <optional>
#include <string>
#include <vector>

namespace grpcleak {

/// A C-core handle type and the call that ends its life.
struct CoreHandlePair {
  /// The resource in user words: "channel", "completion queue", ...
  llvm::StringRef Noun;
  /// The function that acquires an owned handle: it returns it (AcquireArg
  /// is -1) or initialises it through its pointer argument AcquireArg.
  llvm::StringRef Acquire;
  /// The function that releases it, and which of its arguments is the handle.
  llvm::StringRef Release;
  unsigned ReleaseArg;
  int AcquireArg = -1;
};

/// Every acquire/release pair of the table, in table order.
llvm::ArrayRef<CoreHandlePair> coreHandlePairs();

/// The pair whose acquire function \p FD is, if any: first the table, then
/// \p Extra (pairs from the user's configuration). Only free functions at
/// global scope (the C core's linkage) are recognised.
const CoreHandlePair *findCoreAcquire(const clang::FunctionDecl *FD,
                                      llvm::ArrayRef<CoreHandlePair> Extra = {});

/// A release that needs another call on the same handle first.
struct ReleasePrerequisite {
  llvm::StringRef Release;
  /// Any of these, '|'-separated, satisfies it.
  llvm::StringRef Prerequisite;
  /// The missing step, for diagnostics ("shut down", "drained").
  llvm::StringRef Step;
  /// If not empty: the rule holds only on paths through this call.
  llvm::StringRef Since;
};
llvm::ArrayRef<ReleasePrerequisite> releasePrerequisites();

/// Parses the AcquireReleasePairs option: `;`-separated items of the form
/// `acquire[@arg]=release[@arg]` (C function names; `@arg` for an
/// out-parameter acquire or the handle's position in the release). Returns
/// the pairs, or the first malformed item in \p Error. The pairs' names are
/// saved in \p Saver, which must outlive them.
std::vector<CoreHandlePair> parseHandlePairs(llvm::StringRef Text,
                                             llvm::StringSaver &Saver,
                                             std::string &Error);

/// True if \p Call releases a handle of \p Pair's kind; returns the handle
/// argument in \p Handle.
bool isCoreRelease(const clang::CallExpr *Call, const CoreHandlePair &Pair,
                   const clang::Expr *&Handle);

/// True if \p FD belongs to the gRPC C core API (`grpc_*` / `gpr_*` at
/// global scope). Such functions never keep a handle passed to them, except
/// the ones listed by coreTakesOwnership().
bool isCoreApiFunction(const clang::FunctionDecl *FD);

/// True if the C-core function \p FD takes ownership of argument \p Arg.
bool coreTakesOwnership(const clang::FunctionDecl *FD, unsigned Arg);

/// True if \p FD is one of the C++ channel factories (grpc::CreateChannel, ...).
bool isChannelFactory(const clang::FunctionDecl *FD);

/// True if \p E constructs or returns a generated stub (`Svc::NewStub(ch)`,
/// `Svc::Stub(ch)`, `grpc::TemplatedGenericStub<...>(ch)`), which keeps the
/// channel passed to it alive.
bool isStubFactoryCall(const clang::Expr *E);

/// True if \p T (after sugar and references) is ::grpc::ClientContext.
bool isClientContextType(clang::QualType T);

/// True if \p T is a C-core handle passed by pointer: `grpc_channel *`,
/// `grpc_metadata_array *`, ... (a struct named grpc_* or gpr_*).
bool isCoreHandleType(clang::QualType T);

/// True if \p T is a std::unique_ptr/std::shared_ptr of ::grpc::ClientContext.
bool isClientContextOwnerType(clang::QualType T);

/// True if \p Call calls method \p Name of one of \p Classes (qualified
/// names) on an object.
bool isMethodCall(const clang::CallExpr &Call, llvm::StringRef Name,
                  llvm::ArrayRef<llvm::StringRef> Classes);

/// True if \p Call calls the grpc::ClientContext method \p Name; the context
/// object expression is returned in \p Context.
bool isClientContextMethodCall(const clang::CallExpr *Call,
                               llvm::StringRef Name,
                               const clang::Expr *&Context);

/// True if \p Call is `ClientContext::set_deadline(...)`; the context object
/// expression is returned in \p Context.
bool isDeadlineSetter(const clang::CallExpr *Call, const clang::Expr *&Context);

/// True if \p Call is ClientContext::FromServerContext/FromCallbackServerContext.
bool isContextFromServer(const clang::CallExpr *Call);

/// How an RPC is started.
enum class RpcApi { Sync, Async, Callback };

/// A stub call that creates an RPC on a ClientContext.
///
/// The generated code creates the C-core call, and so fixes its deadline,
/// inside the stub method itself: for `PrepareAsyncX` and callback calls as
/// for the others, so a deadline must be set before this call, not merely
/// before StartCall().
struct RpcStart {
  const clang::CallExpr *Call = nullptr;
  /// The `ClientContext*` argument (argument 0 in every generated signature).
  const clang::Expr *Context = nullptr;
  /// The method, for diagnostics.
  const clang::FunctionDecl *Method = nullptr;
  RpcApi Api = RpcApi::Sync;
  bool Streaming = false;
};

/// Classifies \p Call as the start of an RPC, or returns std::nullopt.
/// Unary RPCs are classified too (Streaming = false); callers decide.
std::optional<RpcStart> classifyRpcStart(const clang::CallExpr *Call);

/// Which side of a call a callback-API reactor serves.
enum class ReactorSide { Server, Client };

/// A callback-API reactor base class (GRPC_REACTOR): an instance of one of
/// the streaming reactor templates, or a unary reactor class.
struct ReactorBase {
  const clang::CXXRecordDecl *Base = nullptr;
  ReactorSide Side = ReactorSide::Server;
  bool Streaming = false;
};

/// \p RD itself as a reactor base, if it is one.
std::optional<ReactorBase> asReactorBase(const clang::CXXRecordDecl &RD);

/// The reactor base \p Class is, or derives from (directly or not), if any.
std::optional<ReactorBase> reactorBaseOf(const clang::CXXRecordDecl &Class);

/// True if \p Method is a reaction (GRPC_REACTION: OnReadDone, OnDone, ...)
/// of a class derived from a reactor: code gRPC runs on its callback
/// threads when an operation of the RPC completes.
bool isReaction(const clang::CXXMethodDecl &Method);

/// True if \p Name is the name of a reaction (GRPC_REACTION), whatever its
/// class: for template patterns, whose reactor base is not known yet.
bool isReactionName(llvm::StringRef Name);

/// True if \p Fn is a callback service handler: a method taking a
/// `grpc::CallbackServerContext*` and returning a pointer to a server
/// reactor (what `WithCallbackMethod_X` declares and users override).
bool isCallbackHandler(const clang::FunctionDecl &Fn);

/// True if \p D is declared in namespace ::grpc (gRPC's C++ library).
bool isInGrpcNamespace(const clang::Decl &D);

/// True if \p FileName is code generated by protoc / grpc_cpp_plugin.
bool isGeneratedFileName(llvm::StringRef FileName);

//===--- Stream and reactor protocols (GrpcApi.def) -----------------------===//

/// What a call on a client stream does to its protocol
/// (GRPC_CLIENT_STREAM_CALL).
enum class StreamCallRole { Finish, HalfClose };

/// The role of \p Call if it calls one of gRPC's client stream methods of
/// GRPC_CLIENT_STREAM_CALL (Finish, WritesDone, WriteLast), on any object:
/// callers check which.
std::optional<StreamCallRole> clientStreamCallRole(const clang::CallExpr &Call);

/// True if \p Start starts a stream the client writes to
/// (GRPC_CLIENT_WRITING_STREAM: client streaming and bidi, sync and async),
/// which must be half-closed before Finish().
bool startsWritingStream(const RpcStart &Start);

/// What a call of a reactor method does to the reactor's protocol
/// (GRPC_REACTOR_CALL).
enum class ReactorCallRole { Finish, Start, Hold, Unhold };

/// The role of \p S if it calls a reactor method of GRPC_REACTOR_CALL: a
/// method of a GRPC_REACTOR base of that side, or, in a template, a call by
/// that name through `this` whose target is not known yet.
std::optional<ReactorCallRole> reactorCallRole(const clang::Stmt &S);

/// True if \p S calls a reactor method that starts the operation whose
/// completion \p Reaction reports (GRPC_REACTION_OPERATION: StartRead for
/// OnReadDone, ...), resolved or, in a template, by name through `this`.
bool startsReactionOperation(const clang::Stmt &S, llvm::StringRef Reaction);

/// True if \p Reaction is a reaction of GRPC_REACTION_OPERATION, which
/// takes `bool ok`.
bool isOperationReaction(llvm::StringRef Reaction);

/// True if \p Call hands out the library's unary reactor
/// (GRPC_DEFAULT_REACTOR: ServerContextBase::DefaultReactor()).
bool isDefaultReactorCall(const clang::CallExpr &Call);

/// The qualified names of the GRPC_REACTOR bases of side \p Side, for
/// matchers.
std::vector<std::string> reactorBaseNames(ReactorSide Side);

} // namespace grpcleak

#endif // GRPCLEAK_API_MODEL_H
