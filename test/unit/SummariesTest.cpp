//===- SummariesTest.cpp - Project facts: what a TU records, how it is read --===//
//
// factsOf on helpers of each kind (a channel factory, a deadline setter, a
// stream opener, a release, a drain, a request handler, and look-alikes that
// do none of it); the summary file's JSON round trip; the store: stale
// summaries ignored, a corrupt file reported once, a USR defined in two files
// taken from the one nearest the caller (unknown on a tie), a read-only store
// never writing, and parallel writers never
// leaving a half file.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"
#include "grpcleak/ProjectFacts.h"
#include "grpcleak/Summaries.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "gtest/gtest.h"
#include <atomic>
#include <thread>

using namespace clang;

namespace grpcleak {
namespace {

FunctionFacts factsNamed(ASTContext &Ctx, llvm::StringRef Name) {
  const FunctionDecl *FD = test::functionNamed(Ctx, Name);
  EXPECT_NE(FD, nullptr) << Name.str();
  return FD ? factsOf(*FD) : FunctionFacts();
}

TEST(ProjectFacts, WhatEachHelperDoes) {
  auto AST = test::parse(R"cpp(
#include <chrono>
#include <memory>
#include <string>
#include <grpc/grpc.h>
#include <grpc/support/alloc.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
std::unique_ptr<demo::Demo::Stub> MakeClient(const std::string &target) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  return demo::Demo::NewStub(channel);
}
std::shared_ptr<grpc::Channel> shared_channel;
std::unique_ptr<demo::Demo::Stub> CachedClient() {
  if (!shared_channel)
    shared_channel = grpc::CreateChannel("x", grpc::InsecureChannelCredentials());
  return demo::Demo::NewStub(shared_channel);
}
void WithDeadline(grpc::ClientContext *ctx, std::chrono::milliseconds ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + ms);
}
void SometimesDeadline(grpc::ClientContext *ctx, bool b) {
  if (b)
    ctx->set_deadline(std::chrono::system_clock::now());
}
void TagCall(grpc::ClientContext *ctx) { ctx->AddMetadata("k", "v"); }
std::unique_ptr<grpc::ClientReader<demo::Resp>>
OpenFeed(demo::Demo::Stub *stub, grpc::ClientContext *ctx, const demo::Req &req) {
  return stub->ServerStream(ctx, req);
}
void Close(grpc_channel *channel) { grpc_channel_destroy(channel); }
void Describe(grpc_channel *channel) { gpr_free(grpc_channel_get_target(channel)); }
grpc_channel *kept;
void Keep(grpc_channel *channel) { kept = channel; }
void StopQueue(grpc::CompletionQueue *cq) {
  cq->Shutdown();
  void *tag; bool ok;
  while (cq->Next(&tag, &ok)) {}
}
int Drain(grpc::ClientReader<demo::Resp> *feed) {
  demo::Resp r; int n = 0;
  while (feed->Read(&r)) ++n;
  return n;
}
bool Consume(std::unique_ptr<grpc::ClientReader<demo::Resp>> &feed) {
  return feed->Finish().ok();
}
bool Ask(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  demo::Req q; demo::Resp p;
  return stub->Unary(&ctx, q, &p).ok();
}
void Later(demo::Demo::Stub *stub) {
  auto ask = [stub] { grpc::ClientContext c; demo::Req q; demo::Resp p; stub->Unary(&c, q, &p); };
  (void)ask;
}
class Front final : public demo::Demo::Service {
public:
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override;
};
grpc::Status Front::Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) {
  return grpc::Status::OK;
}
)cpp");
  ASTContext &Ctx = AST->getASTContext();

  FunctionFacts Make = factsNamed(Ctx, "MakeClient");
  EXPECT_TRUE(Make.ReturnsNewChannel);
  EXPECT_FALSE(Make.Usr.empty());
  EXPECT_EQ(Make.Name, "MakeClient");
  EXPECT_FALSE(factsNamed(Ctx, "CachedClient").ReturnsNewChannel);

  EXPECT_EQ(factsNamed(Ctx, "WithDeadline").SetsDeadlineParams,
            (llvm::SmallVector<unsigned, 1>{0}));
  EXPECT_TRUE(factsNamed(Ctx, "SometimesDeadline").SetsDeadlineParams.empty());
  FunctionFacts Tag = factsNamed(Ctx, "TagCall");
  EXPECT_TRUE(Tag.SetsDeadlineParams.empty());
  EXPECT_TRUE(Tag.KeepsParams.empty());

  FunctionFacts Open = factsNamed(Ctx, "OpenFeed");
  ASSERT_EQ(Open.StartsRpcs.size(), 1u);
  EXPECT_EQ(Open.StartsRpcs[0].Param, 1u);
  EXPECT_TRUE(Open.StartsRpcs[0].Streaming);
  EXPECT_EQ(Open.StartsRpcs[0].Method, "ServerStream");

  EXPECT_EQ(factsNamed(Ctx, "Close").ReleasesParams,
            (llvm::SmallVector<unsigned, 1>{0}));
  FunctionFacts Describe = factsNamed(Ctx, "Describe");
  EXPECT_TRUE(Describe.ReleasesParams.empty());
  EXPECT_TRUE(Describe.KeepsParams.empty());
  EXPECT_EQ(factsNamed(Ctx, "Keep").KeepsParams,
            (llvm::SmallVector<unsigned, 1>{0}));

  FunctionFacts Stop = factsNamed(Ctx, "StopQueue");
  EXPECT_EQ(Stop.ShutsDownQueueParams, (llvm::SmallVector<unsigned, 1>{0}));
  EXPECT_EQ(Stop.DrainsQueueParams, (llvm::SmallVector<unsigned, 1>{0}));

  FunctionFacts Drain = factsNamed(Ctx, "Drain");
  EXPECT_TRUE(Drain.FinishesStreamParams.empty());
  EXPECT_TRUE(Drain.KeepsParams.empty());
  EXPECT_TRUE(Drain.Blocks); // a synchronous stream's Read
  EXPECT_EQ(factsNamed(Ctx, "Consume").FinishesStreamParams,
            (llvm::SmallVector<unsigned, 1>{0}));
  EXPECT_TRUE(factsNamed(Ctx, "Ask").Blocks);
  EXPECT_FALSE(factsNamed(Ctx, "Later").Blocks); // only in a lambda it makes
  EXPECT_FALSE(factsNamed(Ctx, "Close").Blocks);

  // The definition out of the class is the one a TU records.
  bool SawHandler = false;
  for (const FunctionFacts &F : summarizeTu(Ctx).Functions)
    if (F.Name == "Front::Unary")
      SawHandler = F.HandlesRequests;
  EXPECT_TRUE(SawHandler);
}

