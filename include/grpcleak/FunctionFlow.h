//===- FunctionFlow.h - A function's CFG and path searches over it -*- C++ -*-===//
//
// Every flow question the checks ask has the same form: "is there a path
// from this statement to the end of the function (or from the start of the
// function to this statement) on which some obligation is never met?". The
// obligation differs (release a handle, set a deadline); the search does not.
// So this file owns the one CFG per function, built once per translation unit
// and shared by all checks (FlowCache), and the two path searches.
//
// Why a path search and not the dataflow framework: one finding per handle
// needs one concrete witness path (to explain the finding with a note), and
// a breadth-first search over blocks gives the shortest one in time linear in
// the size of the CFG.
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_FUNCTION_FLOW_H
#define GRPCLEAK_FUNCTION_FLOW_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include <memory>
#include <optional>
#include <vector>

namespace grpcleak {

/// A place in the CFG: element \p Index of \p Block.
struct CfgPoint {
  const clang::CFGBlock *Block = nullptr;
  unsigned Index = 0;
};

/// The CFG of one function (or lambda) body, with every statement and
/// expression as its own element, in evaluation order.
class FunctionFlow {
public:
  /// Null when Clang cannot build a CFG for \p FD.
  static std::unique_ptr<FunctionFlow> build(const clang::FunctionDecl &FD,
                                             clang::ASTContext &Ctx);

  const clang::CFG &cfg() const { return *Graph; }
  const clang::FunctionDecl &function() const { return FD; }
  clang::ASTContext &context() const { return Ctx; }

  /// Where \p S is evaluated: its own element, or that of the nearest
  /// enclosing statement that has one.
  std::optional<CfgPoint> locate(const clang::Stmt &S) const;

private:
  FunctionFlow(const clang::FunctionDecl &FD, clang::ASTContext &Ctx,
               std::unique_ptr<clang::CFG> Graph);

  const clang::FunctionDecl &FD;
  clang::ASTContext &Ctx;
  std::unique_ptr<clang::CFG> Graph;
  llvm::DenseMap<const clang::Stmt *, CfgPoint> Points;
};

/// What a path search makes of one statement on the path.
enum class Verdict {
  Continue,   ///< Nothing relevant: keep walking.
  Discharged, ///< The obligation is met (or provably not ours): this path is fine.
  Violated,   ///< The path ends here in a violation (reported with this statement).
};

/// A witness path, for explanations.
struct FlowPath {
  /// The blocks walked, from the start point to the end.
  std::vector<const clang::CFGBlock *> Blocks;
  /// The statement that ended the path with Verdict::Violated, or null when
  /// the path reached the function's exit (forward) or entry (backward).
  const clang::Stmt *ViolatedAt = nullptr;
  /// For a forward path that reached the exit: the return statement it left
  /// by, or null if it fell off the end of the body.
  const clang::ReturnStmt *ExitReturn = nullptr;
  /// For findPathOutOfScope: the path ended where the variable's scope ends;
  /// ViolatedAt is then the statement that ends it (a return, break,
  /// continue or goto, or the compound statement whose end it reaches).
  bool LeftScope = false;
};

using StmtJudge = llvm::function_ref<Verdict(const clang::Stmt &)>;
/// Whether to follow the edge to successor number \p SuccIndex of \p From
/// (used to prune branches that cannot be taken, such as a null branch).
using EdgeFilter =
    llvm::function_ref<bool(const clang::CFGBlock &From, unsigned SuccIndex)>;

/// Searches forward from just after \p From for a path to the function's exit
/// (or to a Violated statement) that no statement discharges. Returns the
/// shortest such path, or std::nullopt when every path is discharged.
std::optional<FlowPath> findPathForward(const FunctionFlow &Flow, CfgPoint From,
                                        StmtJudge Judge,
                                        EdgeFilter Follow = nullptr);

/// Like findPathForward, but a path also ends where the automatic variable
/// \p Var is destroyed (clang::CFGAutomaticObjDtor: Var must have a
/// destructor, as smart pointers and references bound to temporaries do):
/// the witness then has LeftScope set. For obligations on an object that
/// end with its scope, inside a loop body or a nested block as well.
std::optional<FlowPath> findPathOutOfScope(const FunctionFlow &Flow,
                                           CfgPoint From,
                                           const clang::VarDecl &Var,
                                           StmtJudge Judge,
                                           EdgeFilter Follow = nullptr);

/// Searches forward from just after \p From for a statement judged
/// Violated, on a path that no statement discharges; a path that reaches
/// the function's exit is no witness. Returns the shortest such path.
std::optional<FlowPath> findViolationForward(const FunctionFlow &Flow,
                                             CfgPoint From, StmtJudge Judge,
                                             EdgeFilter Follow = nullptr);

/// Searches backward from just before \p To for a path to the function's entry
/// (or to a Violated statement) that no statement discharges.
std::optional<FlowPath> findPathBackward(const FunctionFlow &Flow, CfgPoint To,
                                         StmtJudge Judge);

/// The first statement (breadth-first) reachable after \p From that satisfies
/// \p Pred, or null.
const clang::Stmt *findReachable(const FunctionFlow &Flow, CfgPoint From,
                                 llvm::function_ref<bool(const clang::Stmt &)> Pred);

/// One FunctionFlow per function per translation unit, shared by all checks.
/// Thread-local: clangd analyses several files at once.
class FlowCache {
public:
  /// The flow of \p FD, built on first use; null if no CFG can be built.
  static const FunctionFlow *get(const clang::FunctionDecl &FD,
                                 clang::ASTContext &Ctx);
  /// Forgets everything built for \p Ctx (called at the end of each TU).
  static void clear(clang::ASTContext &Ctx);
};

} // namespace grpcleak

#endif // GRPCLEAK_FUNCTION_FLOW_H
