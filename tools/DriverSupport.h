//===- DriverSupport.h - What our drivers add to clang-tidy and clangd -*- C++ -*-===//

#ifndef GRPCLEAK_TOOLS_DRIVER_SUPPORT_H
#define GRPCLEAK_TOOLS_DRIVER_SUPPORT_H

#include <string>
#include <vector>

namespace grpcleak {

/// The directory our executable's bin/ directory is in: the installation
/// prefix when installed, the build directory when not. Empty if unknown.
std::string ourPrefix(const char *Argv0);

/// Clang's resource directory (builtin headers such as <stddef.h>) for the
/// LLVM our binaries were built against. Our binaries do not live inside the
/// LLVM tree, so Clang cannot derive it from their own path. Tried in order:
/// $GRPC_LEAK_RESOURCE_DIR, <our bin>/../lib/clang/<major> (an install next
/// to LLVM), the directory recorded at build time. Empty if none exists.
std::string findResourceDir(const char *Argv0);

/// \p Argv with \p Flag + the resource directory inserted after argv[0],
/// unless the user already passes a resource directory somewhere.
std::vector<char *> withResourceDir(int Argc, char **Argv,
                                    const std::string &Flag,
                                    std::string &Storage);

} // namespace grpcleak

#endif // GRPCLEAK_TOOLS_DRIVER_SUPPORT_H