/// A scratch directory with a source file and a summaries directory.
struct Scratch {
  llvm::SmallString<128> Root;
  std::string Source, Dir;
  Scratch() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("grpc-leak-summaries", Root));
    llvm::SmallString<128> S(Root), D(Root);
    llvm::sys::path::append(S, "helpers.cc");
    llvm::sys::path::append(D, "summaries");
    Source = std::string(S);
    Dir = std::string(D);
    writeSource("void Helper(grpc::ClientContext *ctx) {}\n");
  }
  ~Scratch() { llvm::sys::fs::remove_directories(Root); }
  void writeSource(llvm::StringRef Text) {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Source, EC);
    OS << Text;
  }
  std::string readSource() {
    auto Buffer = llvm::MemoryBuffer::getFile(Source);
    return Buffer ? (*Buffer)->getBuffer().str() : "";
  }
  TuSummary summary(llvm::StringRef Usr, llvm::StringRef File = "") {
    TuSummary S;
    S.File = File.empty() ? Source : File.str();
    auto Buffer = llvm::MemoryBuffer::getFile(S.File);
    S.Hash = contentHash(Buffer ? (*Buffer)->getBuffer() : "");
    FunctionFacts F;
    F.Usr = Usr.str();
    F.Name = "Helper";
    F.File = S.File;
    F.Line = 1;
    F.SetsDeadlineParams.push_back(0);
    FunctionFacts::StreamStart Start;
    Start.Param = 0;
    Start.Method = "Feed";
    Start.Streaming = true;
    F.StartsRpcs.push_back(Start);
    F.Calls.push_back("c:@F@Other#");
    S.Functions.push_back(F);
    return S;
  }
};

