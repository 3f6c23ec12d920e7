//===- ObjectProtocol.cpp - gRPC C++ objects with a shutdown protocol -----===//

#include "grpcleak/ObjectProtocol.h"
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

bool isMethodOf(const CallExpr &Call, llvm::StringRef Name,
                llvm::ArrayRef<llvm::StringRef> Classes) {
  const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(&Call);
  const CXXMethodDecl *MD = Member ? Member->getMethodDecl() : nullptr;
  if (!MD || !MD->getIdentifier() || MD->getName() != Name)
    return false;
  for (llvm::StringRef Class : Classes)
    if (hasQualifiedName(MD->getParent(), Class))
      return true;
  return false;
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
  return isMethodOf(Call, Name, {"::grpc::Server", "::grpc::ServerInterface"});
}

bool isQueueCall(const CallExpr &Call, llvm::StringRef Name) {
  return isMethodOf(Call, Name, {"::grpc::CompletionQueue"});
}

bool isBuildAndStart(const CallExpr &Call) {
  return isMethodOf(Call, "BuildAndStart", {"::grpc::ServerBuilder"});
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

bool namesObject(const Expr *E, const ValueDecl *D) {
  if (!E || !D)
    return false;
  E = stripValue(E);
  if (isRefToDecl(E, D))
    return true;
  if (const auto *U = llvm::dyn_cast<UnaryOperator>(E))
    if (U->getOpcode() == UO_AddrOf || U->getOpcode() == UO_Deref)
      return namesObject(U->getSubExpr(), D);
  if (const auto *Call = llvm::dyn_cast<CallExpr>(E)) {
    if (const FunctionDecl *FD = Call->getDirectCallee())
      if (hasQualifiedName(FD, "::std::move") && Call->getNumArgs() == 1)
        return namesObject(Call->getArg(0), D);
    if (const auto *Op = llvm::dyn_cast<CXXOperatorCallExpr>(Call))
      if ((Op->getOperator() == OO_Arrow || Op->getOperator() == OO_Star) &&
          Op->getNumArgs() >= 1)
        return namesObject(Op->getArg(0), D);
    if (const auto *Member = llvm::dyn_cast<CXXMemberCallExpr>(Call))
      if (const CXXMethodDecl *MD = Member->getMethodDecl())
        if ((MD->getIdentifier() && MD->getName() == "get") ||
            llvm::isa<CXXConversionDecl>(MD)) // `!server`: operator bool
          return namesObject(Member->getImplicitObjectArgument(), D);
  }
  return false;
}

} // namespace grpcleak
