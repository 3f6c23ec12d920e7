// A stand-in for a generated header (mock, with a reason): real
// grpc_cpp_plugin output contains no leak to be silenced, so this file has
// a generated file's name and a leak, to prove that generated files are
// never reported on.
#pragma once
#include <grpc/grpc.h>
inline void GeneratedHelper(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
