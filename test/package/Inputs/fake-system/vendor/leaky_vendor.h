// A stand-in for a third-party header installed under a system include
// directory (package-code.test passes this directory with -isystem). It holds
// two known leaks, so that the test can show that --system-headers really
// makes grpc-leak-tidy report findings inside system headers: the empty
// result for gRPC's own headers is then a real result, not a filter effect.
#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

inline void VendorLeaksQueue() {
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  (void)cq;
}

inline void VendorChannelInLoop() {
  for (int i = 0; i < 3; ++i) {
    auto channel =
        grpc::CreateChannel("localhost:50051", grpc::InsecureChannelCredentials());
  }
}
