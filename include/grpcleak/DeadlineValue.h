//===- DeadlineValue.h - Deadlines that never expire -----------*- C++ -*-===//
//
// Decides, from the expression alone, whether a deadline never expires:
// gpr_inf_future(...), std::chrono::time_point<...>::max(), "now + a
// duration longer than a limit", a constant initialised with one of these,
// or a constant whose name the user lists. No flow: a deadline computed at
// run time is assumed finite (precision first).
//
//===----------------------------------------------------------------------===//

#ifndef GRPCLEAK_DEADLINE_VALUE_H
#define GRPCLEAK_DEADLINE_VALUE_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "llvm/Support/Regex.h"
#include <cstdint>
#include <optional>
#include <string>

namespace grpcleak {

/// What kind of call takes the deadline (GrpcApi.def, GRPC_DEADLINE_TAKER).
enum class DeadlineUse { Rpc, ConnectivityWait, Alarm };

/// If \p Call takes a deadline, its use and the deadline argument.
struct DeadlineArgument {
  DeadlineUse Use;
  const clang::Expr *Deadline;
};
std::optional<DeadlineArgument> deadlineArgument(const clang::Expr &Call);

struct InfiniteDeadlineOptions {
  /// Durations longer than this many seconds count as never expiring;
  /// 0 turns the length test off.
  int64_t MaxDeadlineSeconds = 0;
  /// Names of project constants that mean "no deadline"; may be null.
  const llvm::Regex *InfiniteNames = nullptr;
};

/// Why a deadline never expires, in words for a diagnostic
/// ("'gpr_inf_future'", "'time_point::max()'", "'kNoDeadline'", "63072000
/// seconds away, more than the limit of 31536000").
struct InfiniteDeadline {
  std::string Why;
};

std::optional<InfiniteDeadline>
classifyInfiniteDeadline(const clang::Expr *Deadline, clang::ASTContext &Ctx,
                         const InfiniteDeadlineOptions &Options);

/// The length of a std::chrono::duration or gpr_time_from_* expression in
/// seconds, if it is a constant.
std::optional<int64_t> constantDurationSeconds(const clang::Expr *E,
                                               clang::ASTContext &Ctx);

/// True if \p E is a constant std::chrono::duration, or gpr_time_from_*
/// value, of zero length: a wait bounded by it is a poll.
bool isZeroDuration(const clang::Expr *E, clang::ASTContext &Ctx);

} // namespace grpcleak

#endif // GRPCLEAK_DEADLINE_VALUE_H
