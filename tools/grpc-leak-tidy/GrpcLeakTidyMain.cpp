//===- GrpcLeakTidyMain.cpp - clang-tidy with the grpc-leak checks built in ===//
//
// Exactly clang-tidy (every flag works), with the grpc-leak module linked in
// and Clang's resource directory found for the user.
//
//===----------------------------------------------------------------------===//

#include "DriverSupport.h"

#include "clang-tidy/tool/ClangTidyMain.h"

namespace clang::tidy {
// Defined by the module; referencing it keeps the module in the link.
extern volatile int GrpcLeakModuleAnchorSource;
} // namespace clang::tidy

int main(int Argc, char **Argv) {
  (void)clang::tidy::GrpcLeakModuleAnchorSource;
  std::string Storage;
  std::vector<char *> Args = grpcleak::withResourceDir(
      Argc, Argv, "--extra-arg-before=-resource-dir=", Storage);
  return clang::tidy::clangTidyMain(static_cast<int>(Args.size()),
                                    const_cast<const char **>(Args.data()));
}