TEST(Summaries, JsonRoundTrip) {
  Scratch S;
  TuSummary Original = S.summary("c:@F@Helper#");
  TuSummary Back;
  std::string Error;
  ASSERT_TRUE(fromJSON(toJSON(Original), Back, Error)) << Error;
  EXPECT_EQ(Back.File, Original.File);
  EXPECT_EQ(Back.Hash, Original.Hash);
  ASSERT_EQ(Back.Functions.size(), 1u);
  const FunctionFacts &F = Back.Functions[0];
  EXPECT_EQ(F.Usr, "c:@F@Helper#");
  EXPECT_EQ(F.SetsDeadlineParams, (llvm::SmallVector<unsigned, 1>{0}));
  ASSERT_EQ(F.StartsRpcs.size(), 1u);
  EXPECT_EQ(F.StartsRpcs[0].Method, "Feed");
  EXPECT_TRUE(F.StartsRpcs[0].Streaming);
  EXPECT_EQ(F.Calls, std::vector<std::string>{"c:@F@Other#"});

  llvm::json::Value Wrong = llvm::json::Object{{"version", 999}};
  EXPECT_FALSE(fromJSON(Wrong, Back, Error));
  EXPECT_FALSE(Error.empty());
}

TEST(Summaries, StaleCorruptAndAmbiguous) {
  Scratch S;
  SummaryStore Store(S.Dir);
  ASSERT_EQ(Store.write(S.summary("c:@F@Helper#")), "");
  EXPECT_NE(Store.lookup("c:@F@Helper#"), nullptr);
  EXPECT_EQ(Store.lookup("c:@F@Nobody#"), nullptr);

  // The defining file changes: its summary no longer holds.
  S.writeSource(S.readSource() + "// edited\n");
  EXPECT_EQ(Store.lookup("c:@F@Helper#"), nullptr);
  ASSERT_EQ(Store.write(S.summary("c:@F@Helper#")), "");
  Store.invalidate();
  EXPECT_NE(Store.lookup("c:@F@Helper#"), nullptr);

  // A corrupt file: one message, once; the good summaries still answer.
  {
    llvm::SmallString<128> Bad(S.Dir);
    llvm::sys::path::append(Bad, "0badbadbadbadbad.json");
    std::error_code EC;
    llvm::raw_fd_ostream OS(Bad, EC);
    OS << "{\"version\": 1, \"file\": ";
  }
  Store.invalidate();
  EXPECT_NE(Store.lookup("c:@F@Helper#"), nullptr);
  std::vector<std::string> Problems = Store.takeProblems();
  ASSERT_EQ(Problems.size(), 1u);
  EXPECT_NE(Problems[0].find("ignoring corrupt summary file"), std::string::npos);
  EXPECT_NE(Problems[0].find("0badbadbadbadbad.json"), std::string::npos);
  Store.invalidate();
  EXPECT_NE(Store.lookup("c:@F@Helper#"), nullptr);
  EXPECT_TRUE(Store.takeProblems().empty());

  // The same function defined in two files (two programs): ignored.
  llvm::SmallString<128> Other(S.Root);
  llvm::sys::path::append(Other, "other.cc");
  {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Other, EC);
    OS << "// other\n";
  }
  ASSERT_EQ(Store.write(S.summary("c:@F@Helper#", Other)), "");
  Store.invalidate();
  // From nowhere in particular (or equally near both): unknown.
  EXPECT_EQ(Store.lookup("c:@F@Helper#"), nullptr);
  EXPECT_EQ(Store.lookup("c:@F@Helper#", (S.Root + "/main.cc").str()), nullptr);
  // From a program's own directory: that program's definition.
  llvm::SmallString<128> Sub(S.Root);
  llvm::sys::path::append(Sub, "b");
  ASSERT_FALSE(llvm::sys::fs::create_directories(Sub));
  llvm::SmallString<128> Nested(Sub);
  llvm::sys::path::append(Nested, "helpers.cc");
  {
    std::error_code EC;
    llvm::raw_fd_ostream OS(Nested, EC);
    OS << "// b's helpers\n";
  }
  ASSERT_EQ(Store.write(S.summary("c:@F@Nested#", Nested)), "");
  ASSERT_EQ(Store.write(S.summary("c:@F@Nested#", Other)), "");
  Store.invalidate();
  auto Near = Store.lookup("c:@F@Nested#", (Sub + "/main.cc").str());
  ASSERT_NE(Near, nullptr);
  EXPECT_EQ(Near->File, Nested.str());
  // From the root, both are one directory away: unknown.
  EXPECT_EQ(Store.lookup("c:@F@Nested#", (S.Root + "/main.cc").str()), nullptr);
}

