//===- Repetition.h - Code that runs repeatedly, values that do not last -*- C++ -*-===//
//
// Two questions for the temporary-client checks:
//   - does a statement run once per iteration of a loop (in the same
//     function or lambda)?
//   - does a value created there die within the iteration, or may it be kept
//     (stored in a member, a static, a container, a variable declared outside
//     the loop, returned, captured, passed to a function that may keep it)?
// Both answers are conservative: "may be kept" on any path means not
// temporary (precision first).
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_REPETITION_H
#define GRPCLEAK_REPETITION_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/SmallVector.h"

namespace grpcleak {

/// The innermost loop that runs \p S once per iteration, in the same
/// function or lambda as \p S; null if there is none. The init statement of a
/// `for` and the range of a range-`for` run once and do not count.
const clang::Stmt *enclosingLoop(const clang::Stmt &S, clang::ASTContext &Ctx);

/// The loop keyword's location, for notes.
clang::SourceLocation loopKeywordLoc(const clang::Stmt &Loop);

/// Follows the value created by \p Creation (a channel, say) through local
/// variables declared inside \p Loop and through stubs built on it. Returns
/// true if it may outlive the iteration. \p Holders receives the local
/// variables that hold it (the channel variable, the stub variable, ...).
bool mayOutliveIteration(const clang::Expr &Creation, const clang::Stmt &Loop,
                         clang::ASTContext &Ctx,
                         llvm::SmallVectorImpl<const clang::VarDecl *> &Holders);

} // namespace grpcleak

#endif // GRPCLEAK_REPETITION_H
