// Compiles only with //lib:chan's include directory (<chan/config.h>), and
// has its leak only with //lib:chan's define and this target's copts: the
// aspect must pass all three.
#include <chan/config.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#if CHAN_LEAKY && PROBE_COPT
bool Probe() {
  grpc_channel_credentials* creds = grpc_insecure_credentials_create();
  grpc_channel* channel = grpc_channel_create(ChanTarget(), creds, nullptr);
  grpc_channel_credentials_release(creds);
  return channel != nullptr;
}
#endif
