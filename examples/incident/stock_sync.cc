// stock-sync, as it was when the incident happened: the flagged version.
// grpc-leak-tidy reports two findings in this file (see examples/README.md);
// examples/fixed/stock_sync.cc is the same program after the fix.
//
// stock-sync keeps a warehouse's stock levels. It serves Stock.Reserve
// (orders reserve items) and Stock.Upload (a peer's counts) on gRPC's
// callback API, and uploads its own counts to a peer every
// --upload-interval-ms. With --reserve ADDR it is a small client instead: it
// sends --calls Reserve calls to ADDR and reports how they ended.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "stock.grpc.pb.h"

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int) { g_stop_requested = 1; }

struct Options {
  int port = 50071;
  std::string peer;  // Upload target; this instance if empty.
  int run_seconds = 0;  // 0: run until SIGINT/SIGTERM.
  int upload_interval_ms = 1000;
  int upload_deadline_ms = 2000;
  // Client mode (--reserve ADDR).
  std::string reserve;
  std::string sku = "widget";
  int calls = 1;
  int threads = 1;
  int deadline_ms = 1000;
};

// This example only ever talks to the local machine.
bool IsLoopback(const std::string& address) {
  return address.rfind("127.0.0.1:", 0) == 0;
}

bool ParseInt(const char* text, int min, int max, int* out) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < min || value > max) return false;
  *out = static_cast<int>(value);
  return true;
}

bool ParseArgs(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << flag << "\n";
      return false;
    }
    const char* value = argv[++i];
    bool ok = true;
    if (std::strcmp(flag, "--port") == 0) {
      ok = ParseInt(value, 1, 65535, &opts->port);
    } else if (std::strcmp(flag, "--peer") == 0) {
      opts->peer = value;
      ok = IsLoopback(opts->peer);
    } else if (std::strcmp(flag, "--run-seconds") == 0) {
      ok = ParseInt(value, 0, 86400, &opts->run_seconds);
    } else if (std::strcmp(flag, "--upload-interval-ms") == 0) {
      ok = ParseInt(value, 10, 600000, &opts->upload_interval_ms);
    } else if (std::strcmp(flag, "--upload-deadline-ms") == 0) {
      ok = ParseInt(value, 10, 600000, &opts->upload_deadline_ms);
    } else if (std::strcmp(flag, "--reserve") == 0) {
      opts->reserve = value;
      ok = IsLoopback(opts->reserve);
    } else if (std::strcmp(flag, "--sku") == 0) {
      opts->sku = value;
    } else if (std::strcmp(flag, "--calls") == 0) {
      ok = ParseInt(value, 1, 1000000, &opts->calls);
    } else if (std::strcmp(flag, "--threads") == 0) {
      ok = ParseInt(value, 1, 64, &opts->threads);
    } else if (std::strcmp(flag, "--deadline-ms") == 0) {
      ok = ParseInt(value, 1, 600000, &opts->deadline_ms);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return false;
    }
    if (!ok) {
      std::cerr << "bad value for " << flag << ": " << value << "\n";
      return false;
    }
  }
  return true;
}

// Reads a peer's counts until the peer half-closes, then answers.
class CountSink final : public grpc::ServerReadReactor<stock::Count> {
 public:
  explicit CountSink(stock::UploadSummary* summary) : summary_(summary) {
    StartRead(&count_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // The peer half-closed (or the call was cancelled).
      summary_->set_counts(received_);
      Finish(grpc::Status::OK);
      return;
    }
    ++received_;
    StartRead(&count_);
  }

  void OnDone() override { delete this; }

 private:
  stock::UploadSummary* summary_;
  stock::Count count_;
  int64_t received_ = 0;
};

class StockServiceImpl final : public stock::Stock::CallbackService {
 public:
  StockServiceImpl() {
    levels_["widget"] = 1000000;
    levels_["gadget"] = 1000000;
  }

  grpc::ServerUnaryReactor* Reserve(grpc::CallbackServerContext* context,
                                    const stock::ReserveRequest* request,
                                    stock::ReserveReply* reply) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::lock_guard<std::mutex> lock(mu_);
    auto level = levels_.find(request->sku());
    if (level == levels_.end()) return reactor;  // Nothing to reserve.
    if (request->quantity() > level->second) {
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "not enough " + request->sku()));
      return reactor;
    }
    level->second -= request->quantity();
    reply->set_left(level->second);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerReadReactor<stock::Count>* Upload(
      grpc::CallbackServerContext* /*context*/,
      stock::UploadSummary* summary) override {
    return new CountSink(summary);
  }

  std::vector<stock::Count> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<stock::Count> counts;
    for (const auto& [sku, quantity] : levels_) {
      stock::Count count;
      count.set_sku(sku);
      count.set_quantity(quantity);
      counts.push_back(count);
    }
    return counts;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> levels_;
};

