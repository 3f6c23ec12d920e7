//===- FunctionFlow.cpp - A function's CFG and path searches over it -------===//

#include "grpcleak/FunctionFlow.h"
#include "grpcleak/AstUtil.h"

#include "clang/AST/ParentMapContext.h"
#include "llvm/ADT/BitVector.h"
#include <deque>

using namespace clang;

namespace grpcleak {

FunctionFlow::FunctionFlow(const FunctionDecl &FD, ASTContext &Ctx,
                           std::unique_ptr<CFG> Graph)
    : FD(FD), Ctx(Ctx), Graph(std::move(Graph)) {
  for (const CFGBlock *B : *this->Graph)
    for (unsigned I = 0, E = B->size(); I != E; ++I)
      if (std::optional<CFGStmt> S = (*B)[I].getAs<CFGStmt>())
        Points.try_emplace(S->getStmt(), CfgPoint{B, I});
}

std::unique_ptr<FunctionFlow> FunctionFlow::build(const FunctionDecl &FD,
                                                  ASTContext &Ctx) {
  if (!FD.hasBody())
    return nullptr;
  CFG::BuildOptions Options;
  // Every expression gets its own element, so a judge sees each call once.
  Options.setAllAlwaysAdd();
  // Destructors of locals and temporaries: a [[noreturn]] destructor (assert
  // helpers) then cuts the paths it ends.
  Options.AddImplicitDtors = true;
  Options.AddTemporaryDtors = true;
  Options.PruneTriviallyFalseEdges = true;
  std::unique_ptr<CFG> Graph =
      CFG::buildCFG(&FD, FD.getBody(), &Ctx, Options);
  if (!Graph)
    return nullptr;
  return std::unique_ptr<FunctionFlow>(
      new FunctionFlow(FD, Ctx, std::move(Graph)));
}

std::optional<CfgPoint> FunctionFlow::locate(const Stmt &S) const {
  const Stmt *Current = &S;
  while (Current) {
    auto It = Points.find(Current);
    if (It != Points.end())
      return It->second;
    auto Parents = parentsOf(Ctx, *Current);
    if (Parents.empty())
      return std::nullopt;
    Current = Parents[0].get<Stmt>();
  }
  return std::nullopt;
}

namespace {

/// Breadth-first search over blocks, shared by both directions.
class PathSearch {
public:
  PathSearch(const FunctionFlow &Flow, StmtJudge Judge, EdgeFilter Follow,
             bool Forward, bool EndIsWitness = true)
      : Graph(Flow.cfg()), Judge(Judge), Follow(Follow), Forward(Forward),
        EndIsWitness(EndIsWitness),
        Seen(Graph.getNumBlockIDs()),
        Parent(Graph.getNumBlockIDs(), nullptr) {}

  /// Ends paths where \p Var is destroyed, too (findPathOutOfScope).
  PathSearch &endAtScopeOf(const VarDecl &Var) {
    ScopeVar = &Var;
    return *this;
  }

  std::optional<FlowPath> run(CfgPoint Start) {
    // Forward: elements after Start.Index. Backward: elements before it.
    Root = Start.Block;
    Queue.push_back({Start.Block, Forward ? Start.Index + 1 : Start.Index});
    while (!Queue.empty()) {
      auto [Block, Begin] = Queue.front();
      Queue.pop_front();
      std::optional<FlowPath> Found = scan(Block, Begin);
      if (Found)
        return Found;
    }
    return std::nullopt;
  }

private:
  struct Item {
    const CFGBlock *Block;
    unsigned Begin;
  };

  std::optional<FlowPath> scan(const CFGBlock *Block, unsigned Begin) {
    if (Forward) {
      for (unsigned I = Begin, E = Block->size(); I < E; ++I)
        if (std::optional<FlowPath> P = judge(Block, I))
          return P;
        else if (Stopped)
          return stop();
    } else {
      for (unsigned I = Begin; I-- > 0;)
        if (std::optional<FlowPath> P = judge(Block, I))
          return P;
        else if (Stopped)
          return stop();
    }
    // A block that calls a [[noreturn]] function (abort, exit, a fatal
    // logger) keeps an edge to the exit in Clang's CFG; no path goes on.
    if (Forward && Block->hasNoReturnElement())
      return std::nullopt;
    const CFGBlock *End = Forward ? &Graph.getExit() : &Graph.getEntry();
    if (Block == End)
      return EndIsWitness ? std::optional<FlowPath>(witness(Block, nullptr))
                          : std::nullopt;
    unsigned Index = 0;
    auto Next = [&](const CFGBlock *N, unsigned EdgeIndex) {
      if (!N || Seen.test(N->getBlockID()))
        return;
      if (Forward && Follow && !Follow(*Block, EdgeIndex))
        return;
      Seen.set(N->getBlockID());
      Parent[N->getBlockID()] = Block;
      Queue.push_back({N, Forward ? 0u : static_cast<unsigned>(N->size())});
    };
    if (Forward)
      for (const CFGBlock::AdjacentBlock &Succ : Block->succs())
        Next(Succ.getReachableBlock(), Index++);
    else
      for (const CFGBlock::AdjacentBlock &Pred : Block->preds())
        Next(Pred.getReachableBlock(), Index++);
    return std::nullopt;
  }

