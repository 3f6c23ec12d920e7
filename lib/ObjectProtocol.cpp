//===- ObjectProtocol.cpp - gRPC C++ objects with a shutdown protocol -----===//

#include "grpcleak/ObjectProtocol.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclTemplate.h"

using namespace clang;

namespace grpcleak {
namespace {

/// The class a holder type names: T, or the T of a std smart pointer.
const CXXRecordDecl *heldClass(QualType T) {
  if (T.isNull())
    return nullptr;
  T = T.getNonReferenceType();
  if (T->isPointerType())
    T = T->getPointeeType();
  const auto *RD = T->getAsCXXRecordDecl();
  if (const auto *Spec = llvm::dyn_cast_or_null<ClassTemplateSpecializationDecl>(RD))
    if ((hasQualifiedName(Spec, "::std::unique_ptr") ||
         hasQualifiedName(Spec, "::std::shared_ptr")) &&
        Spec->getTemplateArgs().size() >= 1 &&
        Spec->getTemplateArgs()[0].getKind() == TemplateArgument::Type)
      return Spec->getTemplateArgs()[0].getAsType()->getAsCXXRecordDecl();
  return RD;
}


} // namespace

bool isServerHolder(QualType T) {
  const CXXRecordDecl *RD = heldClass(T);
  return RD && (hasQualifiedName(RD, "::grpc::Server") ||
                hasQualifiedName(RD, "::grpc::ServerInterface"));
}

bool isCompletionQueueHolder(QualType T, bool *ServerQueue) {
  const CXXRecordDecl *RD = heldClass(T);
  if (!RD)
    return false;
  bool IsServer = hasQualifiedName(RD, "::grpc::ServerCompletionQueue");
  if (ServerQueue)
    *ServerQueue = IsServer;
  return IsServer || hasQualifiedName(RD, "::grpc::CompletionQueue");
}

const ValueDecl *objectOf(const CXXMemberCallExpr &Call) {
  const Expr *Object = Call.getImplicitObjectArgument();
  if (!Object)
    return nullptr;
  Object = stripValue(Object);
  if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Object))
    if (Op->getOperator() == OO_Arrow && Op->getNumArgs() >= 1)
      Object = stripValue(Op->getArg(0));
  if (const auto *Ref = llvm::dyn_cast<DeclRefExpr>(Object))
    return Ref->getDecl();
  if (const auto *Member = llvm::dyn_cast<MemberExpr>(Object))
    return Member->getMemberDecl();
  return nullptr;
}

bool isServerCall(const CallExpr &Call, llvm::StringRef Name) {
  return isMethodCall(Call, Name, {"::grpc::Server", "::grpc::ServerInterface"});
}

bool isQueueCall(const CallExpr &Call, llvm::StringRef Name) {
  return isMethodCall(Call, Name, {"::grpc::CompletionQueue"});
}

bool isBuildAndStart(const CallExpr &Call) {
  return isMethodCall(Call, "BuildAndStart", {"::grpc::ServerBuilder"});
}

bool anyMethodStatement(const CXXRecordDecl &Class,
                        llvm::function_ref<bool(const Stmt &)> Pred,
                        bool &Unseen) {
  Unseen = false;
  if (!Class.hasDefinition())
    return Unseen = true, false;
  for (const CXXMethodDecl *Method : Class.getDefinition()->methods()) {
    const FunctionDecl *Def = nullptr;
    if (!Method->hasBody(Def)) {
      if (Method->isUserProvided() && !Method->isPureVirtual())
        Unseen = true;
      continue;
    }
    if (anyStatement(Def->getBody(), Pred))
      return true;
  }
  return false;
}


} // namespace grpcleak
