// Includes gRPC's own C++ headers (libgrpc++-dev 1.51, under /usr/include) so
// that package-code.test can run the checks over the code in them with
// --system-headers. Nothing else is in this file on purpose.
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/alarm.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
