// CI reports' input: the same mistake twice in one file, on lines with the
// same text and with the same message: two Code Quality issues, two
// fingerprints.
#include <grpc/grpc.h>

void DrainOnce() {
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_completion_queue_destroy(cq);
}

void DrainAgain() {
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_completion_queue_destroy(cq);
}
