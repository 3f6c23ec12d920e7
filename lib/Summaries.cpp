//===- Summaries.cpp - Facts about functions, across translation units ----===//

#include "grpcleak/Summaries.h"

#include "clang/Basic/SourceManager.h"
#include "clang/Index/USRGeneration.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"
#include <atomic>
#include <map>
#include <mutex>

using namespace clang;

namespace grpcleak {

//===--- Format -----------------------------------------------------------===//

namespace {

constexpr int FormatVersion = 1;

llvm::json::Array toArray(llvm::ArrayRef<unsigned> Values) {
  llvm::json::Array Array;
  for (unsigned V : Values)
    Array.push_back(static_cast<int64_t>(V));
  return Array;
}

bool readIndices(const llvm::json::Object &Object, llvm::StringRef Key,
                 llvm::SmallVectorImpl<unsigned> &Out) {
  const llvm::json::Value *Value = Object.get(Key);
  if (!Value)
    return true; // absent: none
  const llvm::json::Array *Array = Value->getAsArray();
  if (!Array)
    return false;
  for (const llvm::json::Value &Item : *Array) {
    std::optional<int64_t> N = Item.getAsInteger();
    if (!N || *N < 0 || *N > 1024)
      return false;
    Out.push_back(static_cast<unsigned>(*N));
  }
  return true;
}

} // namespace

llvm::json::Value toJSON(const TuSummary &Summary) {
  llvm::json::Array Functions;
  for (const FunctionFacts &F : Summary.Functions) {
    llvm::json::Object Object{{"usr", F.Usr}, {"name", F.Name}, {"line", F.Line}};
    if (F.ReturnsNewChannel)
      Object["returns_new_channel"] = true;
    if (F.HandlesRequests)
      Object["handles_requests"] = true;
    if (F.Blocks)
      Object["blocks"] = true;
    if (!F.ReleasesParams.empty())
      Object["releases"] = toArray(F.ReleasesParams);
    if (!F.ShutsDownQueueParams.empty())
      Object["shuts_down_queue"] = toArray(F.ShutsDownQueueParams);
    if (!F.DrainsQueueParams.empty())
      Object["drains_queue"] = toArray(F.DrainsQueueParams);
    if (!F.SetsDeadlineParams.empty())
      Object["sets_deadline"] = toArray(F.SetsDeadlineParams);
    if (!F.FinishesStreamParams.empty())
      Object["finishes_stream"] = toArray(F.FinishesStreamParams);
    if (!F.KeepsParams.empty())
      Object["keeps"] = toArray(F.KeepsParams);
    if (!F.StartsRpcs.empty()) {
      llvm::json::Array Starts;
      for (const FunctionFacts::StreamStart &S : F.StartsRpcs)
        Starts.push_back(llvm::json::Object{{"param", static_cast<int64_t>(S.Param)},
                                            {"method", S.Method},
                                            {"streaming", S.Streaming}});
      Object["starts_rpc"] = std::move(Starts);
    }
    if (!F.Calls.empty()) {
      llvm::json::Array Calls;
      for (const std::string &Usr : F.Calls)
        Calls.push_back(Usr);
      Object["calls"] = std::move(Calls);
    }
    Functions.push_back(std::move(Object));
  }
  return llvm::json::Object{{"version", FormatVersion},
                            {"file", Summary.File},
                            {"hash", Summary.Hash},
                            {"functions", std::move(Functions)}};
}

bool fromJSON(const llvm::json::Value &Value, TuSummary &Summary,
              std::string &Error) {
  const llvm::json::Object *Root = Value.getAsObject();
  if (!Root) {
    Error = "not a JSON object";
    return false;
  }
  if (Root->getInteger("version") != FormatVersion) {
    Error = "unknown summary format version";
    return false;
  }
  std::optional<llvm::StringRef> File = Root->getString("file");
  std::optional<llvm::StringRef> Hash = Root->getString("hash");
  const llvm::json::Array *Functions = Root->getArray("functions");
  if (!File || !Hash || !Functions) {
    Error = "missing 'file', 'hash' or 'functions'";
    return false;
  }
  Summary.File = File->str();
  Summary.Hash = Hash->str();
  for (const llvm::json::Value &Item : *Functions) {
    const llvm::json::Object *F = Item.getAsObject();
    std::optional<llvm::StringRef> Usr = F ? F->getString("usr") : std::nullopt;
    if (!Usr || Usr->empty()) {
      Error = "a function without a 'usr'";
      return false;
    }
    FunctionFacts Facts;
    Facts.Usr = Usr->str();
    Facts.Name = F->getString("name").value_or("").str();
    Facts.File = Summary.File;
    Facts.Line = static_cast<unsigned>(F->getInteger("line").value_or(0));
    Facts.ReturnsNewChannel = F->getBoolean("returns_new_channel").value_or(false);
    Facts.HandlesRequests = F->getBoolean("handles_requests").value_or(false);
    Facts.Blocks = F->getBoolean("blocks").value_or(false);
    if (!readIndices(*F, "releases", Facts.ReleasesParams) ||
        !readIndices(*F, "shuts_down_queue", Facts.ShutsDownQueueParams) ||
        !readIndices(*F, "drains_queue", Facts.DrainsQueueParams) ||
        !readIndices(*F, "sets_deadline", Facts.SetsDeadlineParams) ||
        !readIndices(*F, "finishes_stream", Facts.FinishesStreamParams) ||
        !readIndices(*F, "keeps", Facts.KeepsParams)) {
      Error = "a malformed parameter list in '" + Facts.Usr + "'";
      return false;
    }
    if (const llvm::json::Array *Starts = F->getArray("starts_rpc"))
      for (const llvm::json::Value &S : *Starts) {
        const llvm::json::Object *Start = S.getAsObject();
        std::optional<int64_t> Param = Start ? Start->getInteger("param") : std::nullopt;
        if (!Param || *Param < 0) {
          Error = "a malformed 'starts_rpc' in '" + Facts.Usr + "'";
          return false;
        }
        Facts.StartsRpcs.push_back(
            {static_cast<unsigned>(*Param),
             Start->getString("method").value_or("").str(),
             Start->getBoolean("streaming").value_or(false)});
      }
    if (const llvm::json::Array *Calls = F->getArray("calls"))
      for (const llvm::json::Value &C : *Calls)
        if (std::optional<llvm::StringRef> Callee = C.getAsString())
          Facts.Calls.push_back(Callee->str());
    Summary.Functions.push_back(std::move(Facts));
  }
  return true;
}

std::string contentHash(llvm::StringRef Contents) {
  return llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef(Contents)),
                         /*LowerCase=*/true);
}

