// A syntax error in the middle of one function; the function after it is
// complete and leaks a channel, and must still be reported.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

// Broken: the release is swallowed by a missing ')', and the parser then
// drops the rest of the statement.
void BrokenSyntax(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *broken = grpc_channel_create(target, creds, nullptr);
  int pending = (1 + ;
  grpc_channel_destroy(broken;
}

// Complete, and leaking.
void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}

// Complete, and correct.
void CompleteClean(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ok = grpc_channel_create(target, creds, nullptr);
  grpc_channel_destroy(ok);
}
