//===- ApiModelTest.cpp - The gRPC API model against the real headers ----===//

#include "TestSupport.h"
#include "grpcleak/ApiModel.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/DeclCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "gtest/gtest.h"

using namespace clang;
using namespace clang::ast_matchers;

namespace grpcleak {
namespace {

/// One TU with every C-core header the table draws on, parsed once.
ASTUnit &coreHeaders() {
  static std::unique_ptr<ASTUnit> AST = test::parse(R"cpp(
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
)cpp");
  return *AST;
}

const FunctionDecl *declaredFunction(llvm::StringRef Name) {
  ASTContext &Ctx = coreHeaders().getASTContext();
  auto Found = match(functionDecl(hasName(Name)).bind("f"), Ctx);
  return Found.empty() ? nullptr : Found[0].getNodeAs<FunctionDecl>("f");
}

// One test per row of the C-core table: both functions exist in the
// installed gRPC headers with the handle where the table says, and the model
// maps the acquire back to this row.
class CoreHandleRow : public ::testing::TestWithParam<size_t> {};

TEST_P(CoreHandleRow, MatchesTheInstalledHeaders) {
  const CoreHandlePair &Pair = coreHandlePairs()[GetParam()];
  SCOPED_TRACE(Pair.Acquire.str() + " -> " + Pair.Release.str());
  const FunctionDecl *Acquire = declaredFunction(Pair.Acquire);
  const FunctionDecl *Release = declaredFunction(Pair.Release);
  ASSERT_NE(Acquire, nullptr) << "acquire not declared by gRPC 1.51";
  ASSERT_NE(Release, nullptr) << "release not declared by gRPC 1.51";
  ASSERT_LT(Pair.ReleaseArg, Release->getNumParams());
  QualType ReleaseParam = Release->getParamDecl(Pair.ReleaseArg)->getType();
  auto Same = [](QualType A, QualType B) {
    return A.getCanonicalType().getUnqualifiedType() ==
           B.getCanonicalType().getUnqualifiedType();
  };
  if (Pair.AcquireArg < 0) {
    // Returned: a pointer, or a grpc_slice by value.
    QualType Handle = Acquire->getReturnType();
    EXPECT_TRUE(Handle->isPointerType() || Handle.getAsString() == "grpc_slice")
        << "acquire must return the handle";
    // gpr_free takes void*; every other release takes the acquire's type.
    if (Pair.Release != "gpr_free")
      EXPECT_TRUE(Same(ReleaseParam, Handle));
  } else {
    // Initialised through a pointer that the release takes too.
    ASSERT_LT(static_cast<unsigned>(Pair.AcquireArg), Acquire->getNumParams());
    QualType Handle = Acquire->getParamDecl(Pair.AcquireArg)->getType();
    EXPECT_TRUE(Handle->isPointerType());
    EXPECT_TRUE(Same(ReleaseParam, Handle));
  }
  EXPECT_EQ(findCoreAcquire(Acquire), &Pair);
  EXPECT_TRUE(isCoreApiFunction(Acquire));
  EXPECT_TRUE(isCoreApiFunction(Release));
}

INSTANTIATE_TEST_SUITE_P(
    GrpcApiTable, CoreHandleRow,
    ::testing::Range<size_t>(0, coreHandlePairs().size()),
    [](const ::testing::TestParamInfo<size_t> &Info) {
      return coreHandlePairs()[Info.param].Acquire.str();
    });

// The steps a release needs exist in the headers and take the same handle.
TEST(ApiModel, ReleasePrerequisitesMatchTheInstalledHeaders) {
  ASSERT_FALSE(releasePrerequisites().empty());
  for (const ReleasePrerequisite &Needs : releasePrerequisites()) {
    const FunctionDecl *Release = declaredFunction(Needs.Release);
    ASSERT_NE(Release, nullptr) << Needs.Release.str();
    llvm::SmallVector<llvm::StringRef, 2> Steps;
    Needs.Prerequisite.split(Steps, '|');
    for (llvm::StringRef Step : Steps) {
      const FunctionDecl *Prerequisite = declaredFunction(Step);
      ASSERT_NE(Prerequisite, nullptr) << Step.str();
      EXPECT_EQ(Prerequisite->getParamDecl(0)->getType().getCanonicalType(),
                Release->getParamDecl(0)->getType().getCanonicalType())
          << Step.str();
    }
  }
}

TEST(ApiModel, ParsesUserHandlePairs) {
  llvm::BumpPtrAllocator Alloc;
  llvm::StringSaver Saver(Alloc);
  std::string Error;
  auto Pairs = parseHandlePairs(
      "my_pool_get=my_pool_put; my_init@1 = my_fini@0 ;", Saver, Error);
  EXPECT_TRUE(Error.empty());
  ASSERT_EQ(Pairs.size(), 2u);
  EXPECT_EQ(Pairs[0].Acquire, "my_pool_get");
  EXPECT_EQ(Pairs[0].Release, "my_pool_put");
  EXPECT_EQ(Pairs[0].AcquireArg, -1);
  EXPECT_EQ(Pairs[1].Acquire, "my_init");
  EXPECT_EQ(Pairs[1].AcquireArg, 1);
  EXPECT_EQ(Pairs[1].ReleaseArg, 0u);
  for (const char *Bad : {"no_equals", "a=b@x", "1a=b", "a@=b", "a=b c"}) {
    Error.clear();
    EXPECT_TRUE(parseHandlePairs(Bad, Saver, Error).empty()) << Bad;
    EXPECT_FALSE(Error.empty()) << Bad;
  }
}

TEST(ApiModel, OnlyGlobalCoreFunctionsAreAcquires) {
  auto AST = test::parse(R"cpp(
#include <grpc/grpc.h>
namespace mine { grpc_channel *grpc_channel_create(const char *); }
void f() { mine::grpc_channel_create("x"); }
)cpp");
  auto Calls = test::callsTo(AST->getASTContext(), "grpc_channel_create");
  ASSERT_EQ(Calls.size(), 1u);
  EXPECT_EQ(findCoreAcquire(Calls[0]->getDirectCallee()), nullptr);
}

TEST(ApiModel, OwnershipTakers) {
  const FunctionDecl *Fetcher = declaredFunction("grpc_server_set_config_fetcher");
  ASSERT_NE(Fetcher, nullptr);
  EXPECT_TRUE(coreTakesOwnership(Fetcher, 1));
  EXPECT_FALSE(coreTakesOwnership(Fetcher, 0));
  EXPECT_FALSE(coreTakesOwnership(declaredFunction("grpc_channel_create"), 1));
}

TEST(ApiModel, QualifiedNames) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
namespace other { class ClientContext {}; }
grpc::ClientContext *a; other::ClientContext *b;
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto Record = [&](llvm::StringRef Name) {
    auto Found = match(cxxRecordDecl(hasName(Name), isDefinition()).bind("r"), Ctx);
    return Found.empty() ? nullptr : Found[0].getNodeAs<CXXRecordDecl>("r");
  };
  EXPECT_TRUE(hasQualifiedName(Record("::grpc::ClientContext"), "::grpc::ClientContext"));
  EXPECT_TRUE(hasQualifiedName(Record("::grpc::ClientContext"), "grpc::ClientContext"));
  EXPECT_FALSE(hasQualifiedName(Record("::other::ClientContext"), "::grpc::ClientContext"));
  EXPECT_FALSE(hasQualifiedName(Record("::grpc::ClientContext"), "::ClientContext"));
  EXPECT_FALSE(hasQualifiedName(Record("::grpc::ClientContext"), "::x::grpc::ClientContext"));
}

// The RPC shapes grpc_cpp_plugin 1.51 generates, recognised by type.
TEST(ApiModel, ClassifiesGeneratedRpcStarts) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/generic_stub.h>
#include "demo.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
struct R : grpc::ClientBidiReactor<demo::Req, demo::Resp> {};
void calls(demo::Demo::Stub &s, grpc::ClientContext *c, grpc::CompletionQueue *cq,
           grpc::health::v1::Health::Stub &h, grpc::GenericStub &g, R *r) {
  demo::Req q; demo::Resp p; grpc::health::v1::HealthCheckRequest hq;
  grpc::health::v1::HealthCheckResponse hp;
  s.Unary(c, q, &p);                      // sync unary
  s.ServerStream(c, q);                   // sync streams
  s.ClientStream(c, &p);
  s.Bidi(c);
  s.AsyncBidi(c, cq, nullptr);            // async streams
  s.PrepareAsyncServerStream(c, q, cq);
  s.AsyncUnary(c, q, cq);                 // async unary
  s.async()->Bidi(c, r);                  // callback stream
  s.async()->Unary(c, &q, &p, [](grpc::Status) {});  // callback unary
  h.Watch(c, hq);                         // gRPC's own health service
  h.Check(c, hq, &hp);
  g.PrepareCall(c, "/demo.Demo/Bidi", cq);  // generic
  c->set_deadline(std::chrono::system_clock::now());
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  struct Expect { const char *Method; bool Streaming; RpcApi Api; };
  const Expect Cases[] = {
      {"Unary", false, RpcApi::Sync},          {"ServerStream", true, RpcApi::Sync},
      {"ClientStream", true, RpcApi::Sync},     {"Bidi", true, RpcApi::Sync},
      {"AsyncBidi", true, RpcApi::Async},       {"PrepareAsyncServerStream", true, RpcApi::Async},
      {"AsyncUnary", false, RpcApi::Async},     {"Watch", true, RpcApi::Sync},
      {"Check", false, RpcApi::Sync},           {"PrepareCall", true, RpcApi::Async},
  };
  for (const Expect &E : Cases) {
    SCOPED_TRACE(E.Method);
    bool Seen = false;
    for (const CallExpr *Call : test::callsTo(Ctx, E.Method)) {
      const auto *MD = llvm::cast<CXXMethodDecl>(Call->getDirectCallee());
      // The callback API's methods live in the nested `async` class.
      if (MD->getParent()->getName() == "async")
        continue;
      std::optional<RpcStart> Start = classifyRpcStart(Call);
      ASSERT_TRUE(Start.has_value());
      EXPECT_EQ(Start->Streaming, E.Streaming);
      EXPECT_EQ(Start->Api, E.Api);
      Seen = true;
    }
    EXPECT_TRUE(Seen);
  }
  for (const char *Callback : {"Bidi", "Unary"})
    for (const CallExpr *Call : test::callsTo(Ctx, Callback)) {
      const auto *MD = llvm::cast<CXXMethodDecl>(Call->getDirectCallee());
      if (MD->getParent()->getName() != "async")
        continue;
      std::optional<RpcStart> Start = classifyRpcStart(Call);
      ASSERT_TRUE(Start.has_value()) << Callback;
      EXPECT_EQ(Start->Api, RpcApi::Callback);
      EXPECT_EQ(Start->Streaming, llvm::StringRef(Callback) == "Bidi");
    }
  auto Setters = test::callsTo(Ctx, "set_deadline");
  ASSERT_EQ(Setters.size(), 1u);
  EXPECT_FALSE(classifyRpcStart(Setters[0]).has_value());
  const Expr *Object = nullptr;
  EXPECT_TRUE(isDeadlineSetter(Setters[0], Object));
}

TEST(ApiModel, ChannelAndStubFactories) {
  auto AST = test::parse(R"cpp(
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
namespace mine { std::shared_ptr<grpc::Channel> CreateChannel(const char *); }
void f() {
  auto a = grpc::CreateChannel("x", grpc::InsecureChannelCredentials());
  auto b = mine::CreateChannel("x");
  auto s = demo::Demo::NewStub(a);
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();
  auto Creates = test::callsTo(Ctx, "CreateChannel");
  ASSERT_EQ(Creates.size(), 2u);
  int Factories = 0;
  for (const CallExpr *Call : Creates)
    Factories += isChannelFactory(Call->getDirectCallee());
  EXPECT_EQ(Factories, 1);
  auto Stubs = test::callsTo(Ctx, "NewStub");
  ASSERT_EQ(Stubs.size(), 1u);
  EXPECT_TRUE(isStubFactoryCall(Stubs[0]));
}

TEST(ApiModel, GeneratedFileNames) {
  EXPECT_TRUE(isGeneratedFileName("/x/demo.grpc.pb.h"));
  EXPECT_TRUE(isGeneratedFileName("demo.pb.cc"));
  EXPECT_FALSE(isGeneratedFileName("demo.h"));
}

} // namespace
} // namespace grpcleak
