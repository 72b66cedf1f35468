// Keeps logging and progress lines usable in a child made by fork() while other threads were logging.
#pragma once

namespace mirtune {

/// Registers (once) pthread_atfork handlers that wait until no thread is inside the log or a progress line,
/// hold their locks across fork() and release them in the parent and in the child, so a child never inherits
/// a lock held by a thread it does not have. Done automatically when logging or a progress line starts;
/// returns whether the handlers are registered.
bool installForkSafeLogging();

namespace detail {
/// Locks every live ProgressLine (the fork handlers; taken before the log's own lock).
void lockProgressLinesForFork();
/// Releases what lockProgressLinesForFork took (in the parent).
void unlockProgressLinesAfterFork();
/// The same in the child, which also marks the lines it inherited as copies: their heartbeat thread (and any
/// thread waiting on their condition variable) stayed in the parent, so the child never signals or joins it.
void unlockProgressLinesInChild();
}  // namespace detail

}  // namespace mirtune
