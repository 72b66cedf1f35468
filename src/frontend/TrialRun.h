// Trial runs of untrusted source parsing: the work is first done in a forked child, so a parser crash or hang
// ends the child with an error for that file, and only then in this process, on a stack of the same size.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <functional>
#include <string>

namespace mirtune {

/// Stack of the threads trial runs and their in-process repeats run on: far deeper than a process's main
/// thread, so deeply nested sources parse instead of overflowing it; only the pages touched are committed.
inline constexpr std::size_t kTrialStackBytes = std::size_t{256} << 20;

/// True when MIRTUNE_COMPILE_IN_PROCESS=1: compiles and parses run in the calling process, without workers or
/// trial runs, for debugging the compiler. Read on every call, so a test can compare both ways in one process.
bool compileInProcess();

/// Runs `work` on a new thread with `stackBytes` of stack and waits for it (ForkServer.h's runOnStack for a
/// callable; on the calling thread when no thread can be started).
void runOnStack(std::size_t stackBytes, const std::function<void()>& work);

/// Runs `work` in a forked child (on a kTrialStackBytes stack, output discarded, no core file) and says how
/// the child ended: success when `work` returned, whatever it found; an Error (kCompileError, "NAME: compiler
/// crashed: signal 11 (Segmentation fault)") when the child died by a signal; kTimeout when it ran past
/// `timeoutSeconds`. `work` is a deterministic parse of `name`, so when it returns in the child it also
/// returns in this process on a stack of the same size. Skipped (success) when MIRTUNE_COMPILE_IN_PROCESS=1.
Status trialRun(const std::string& name, const std::function<void()>& work, double timeoutSeconds = 300);

}  // namespace mirtune
