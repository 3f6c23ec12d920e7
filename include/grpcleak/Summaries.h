//===- Summaries.h - Facts about functions, across translation units -*- C++ -*-===//
//
// Each check follows helpers into their bodies, but only inside one
// translation unit. Real services keep their client factories, release and
// shutdown helpers, deadline helpers and request steps in files of their
// own. So, like go/analysis's per-package "facts" (and unlike the static
// analyzer's cross-TU mode, which re-parses other files), analysing a TU
// also records compact facts about the functions it defines with external
// linkage, keyed by USR, in one small JSON file per TU in a summaries
// directory; analysing another TU looks a call up there when its callee has
// no body here.
//
// A summary is trusted only while the file that produced it is unchanged
// (its content hash is recorded and checked); a stale, corrupt or unreadable
// summary is ignored (a corrupt or unreadable one with one message). Files
// are written whole, under a temporary name renamed into place, so parallel
// writers never leave a half file. The store is read lazily and cached per
// process (clangd keeps it), re-read when the directory's files change.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_SUMMARIES_H
#define GRPCLEAK_SUMMARIES_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace grpcleak {

/// What one function defined in some TU does, for its callers in others.
struct FunctionFacts {
  std::string Usr;
  /// Qualified name and definition place, for notes.
  std::string Name;
  std::string File;
  unsigned Line = 0;

  /// Returns a channel (or an object holding one: a stub, a client wrapper)
  /// created anew on each call.
  bool ReturnsNewChannel = false;
  /// Runs once per request a server handles (a service method, a reaction,
  /// an async request step).
  bool HandlesRequests = false;
  /// May block the calling thread (a synchronous RPC, a wait, a sleep, a
  /// join).
  bool Blocks = false;

  /// Parameters (by position) it releases (a C-core handle), shuts down or
  /// drains (a completion queue), gives a deadline on every path (a
  /// grpc::ClientContext), or finishes (a client stream).
  llvm::SmallVector<unsigned, 1> ReleasesParams;
  llvm::SmallVector<unsigned, 1> ShutsDownQueueParams;
  llvm::SmallVector<unsigned, 1> DrainsQueueParams;
  llvm::SmallVector<unsigned, 1> SetsDeadlineParams;
  llvm::SmallVector<unsigned, 1> FinishesStreamParams;
  /// Parameters whose object it may keep or hand on to code that may do
  /// anything with it (stores it, passes it to a function it cannot see).
  llvm::SmallVector<unsigned, 1> KeepsParams;

  /// An RPC it starts on the context it receives as parameter Param, on
  /// some path without giving that context a deadline first.
  struct StreamStart {
    unsigned Param = 0;
    std::string Method;
    bool Streaming = false;
  };
  llvm::SmallVector<StreamStart, 1> StartsRpcs;

  /// The USRs of the functions without a body in its TU that it calls: what
  /// scripts/grpc-leak-ci.py orders TUs by (callees first).
  std::vector<std::string> Calls;

  static bool has(llvm::ArrayRef<unsigned> Params, unsigned Index) {
    return llvm::is_contained(Params, Index);
  }
  const StreamStart *startsRpcOn(unsigned Index) const {
    for (const StreamStart &Start : StartsRpcs)
      if (Start.Param == Index)
        return &Start;
    return nullptr;
  }
};

/// One TU's summary file.
struct TuSummary {
  /// The TU's main file, absolute, and the hash of its contents when the
  /// summary was made.
  std::string File;
  std::string Hash;
  std::vector<FunctionFacts> Functions;
};

llvm::json::Value toJSON(const TuSummary &Summary);
/// Parses a summary file's JSON; false (with \p Error) if it is malformed.
bool fromJSON(const llvm::json::Value &Value, TuSummary &Summary,
              std::string &Error);

/// The hash recorded for a file's contents.
std::string contentHash(llvm::StringRef Contents);

/// The USR of \p FD (the key of its facts), or "" if it has none.
std::string usrOf(const clang::FunctionDecl &FD);

/// The summaries of one directory, as this process sees them.
class SummaryStore {
public:
  /// The store of \p Dir, shared by all threads of the process.
  static SummaryStore &at(llvm::StringRef Dir);

  /// The facts another TU recorded about the function with USR \p Usr, or
  /// null: none, or the file that defined it has changed since (stale).
  /// Defined in several files, it is the one nearest \p FromFile (the
  /// caller's main file: the most directories in common), or null on a tie.
  std::shared_ptr<const FunctionFacts> lookup(llvm::StringRef Usr,
                                              llvm::StringRef FromFile = "");

  /// Writes \p Summary as the summary of its TU, atomically. "" on
  /// success, or what went wrong.
  std::string write(const TuSummary &Summary);

  /// Makes the next lookup look at the directory again (a new TU starts:
  /// other TUs may have written summaries since).
  void invalidate();

  /// Problems met while reading (a corrupt or unreadable file), each
  /// returned once per process.
  std::vector<std::string> takeProblems();

  /// The name of \p MainFile's summary file in the directory.
  static std::string fileNameFor(llvm::StringRef MainFile);

  /// grpc-leak-clangd reads summaries and never writes them.
  static void setReadOnly(bool ReadOnly);
  static bool readOnly();

  const std::string &directory() const { return Dir; }

  explicit SummaryStore(std::string Dir) : Dir(std::move(Dir)) {}

private:
  struct Loaded;
  void refreshLocked();
  bool isCurrentLocked(const TuSummary &Summary);

  std::string Dir;
  std::mutex Mutex;
  std::shared_ptr<Loaded> Current;
  bool Dirty = true;
  std::vector<std::string> Problems;
  std::vector<std::string> ReportedProblems;
};

//===--- The summaries a TU's analyses see --------------------------------===//

/// A check starts \p Ctx's TU: the summaries of \p Dir (empty: none)
/// become visible to its analyses. Every check of the TU calls it once;
/// the first one picks the directory and re-reads it (other TUs may have
/// written summaries since).
void beginSummaries(clang::ASTContext &Ctx, llvm::StringRef Dir);

/// A check ends \p Ctx's TU; after the last one, the TU uses no store.
void endSummaries(const clang::ASTContext &Ctx);

/// True for the first caller in \p Ctx's TU: the one that writes its
/// summary.
bool claimSummaryWrite(const clang::ASTContext &Ctx);

/// Makes the summaries of \p Dir visible to \p Ctx's TU until
/// forgetSummaries (tests: one analysis, no checks).
void useSummaries(clang::ASTContext &Ctx, llvm::StringRef Dir);
void forgetSummaries(const clang::ASTContext &Ctx);

/// The store \p Ctx's TU uses, or null.
SummaryStore *summariesFor(const clang::ASTContext &Ctx);

/// The facts another TU recorded about \p FD, when \p FD has no body in
/// this TU and summaries are in use; null otherwise.
std::shared_ptr<const FunctionFacts> projectFacts(const clang::FunctionDecl &FD);

} // namespace grpcleak

#endif // GRPCLEAK_SUMMARIES_H
