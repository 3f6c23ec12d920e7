//===- TestSupport.cpp - Parsing snippets against the real gRPC headers --===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"

#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "clang/Tooling/Tooling.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak::test {

std::unique_ptr<ASTUnit> parse(llvm::StringRef Code) {
  std::vector<std::string> Args = {"-std=c++17", "-I" GRPCLEAK_STUB_DIR,
                                   "-resource-dir=" GRPCLEAK_RESOURCE_DIR,
                                   "-Wno-unused-variable"};
  std::unique_ptr<ASTUnit> AST =
      tooling::buildASTFromCodeWithArgs(Code, Args, "snippet.cpp");
  EXPECT_TRUE(AST != nullptr);
  if (AST)
    EXPECT_FALSE(AST->getDiagnostics().hasErrorOccurred())
        << "the test snippet does not compile";
  return AST;
}

std::vector<const VarDecl *> varsNamed(ASTContext &Ctx, llvm::StringRef Prefix) {
  std::vector<const VarDecl *> Vars;
  for (const BoundNodes &N :
       match(varDecl(isExpansionInMainFile()).bind("v"), Ctx)) {
    const auto *V = N.getNodeAs<VarDecl>("v");
    if (V->getIdentifier() && V->getName().starts_with(Prefix))
      Vars.push_back(V);
  }
  return Vars;
}

const CallExpr *initialisingCall(const VarDecl &Var) {
  if (Var.getInit())
    if (const auto *Call = llvm::dyn_cast<CallExpr>(stripValue(Var.getInit())))
      return Call;
  return nullptr;
}

std::vector<const CallExpr *> callsTo(ASTContext &Ctx, llvm::StringRef Name) {
  std::vector<const CallExpr *> Calls;
  for (const BoundNodes &N :
       match(callExpr(isExpansionInMainFile(),
                      callee(functionDecl(hasName(Name))))
                 .bind("c"),
             Ctx))
    Calls.push_back(N.getNodeAs<CallExpr>("c"));
  return Calls;
}

const FunctionDecl *functionNamed(ASTContext &Ctx, llvm::StringRef Name) {
  auto Found =
      match(functionDecl(hasName(Name), isDefinition()).bind("f"), Ctx);
  return Found.empty() ? nullptr : Found[0].getNodeAs<FunctionDecl>("f");
}

} // namespace grpcleak::test
