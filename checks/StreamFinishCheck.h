//===- StreamFinishCheck.h - grpc-leak-stream-finish ------------*- C++ -*-===//

#ifndef GRPCLEAK_CHECKS_STREAM_FINISH_CHECK_H
#define GRPCLEAK_CHECKS_STREAM_FINISH_CHECK_H

#include "GrpcLeakCheck.h"
#include "grpcleak/StreamProtocol.h"
#include <memory>

namespace clang::tidy::grpcleak {

/// Finds client streams that can go out of scope without Finish(), and
/// Finish() reached on a stream the client writes to without WritesDone()
/// or WriteLast() before it.
///
/// For the user-facing documentation see docs/checks/grpc-leak-stream-finish.md.
class StreamFinishCheck : public GrpcLeakCheck {
public:
  StreamFinishCheck(StringRef Name, ClangTidyContext *Context);
  void registerCheckMatchers(ast_matchers::MatchFinder *Finder) override;
  void checkMatch(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void onEndOfTranslationUnit() override;

private:
  void reportUnfinished(const ::grpcleak::StartedStream &Stream,
                        const ::grpcleak::UnfinishedStream &Path,
                        const ::grpcleak::FunctionFlow &Flow);
  void reportFinishBeforeHalfClose(const ::grpcleak::StartedStream &Stream,
                                   const CallExpr &Finish, bool Member,
                                   const ::grpcleak::FunctionFlow *Flow,
                                   ASTContext &Ctx);

  const bool CheckUnfinished;
  const bool RequireWritesDone;
  const bool CheckAsyncStreams;
  /// Per translation unit: the helper summaries it caches.
  std::unique_ptr<::grpcleak::StreamProtocolAnalysis> Analysis;
  ASTContext *AnalysisContext = nullptr;
};

} // namespace clang::tidy::grpcleak

#endif // GRPCLEAK_CHECKS_STREAM_FINISH_CHECK_H