  /// Judges element \p I; returns a witness on violation, sets Stopped when
  /// this path is discharged.
  std::optional<FlowPath> judge(const CFGBlock *Block, unsigned I) {
    Stopped = false;
    if (ScopeVar)
      if (std::optional<CFGAutomaticObjDtor> Dtor =
              (*Block)[I].getAs<CFGAutomaticObjDtor>())
        if (Dtor->getVarDecl() == ScopeVar) {
          FlowPath Path = witness(Block, Dtor->getTriggerStmt());
          Path.LeftScope = true;
          return Path;
        }
    std::optional<CFGStmt> S = (*Block)[I].getAs<CFGStmt>();
    if (!S)
      return std::nullopt;
    switch (Judge(*S->getStmt())) {
    case Verdict::Continue:
      return std::nullopt;
    case Verdict::Discharged:
      Stopped = true;
      return std::nullopt;
    case Verdict::Violated:
      return witness(Block, S->getStmt());
    }
    return std::nullopt;
  }

  std::optional<FlowPath> stop() {
    Stopped = false;
    return std::nullopt;
  }

  FlowPath witness(const CFGBlock *Last, const Stmt *ViolatedAt) {
    FlowPath Path;
    Path.ViolatedAt = ViolatedAt;
    // Walk back to the root. The root's own parent is set only when the
    // path went round a loop back to it; stop on reaching it again.
    Path.Blocks.push_back(Last);
    for (const CFGBlock *B = Parent[Last->getBlockID()]; B;
         B = Parent[B->getBlockID()]) {
      Path.Blocks.push_back(B);
      if (B == Root)
        break;
    }
    std::reverse(Path.Blocks.begin(), Path.Blocks.end());
    if (Forward && !ViolatedAt && Path.Blocks.size() >= 2) {
      // The block before the exit holds the return, if the path left by one.
      const CFGBlock *BeforeExit = Path.Blocks[Path.Blocks.size() - 2];
      for (auto It = BeforeExit->rbegin(); It != BeforeExit->rend(); ++It)
        if (std::optional<CFGStmt> S = It->getAs<CFGStmt>()) {
          Path.ExitReturn = llvm::dyn_cast<ReturnStmt>(S->getStmt());
          if (Path.ExitReturn)
            break;
        }
    }
    return Path;
  }

  const CFG &Graph;
  StmtJudge Judge;
  EdgeFilter Follow;
  bool Forward;
  bool EndIsWitness;
  bool Stopped = false;
  const VarDecl *ScopeVar = nullptr;
  const CFGBlock *Root = nullptr;
  llvm::BitVector Seen;
  std::vector<const CFGBlock *> Parent;
  std::deque<Item> Queue;
};

} // namespace

std::optional<FlowPath> findPathForward(const FunctionFlow &Flow, CfgPoint From,
                                        StmtJudge Judge, EdgeFilter Follow) {
  return PathSearch(Flow, Judge, Follow, /*Forward=*/true).run(From);
}

std::optional<FlowPath> findPathOutOfScope(const FunctionFlow &Flow,
                                           CfgPoint From, const VarDecl &Var,
                                           StmtJudge Judge, EdgeFilter Follow) {
  return PathSearch(Flow, Judge, Follow, /*Forward=*/true)
      .endAtScopeOf(Var)
      .run(From);
}

std::optional<FlowPath> findViolationForward(const FunctionFlow &Flow,
                                             CfgPoint From, StmtJudge Judge,
                                             EdgeFilter Follow) {
  return PathSearch(Flow, Judge, Follow, /*Forward=*/true,
                    /*EndIsWitness=*/false)
      .run(From);
}

std::optional<FlowPath> findPathBackward(const FunctionFlow &Flow, CfgPoint To,
                                         StmtJudge Judge) {
  return PathSearch(Flow, Judge, nullptr, /*Forward=*/false).run(To);
}

const Stmt *findReachable(const FunctionFlow &Flow, CfgPoint From,
                          llvm::function_ref<bool(const Stmt &)> Pred) {
  auto Judge = [&](const Stmt &S) {
    return Pred(S) ? Verdict::Violated : Verdict::Continue;
  };
  std::optional<FlowPath> Path =
      PathSearch(Flow, Judge, nullptr, /*Forward=*/true, /*EndIsWitness=*/false)
          .run(From);
  return Path ? Path->ViolatedAt : nullptr;
}

namespace {
struct TuFlows {
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<FunctionFlow>> Flows;
};
thread_local llvm::DenseMap<const ASTContext *, std::unique_ptr<TuFlows>>
    CacheByContext;
} // namespace

const FunctionFlow *FlowCache::get(const FunctionDecl &FD, ASTContext &Ctx) {
  std::unique_ptr<TuFlows> &Tu = CacheByContext[&Ctx];
  if (!Tu)
    Tu = std::make_unique<TuFlows>();
  auto [It, Inserted] = Tu->Flows.try_emplace(&FD);
  if (Inserted)
    It->second = FunctionFlow::build(FD, Ctx);
  return It->second.get();
}

void FlowCache::clear(ASTContext &Ctx) { CacheByContext.erase(&Ctx); }

} // namespace grpcleak
