// CI recipes' input: a header with a leak, included by two translation units.
#pragma once
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

inline bool SharedProbe(const char* target) {
  grpc_channel_credentials* creds = grpc_insecure_credentials_create();
  grpc_channel* channel = grpc_channel_create(target, creds, nullptr);
  grpc_channel_credentials_release(creds);
  return channel != nullptr;
}
