/* A C source with nothing to report. */
#include <grpc/grpc.h>

void Close(grpc_channel *channel) { grpc_channel_destroy(channel); }
