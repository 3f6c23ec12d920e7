//===- ProjectFacts.h - The facts a TU records for the project -*- C++ -*-===//
//
// What the analyses know about the functions a translation unit defines,
// put in the form of Summaries.h's FunctionFacts so that other TUs can use
// it: computed once per TU, at its end, for the functions of its main file
// that other files can call (external linkage), and only the facts their
// signatures make possible (a ClientContext parameter may get a deadline, a
// queue parameter may be drained, ...).
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_PROJECT_FACTS_H
#define GRPCLEAK_PROJECT_FACTS_H

#include "grpcleak/Summaries.h"

#include "clang/AST/ASTContext.h"

namespace grpcleak {

/// The facts about \p FD (which has a body in this TU).
FunctionFacts factsOf(const clang::FunctionDecl &FD);

/// The summary of \p Ctx's TU: its main file, that file's content hash, and
/// the facts of each function it defines with external linkage.
TuSummary summarizeTu(clang::ASTContext &Ctx);

} // namespace grpcleak

#endif // GRPCLEAK_PROJECT_FACTS_H