std::string usrOf(const FunctionDecl &FD) {
  llvm::SmallString<128> Usr;
  if (index::generateUSRForDecl(FD.getCanonicalDecl(), Usr))
    return "";
  return std::string(Usr);
}

//===--- The store ----------------------------------------------------------===//

namespace {

std::atomic<bool> ReadOnlyStores{false};

/// What a file's contents hash to now, cached by size and time.
struct FileState {
  llvm::sys::TimePoint<> Modified;
  uint64_t Size = 0;
  std::string Hash; // "" when unreadable
};

std::optional<FileState> stateOf(llvm::StringRef Path) {
  llvm::sys::fs::file_status Status;
  if (llvm::sys::fs::status(Path, Status))
    return std::nullopt;
  FileState State;
  State.Modified = Status.getLastModificationTime();
  State.Size = Status.getSize();
  return State;
}

} // namespace

struct SummaryStore::Loaded {
  /// Per summary file: its state when read, and what it said.
  struct Entry {
    FileState State;
    std::shared_ptr<TuSummary> Summary; // null: unreadable or corrupt
  };
  std::map<std::string, Entry> Files;
  /// USR -> facts (shared with the summary they came from) and the
  /// summary's hash check.
  /// USR -> the facts of each file that defines it (shared with the
  /// summary they came from, for its hash check).
  using Candidate = std::pair<std::shared_ptr<const FunctionFacts>,
                              std::shared_ptr<TuSummary>>;
  llvm::StringMap<llvm::SmallVector<Candidate, 1>> ByUsr;
  /// The current hash of each defining file, by path.
  llvm::StringMap<FileState> Sources;
};

SummaryStore &SummaryStore::at(llvm::StringRef Dir) {
  static std::mutex StoresMutex;
  static llvm::StringMap<std::unique_ptr<SummaryStore>> Stores;
  std::lock_guard<std::mutex> Lock(StoresMutex);
  std::unique_ptr<SummaryStore> &Store = Stores[Dir];
  if (!Store)
    Store = std::make_unique<SummaryStore>(Dir.str());
  return *Store;
}

void SummaryStore::setReadOnly(bool ReadOnly) { ReadOnlyStores = ReadOnly; }
bool SummaryStore::readOnly() { return ReadOnlyStores; }

