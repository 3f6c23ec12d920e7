//===- ObjectProtocol.h - gRPC C++ objects with a shutdown protocol -*- C++ -*-===//
//
// grpc::Server and grpc::CompletionQueue are ordinary C++ objects whose
// destructors do not end their work safely: a started Server must be shut
// down (~Server() otherwise shuts it down with no deadline), a queue that is
// polled must be shut down and then drained before it is destroyed. This
// file names the objects and the calls on them, and answers the two
// questions the checks ask about an object held in a variable or a member:
// is a call of a given kind made on it (anywhere in a function, or in any
// method of its class), and on which paths.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_OBJECT_PROTOCOL_H
#define GRPCLEAK_OBJECT_PROTOCOL_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace grpcleak {

/// grpc::Server, or a smart pointer to one.
bool isServerHolder(clang::QualType T);
/// grpc::CompletionQueue / grpc::ServerCompletionQueue, or a smart pointer
/// to one. \p ServerQueue tells which.
bool isCompletionQueueHolder(clang::QualType T, bool *ServerQueue = nullptr);

/// The variable or field a member call is made on: `q.Next()`, `q->Next()`
/// through a smart pointer, `q_->Shutdown()`, `this->q_.Next()`.
const clang::ValueDecl *objectOf(const clang::CXXMemberCallExpr &Call);

/// True if \p Call calls method \p Name of grpc::Server (or its
/// ServerInterface base) or of grpc::CompletionQueue, on an object.
bool isServerCall(const clang::CallExpr &Call, llvm::StringRef Name);
bool isQueueCall(const clang::CallExpr &Call, llvm::StringRef Name);

/// ServerBuilder::BuildAndStart().
bool isBuildAndStart(const clang::CallExpr &Call);

/// True if \p Pred holds for some statement of some method of \p Class (or
/// of a function of the TU a method hands the object to: callers check).
/// Sets \p Unseen when a user-written method has no body in this TU: it
/// might do anything.
bool anyMethodStatement(const clang::CXXRecordDecl &Class,
                        llvm::function_ref<bool(const clang::Stmt &)> Pred,
                        bool &Unseen);

} // namespace grpcleak

#endif // GRPCLEAK_OBJECT_PROTOCOL_H
