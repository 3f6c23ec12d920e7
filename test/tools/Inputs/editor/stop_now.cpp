// Opened in grpc-leak-clangd by clangd-code-actions.test, with a .clang-tidy
// that turns grpc-leak-server-shutdown's CheckShutdownDeadline on: its
// fix-it note must reach the editor as a code action too.
#include <grpcpp/grpcpp.h>

void StopNow(grpc::Server &server) {
  server.Shutdown();
  server.Wait();
}