std::string SummaryStore::fileNameFor(llvm::StringRef MainFile) {
  return llvm::utohexstr(llvm::xxh3_64bits(llvm::arrayRefFromStringRef(MainFile)),
                         /*LowerCase=*/true) +
         ".json";
}

void SummaryStore::refreshLocked() {
  // Re-read only what changed since the last look: the directory listing is
  // cheap, the files are read when new or modified.
  auto Next = std::make_shared<Loaded>();
  if (Current)
    Next->Sources = Current->Sources;
  std::error_code EC;
  for (llvm::sys::fs::directory_iterator It(Dir, EC), End; !EC && It != End;
       It.increment(EC)) {
    llvm::StringRef Path = It->path();
    if (llvm::sys::path::extension(Path) != ".json")
      continue;
    std::optional<FileState> State = stateOf(Path);
    if (!State)
      continue;
    if (Current) {
      auto Old = Current->Files.find(Path.str());
      if (Old != Current->Files.end() &&
          Old->second.State.Modified == State->Modified &&
          Old->second.State.Size == State->Size) {
        Next->Files[Path.str()] = Old->second;
        continue;
      }
    }
    Loaded::Entry Entry{*State, nullptr};
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
        llvm::MemoryBuffer::getFile(Path);
    if (!Buffer) {
      Problems.push_back("cannot read summary file '" + Path.str() +
                         "': " + Buffer.getError().message());
    } else {
      llvm::Expected<llvm::json::Value> Json =
          llvm::json::parse((*Buffer)->getBuffer());
      auto Summary = std::make_shared<TuSummary>();
      std::string Error;
      if (!Json)
        Error = llvm::toString(Json.takeError());
      else if (!fromJSON(*Json, *Summary, Error))
        Summary.reset();
      if (!Error.empty())
        Problems.push_back("ignoring corrupt summary file '" + Path.str() +
                           "': " + Error);
      else
        Entry.Summary = std::move(Summary);
    }
    Next->Files[Path.str()] = std::move(Entry);
  }
  for (auto &[Path, Entry] : Next->Files) {
    if (!Entry.Summary)
      continue;
    for (const FunctionFacts &Facts : Entry.Summary->Functions)
      Next->ByUsr[Facts.Usr].push_back(
          {std::shared_ptr<const FunctionFacts>(Entry.Summary, &Facts),
           Entry.Summary});
  }
  Current = std::move(Next);
}

/// How many leading path components \p A and \p B share.
static size_t sharedDirectories(llvm::StringRef A, llvm::StringRef B) {
  size_t Shared = 0;
  for (auto I = llvm::sys::path::begin(A), IE = llvm::sys::path::end(A),
            J = llvm::sys::path::begin(B), JE = llvm::sys::path::end(B);
       I != IE && J != JE && *I == *J; ++I, ++J)
    ++Shared;
  return Shared;
}

bool SummaryStore::isCurrentLocked(const TuSummary &Summary) {
  std::optional<FileState> Now = stateOf(Summary.File);
  if (!Now)
    return false;
  FileState &Known = Current->Sources[Summary.File];
  if (Known.Hash.empty() || Known.Modified != Now->Modified ||
      Known.Size != Now->Size) {
    Known = *Now;
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> Buffer =
        llvm::MemoryBuffer::getFile(Summary.File);
    Known.Hash = Buffer ? contentHash((*Buffer)->getBuffer()) : "";
  }
  return Known.Hash == Summary.Hash;
}

std::shared_ptr<const FunctionFacts>
SummaryStore::lookup(llvm::StringRef Usr, llvm::StringRef FromFile) {
  if (Usr.empty())
    return nullptr;
  std::lock_guard<std::mutex> Lock(Mutex);
  // Once per TU: a changed directory is seen by the next TU.
  if (!Current || Dirty) {
    refreshLocked();
    Dirty = false;
  }
  auto It = Current->ByUsr.find(Usr);
  if (It == Current->ByUsr.end())
    return nullptr;
  // Stale summaries (their file has changed since) do not count. Of the
  // current ones, a function defined in several files (two programs of one
  // database, each with its own `Connect()`) is the one nearest the caller:
  // the file sharing the most directories with it; a tie is unknown.
  std::shared_ptr<const FunctionFacts> Best;
  size_t BestShared = 0;
  bool Tie = false;
  for (const Loaded::Candidate &C : It->second) {
    if (!isCurrentLocked(*C.second))
      continue;
    size_t Shared = sharedDirectories(FromFile, C.second->File);
    if (!Best || Shared > BestShared) {
      Best = C.first;
      BestShared = Shared;
      Tie = false;
    } else if (Shared == BestShared && C.second->File != Best->File) {
      Tie = true;
    }
  }
  return Tie ? nullptr : Best;
}

