// CI recipes' input: a connectivity wait that never times out.
#include <grpc/grpc.h>
#include <grpc/support/time.h>

void WaitForChange(grpc_channel* channel, grpc_completion_queue* cq) {
  grpc_channel_watch_connectivity_state(channel, GRPC_CHANNEL_IDLE,
                                        gpr_inf_future(GPR_CLOCK_MONOTONIC), cq, nullptr);
}
