//===- TuIndexTest.cpp - The TU index of call sites and subclasses --------===//
//
// One snippet per question, with functions named after the answer: the
// sites found for a function, the argument a site passes for a parameter,
// the subclasses of a class, the pointers a delete names.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/AstUtil.h"
#include "grpcleak/TuIndex.h"

#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

class ForgetIndex {
public:
  explicit ForgetIndex(ASTContext &Ctx) : Ctx(Ctx) {}
  ~ForgetIndex() {
    TuIndex::clear(Ctx);
    clearParentIndex(Ctx);
  }

private:
  ASTContext &Ctx;
};

const CXXRecordDecl *classNamed(ASTContext &Ctx, llvm::StringRef Name) {
  auto Found = match(cxxRecordDecl(hasName(Name), isDefinition()).bind("c"), Ctx);
  EXPECT_FALSE(Found.empty()) << Name.str();
  return Found.empty() ? nullptr : Found[0].getNodeAs<CXXRecordDecl>("c");
}

/// The names of the functions that contain the call sites of \p Fn.
std::vector<std::string> callersOf(ASTContext &Ctx, const FunctionDecl &Fn) {
  std::vector<std::string> Names;
  for (const Expr *Site : TuIndex::get(Ctx).callSitesOf(Fn)) {
    const FunctionDecl *Caller = enclosingCallable(*Site, Ctx);
    while (Caller && llvm::isa<CXXMethodDecl>(Caller) &&
           llvm::cast<CXXMethodDecl>(Caller)->getParent()->isLambda())
      Caller = llvm::dyn_cast_or_null<FunctionDecl>(
          llvm::cast<CXXMethodDecl>(Caller)->getParent()->getParentFunctionOrMethod());
    Names.push_back(Caller ? Caller->getNameAsString() : "?");
  }
  std::sort(Names.begin(), Names.end());
  return Names;
}

