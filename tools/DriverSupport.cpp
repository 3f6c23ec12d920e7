//===- DriverSupport.cpp - What our drivers add to clang-tidy and clangd --===//

#include "DriverSupport.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include <cstring>

#define GRPCLEAK_STR2(X) #X
#define GRPCLEAK_STR(X) GRPCLEAK_STR2(X)

namespace grpcleak {

static bool hasBuiltinHeaders(llvm::StringRef Dir) {
  llvm::SmallString<256> Probe(Dir);
  llvm::sys::path::append(Probe, "include", "stddef.h");
  return llvm::sys::fs::exists(Probe);
}

std::string ourPrefix(const char *Argv0) {
  static int Anchor;
  std::string Exe = llvm::sys::fs::getMainExecutable(Argv0, &Anchor);
  if (Exe.empty())
    return "";
  return std::string(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(Exe)));
}

std::string findResourceDir(const char *Argv0) {
  if (std::optional<std::string> Env =
          llvm::sys::Process::GetEnv("GRPC_LEAK_RESOURCE_DIR"))
    if (hasBuiltinHeaders(*Env))
      return *Env;
  // Installed next to LLVM: <prefix>/bin/ours -> <prefix>/lib/clang/<major>.
  std::string Prefix = ourPrefix(Argv0);
  if (!Prefix.empty()) {
    llvm::SmallString<256> Dir(Prefix);
    llvm::sys::path::append(Dir, "lib", "clang",
                            GRPCLEAK_STR(GRPCLEAK_LLVM_VERSION_MAJOR));
    if (hasBuiltinHeaders(Dir))
      return std::string(Dir);
  }
  if (hasBuiltinHeaders(GRPCLEAK_RESOURCE_DIR))
    return GRPCLEAK_RESOURCE_DIR;
  return "";
}

std::vector<char *> withResourceDir(int Argc, char **Argv,
                                    const std::string &Flag,
                                    std::string &Storage) {
  std::vector<char *> Args(Argv, Argv + Argc);
  for (int I = 1; I < Argc; ++I)
    if (llvm::StringRef(Argv[I]).contains("resource-dir"))
      return Args; // the user chose one
  std::string Dir = findResourceDir(Argv[0]);
  if (Dir.empty())
    return Args;
  Storage = Flag + Dir;
  Args.insert(Args.begin() + 1, Storage.data());
  return Args;
}

} // namespace grpcleak