void SummaryStore::invalidate() {
  std::lock_guard<std::mutex> Lock(Mutex);
  Dirty = true;
}

std::vector<std::string> SummaryStore::takeProblems() {
  std::lock_guard<std::mutex> Lock(Mutex);
  std::vector<std::string> New;
  for (std::string &Problem : Problems)
    if (!llvm::is_contained(ReportedProblems, Problem)) {
      ReportedProblems.push_back(Problem);
      New.push_back(std::move(Problem));
    }
  Problems.clear();
  return New;
}

std::string SummaryStore::write(const TuSummary &Summary) {
  if (readOnly())
    return "";
  if (std::error_code EC = llvm::sys::fs::create_directories(Dir))
    return "cannot create summaries directory '" + Dir + "': " + EC.message();
  llvm::SmallString<256> Final(Dir);
  llvm::sys::path::append(Final, fileNameFor(Summary.File));
  // A unique temporary name in the same directory, renamed into place:
  // readers and parallel writers see the old file or the new one, whole.
  llvm::SmallString<256> Temp;
  int FD = -1;
  if (std::error_code EC = llvm::sys::fs::createUniqueFile(
          Final + ".%%%%%%%%.tmp", FD, Temp))
    return "cannot write summary file in '" + Dir + "': " + EC.message();
  {
    llvm::raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << llvm::formatv("{0:2}", toJSON(Summary)) << "\n";
    OS.close();
    if (OS.has_error()) {
      std::string Message = OS.error().message();
      OS.clear_error();
      llvm::sys::fs::remove(Temp);
      return "cannot write summary file '" + Temp.str().str() + "': " + Message;
    }
  }
  if (std::error_code EC = llvm::sys::fs::rename(Temp, Final)) {
    llvm::sys::fs::remove(Temp);
    return "cannot write summary file '" + Final.str().str() + "': " + EC.message();
  }
  return "";
}

//===--- The summaries a TU's analyses see --------------------------------===//

namespace {
/// The store of a TU and how many checks have it open.
struct TuStore {
  SummaryStore *Store = nullptr;
  unsigned Users = 0;
  bool Written = false;
};
thread_local llvm::DenseMap<const ASTContext *, TuStore> StoreByContext;
} // namespace

void beginSummaries(ASTContext &Ctx, llvm::StringRef Dir) {
  TuStore &Entry = StoreByContext[&Ctx];
  if (Entry.Users++ == 0) {
    Entry.Written = false;
    Entry.Store = Dir.empty() ? nullptr : &SummaryStore::at(Dir);
    if (Entry.Store)
      Entry.Store->invalidate();
  }
}

void endSummaries(const ASTContext &Ctx) {
  auto It = StoreByContext.find(&Ctx);
  if (It != StoreByContext.end() && --It->second.Users == 0)
    StoreByContext.erase(It);
}

bool claimSummaryWrite(const ASTContext &Ctx) {
  auto It = StoreByContext.find(&Ctx);
  if (It == StoreByContext.end() || It->second.Written)
    return false;
  It->second.Written = true;
  return true;
}

void useSummaries(ASTContext &Ctx, llvm::StringRef Dir) {
  StoreByContext.erase(&Ctx);
  beginSummaries(Ctx, Dir);
}

void forgetSummaries(const ASTContext &Ctx) { StoreByContext.erase(&Ctx); }

SummaryStore *summariesFor(const ASTContext &Ctx) {
  auto It = StoreByContext.find(&Ctx);
  return It == StoreByContext.end() ? nullptr : It->second.Store;
}

std::shared_ptr<const FunctionFacts> projectFacts(const FunctionDecl &FD) {
  SummaryStore *Store = summariesFor(FD.getASTContext());
  if (!Store || FD.hasBody())
    return nullptr;
  const SourceManager &SM = FD.getASTContext().getSourceManager();
  llvm::StringRef From;
  if (OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID()))
    From = Main->getName();
  llvm::SmallString<256> Absolute(From);
  llvm::sys::fs::make_absolute(Absolute);
  return Store->lookup(usrOf(FD), Absolute);
}

} // namespace grpcleak