// Sends this instance's counts to the peer.
grpc::Status UploadCounts(stock::Stock::Stub& stub,
                          const std::vector<stock::Count>& counts,
                          std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  stock::UploadSummary summary;
  std::unique_ptr<grpc::ClientWriter<stock::Count>> writer =
      stub.Upload(&context, &summary);
  for (const stock::Count& count : counts) {
    if (!writer->Write(count)) break;
  }
  return writer->Finish();
}

// Uploads the counts every interval until stopped, and keeps score.
class Uploader {
 public:
  Uploader(std::shared_ptr<grpc::Channel> channel, StockServiceImpl* service,
           std::chrono::milliseconds interval, std::chrono::milliseconds deadline)
      : stub_(stock::Stock::NewStub(channel)),
        service_(service),
        interval_(interval),
        deadline_(deadline) {}

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      const auto start = std::chrono::steady_clock::now();
      grpc::Status status = UploadCounts(*stub_, service_->Snapshot(), deadline_);
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      lock.lock();
      ++by_code_[status.error_code()];
      total_ms_ += took.count();
      ++uploads_;
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }

  // "uploads: N, mean M ms; OK a, DEADLINE_EXCEEDED b, ..." (codes by number).
  std::string Report() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string text = "uploads: " + std::to_string(uploads_) + ", mean " +
                       std::to_string(uploads_ ? total_ms_ / uploads_ : 0) + " ms;";
    for (const auto& [code, n] : by_code_)
      text += " code " + std::to_string(code) + ": " + std::to_string(n);
    return text;
  }

 private:
  std::unique_ptr<stock::Stock::Stub> stub_;
  StockServiceImpl* service_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t uploads_ = 0;
  int64_t total_ms_ = 0;
  std::map<int, int> by_code_;
};

int Serve(const Options& opts) {
  const std::string listen = "127.0.0.1:" + std::to_string(opts.port);
  StockServiceImpl service;

  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "could not listen on " << listen << std::endl;
    return 1;
  }
  std::cout << "stock-sync listening on " << listen << std::endl;

  std::shared_ptr<grpc::Channel> peer = grpc::CreateChannel(
      opts.peer.empty() ? listen : opts.peer, grpc::InsecureChannelCredentials());
  Uploader uploader(peer, &service,
                    std::chrono::milliseconds(opts.upload_interval_ms),
                    std::chrono::milliseconds(opts.upload_deadline_ms));
  std::thread upload_thread([&uploader] { uploader.Run(); });

  // Stops on SIGINT/SIGTERM or when --run-seconds elapsed. The signal
  // handler only sets a flag; gRPC is never called from it.
  std::thread stopper([&server, &uploader, &opts] {
    const auto start = std::chrono::steady_clock::now();
    while (!g_stop_requested &&
           (opts.run_seconds == 0 ||
            std::chrono::steady_clock::now() - start <
                std::chrono::seconds(opts.run_seconds))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    uploader.Stop();
    std::cout << "stock-sync shutting down; " << uploader.Report() << std::endl;
    const auto shutdown_start = std::chrono::steady_clock::now();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    std::cout << "stock-sync: Shutdown returned after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - shutdown_start)
                     .count()
              << " ms" << std::endl;
  });

  server->Wait();
  stopper.join();
  upload_thread.join();
  return 0;
}

// Client mode: --calls Reserve calls from --threads threads, each with a
// --deadline-ms deadline; prints how many ended with each status code.
int RunReserveClient(const Options& opts) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(opts.reserve, grpc::InsecureChannelCredentials());
  std::unique_ptr<stock::Stock::Stub> stub = stock::Stock::NewStub(channel);
  std::atomic<int> next{0};
  std::mutex mu;
  std::map<int, int> by_code;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < opts.threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < opts.calls) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(opts.deadline_ms));
        stock::ReserveRequest request;
        request.set_sku(opts.sku);
        request.set_quantity(1);
        stock::ReserveReply reply;
        grpc::Status status = stub->Reserve(&context, request, &reply);
        std::lock_guard<std::mutex> lock(mu);
        ++by_code[status.error_code()];
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  std::cout << "reserve: " << opts.calls << " calls in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms;";
  for (const auto& [code, n] : by_code) std::cout << " code " << code << ": " << n;
  std::cout << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseArgs(argc, argv, &opts)) {
    std::cerr << "usage: " << argv[0]
              << " [--port N] [--peer 127.0.0.1:PORT] [--run-seconds N]"
                 " [--upload-interval-ms N] [--upload-deadline-ms N]\n"
                 "       "
              << argv[0]
              << " --reserve 127.0.0.1:PORT [--sku S] [--calls N] [--threads N]"
                 " [--deadline-ms N]\n";
    return 2;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  if (!opts.reserve.empty()) return RunReserveClient(opts);
  return Serve(opts);
}