TEST(TuIndex, CallSitesThroughThreadsFunctionsAndVirtuals) {
  auto AST = test::parse(R"cpp(
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>
void Work(int queue) { (void)queue; }
struct Server {
  void Poll(int queue) { (void)queue; }
  void StartThreads() {
    std::thread a(&Server::Poll, this, 7);
    a.join();
    threads_.emplace_back(&Server::Poll, this, 8);
    auto f = std::async(std::launch::async, Work, 9);
  }
  std::vector<std::thread> threads_;
};
struct Source { virtual ~Source() = default; virtual int Get() = 0; };
struct Fresh : Source { int Get() override { return 1; } };
int UseVirtual(Source &s) { return s.Get(); }
int UseQualified(Fresh &f) { return f.Fresh::Get(); }
int UseFunction() {
  std::function<int(int)> make = [](int x) { return x; };
  return make(3);
}
struct Holder {
  Holder() : callback_([](int x) { return x + 1; }) {}
  int Run() { return callback_(4); }
  std::function<int(int)> callback_;
};
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetIndex Forget(Ctx);
  // Threads: the member function and the free function are run by the
  // launches, and the launch passes the argument after callable and object.
  const FunctionDecl *Poll = test::functionNamed(Ctx, "Server::Poll");
  ASSERT_NE(Poll, nullptr);
  auto Sites = TuIndex::get(Ctx).callSitesOf(*Poll);
  ASSERT_EQ(Sites.size(), 2u);
  for (const Expr *Site : Sites) {
    const Expr *Arg = TuIndex::argumentFor(*Site, *Poll, 0);
    ASSERT_NE(Arg, nullptr);
    const auto *Literal = llvm::dyn_cast<IntegerLiteral>(stripValue(Arg));
    ASSERT_NE(Literal, nullptr);
    EXPECT_TRUE(Literal->getValue() == 7 || Literal->getValue() == 8);
  }
  const FunctionDecl *Work = test::functionNamed(Ctx, "Work");
  ASSERT_NE(Work, nullptr);
  auto WorkSites = TuIndex::get(Ctx).callSitesOf(*Work);
  ASSERT_EQ(WorkSites.size(), 1u);
  const auto *Nine = llvm::dyn_cast_or_null<IntegerLiteral>(
      stripValue(TuIndex::argumentFor(*WorkSites[0], *Work, 0)));
  ASSERT_NE(Nine, nullptr);
  EXPECT_EQ(Nine->getValue(), 9u);

  // A virtual call reaches the override; a qualified call only the named one.
  const auto *FreshGet = llvm::cast_or_null<FunctionDecl>(
      test::functionNamed(Ctx, "Fresh::Get"));
  ASSERT_NE(FreshGet, nullptr);
  EXPECT_EQ(callersOf(Ctx, *FreshGet),
            (std::vector<std::string>{"UseQualified", "UseVirtual"}));

  // A std::function variable or member is a caller of the lambda it holds.
  auto Lambdas = match(lambdaExpr().bind("l"), Ctx);
  unsigned Checked = 0;
  for (const BoundNodes &N : Lambdas) {
    const auto *Lambda = N.getNodeAs<LambdaExpr>("l");
    std::vector<std::string> Callers = callersOf(Ctx, *Lambda->getCallOperator());
    const FunctionDecl *Owner = enclosingCallable(*Lambda, Ctx);
    if (Owner && Owner->getName() == "UseFunction") {
      EXPECT_EQ(Callers, std::vector<std::string>{"UseFunction"});
      ++Checked;
    }
  }
  EXPECT_EQ(Checked, 1u);
  const CXXRecordDecl *Holder = classNamed(Ctx, "Holder");
  ASSERT_NE(Holder, nullptr);
  bool MemberFound = false;
  for (const BoundNodes &N : Lambdas) {
    const auto *Lambda = N.getNodeAs<LambdaExpr>("l");
    for (const std::string &Caller : callersOf(Ctx, *Lambda->getCallOperator()))
      MemberFound |= Caller == "Run";
  }
  EXPECT_TRUE(MemberFound);
}

TEST(TuIndex, SubclassesAndDeletes) {
  auto AST = test::parse(R"cpp(
struct Base { virtual ~Base() = default; };
struct Middle : Base {};
struct Leaf : Middle {};
struct Other {};
template <typename T> struct Wrapper : T {};
Wrapper<Other> g_wrapped;
Base *g_deleted = new Leaf();
Base *g_kept = new Leaf();
void TearDown() { delete g_deleted; }
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  ForgetIndex Forget(Ctx);
  const TuIndex &Index = TuIndex::get(Ctx);
  auto Names = [](llvm::ArrayRef<const CXXRecordDecl *> Classes) {
    std::vector<std::string> Result;
    for (const CXXRecordDecl *C : Classes)
      Result.push_back(C->getNameAsString());
    std::sort(Result.begin(), Result.end());
    return Result;
  };
  EXPECT_EQ(Names(Index.subclassesOf(*classNamed(Ctx, "Base"))),
            (std::vector<std::string>{"Leaf", "Middle"}));
  EXPECT_EQ(Names(Index.subclassesOf(*classNamed(Ctx, "Leaf"))),
            std::vector<std::string>{});
  // A template instance deriving from its argument.
  EXPECT_EQ(Names(Index.subclassesOf(*classNamed(Ctx, "Other"))),
            std::vector<std::string>{"Wrapper"});
  auto Var = [&](llvm::StringRef Name) {
    auto Found = match(varDecl(hasName(Name)).bind("v"), Ctx);
    return Found.size() == 1 ? Found[0].getNodeAs<VarDecl>("v") : nullptr;
  };
  ASSERT_NE(Var("g_deleted"), nullptr);
  ASSERT_NE(Var("g_kept"), nullptr);
  EXPECT_TRUE(Index.isDeleted(*Var("g_deleted")));
  EXPECT_FALSE(Index.isDeleted(*Var("g_kept")));
}

} // namespace
} // namespace grpcleak
