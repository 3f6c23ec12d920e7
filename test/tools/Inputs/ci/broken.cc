// CI recipes' input: does not compile.
#include <grpc/grpc.h>

void Broken() { grpc_channel* channel = grpc_channel_create(, nullptr, nullptr); }
