// CI recipes' input: a completion queue destroyed before it was shut down.
#include <grpc/grpc.h>

void DrainOnce() {
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  grpc_completion_queue_destroy(cq);
}
