#include "fake_service.grpc.pb.h"
#include "handwritten.h"
void Use(grpc_channel_credentials *creds) {
  GeneratedHelper("a", creds);
  HandwrittenHelper("b", creds);
}