TEST(Summaries, ReadOnlyStoreNeverWrites) {
  Scratch S;
  SummaryStore Store(S.Dir);
  SummaryStore::setReadOnly(true);
  EXPECT_EQ(Store.write(S.summary("c:@F@Helper#")), "");
  SummaryStore::setReadOnly(false);
  EXPECT_FALSE(llvm::sys::fs::exists(S.Dir + "/" + SummaryStore::fileNameFor(S.Source)));
}

TEST(Summaries, ParallelWritersLeaveWholeFiles) {
  Scratch S;
  SummaryStore Store(S.Dir);
  ASSERT_EQ(Store.write(S.summary("c:@F@Helper#")), "");
  std::string Path = S.Dir + "/" + SummaryStore::fileNameFor(S.Source);
  std::atomic<bool> Stop{false};
  std::atomic<unsigned> Reads{0}, Broken{0};
  std::thread Reader([&] {
    while (!Stop) {
      auto Buffer = llvm::MemoryBuffer::getFile(Path);
      if (!Buffer)
        continue;
      ++Reads;
      llvm::Expected<llvm::json::Value> Json = llvm::json::parse((*Buffer)->getBuffer());
      TuSummary Parsed;
      std::string Error;
      if (!Json) {
        llvm::consumeError(Json.takeError());
        ++Broken;
      } else if (!fromJSON(*Json, Parsed, Error)) {
        ++Broken;
      }
    }
  });
  std::vector<std::thread> Writers;
  for (unsigned W = 0; W < 4; ++W)
    Writers.emplace_back([&, W] {
      for (unsigned I = 0; I < 50; ++I) {
        TuSummary Summary = S.summary("c:@F@Helper#");
        // Files of different sizes, so a torn write would show.
        for (unsigned K = 0; K < (W * 50 + I) % 7; ++K)
          Summary.Functions.push_back(Summary.Functions[0]);
        EXPECT_EQ(Store.write(Summary), "");
      }
    });
  for (std::thread &T : Writers)
    T.join();
  Stop = true;
  Reader.join();
  EXPECT_GT(Reads.load(), 0u);
  EXPECT_EQ(Broken.load(), 0u);
  // No temporary file is left behind.
  std::error_code EC;
  unsigned Files = 0;
  for (llvm::sys::fs::directory_iterator It(S.Dir, EC), End; !EC && It != End;
       It.increment(EC)) {
    ++Files;
    EXPECT_EQ(llvm::sys::path::extension(It->path()), ".json") << It->path();
  }
  EXPECT_EQ(Files, 1u);
}

} // namespace
} // namespace grpcleak
