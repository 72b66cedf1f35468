// The runner's view of /proc: its descendants, who holds a pipe, and killing what a program left behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mirtune::runner {

/// One process as /proc/PID/stat shows it.
struct ProcessEntry {
  pid_t pid = 0;
  pid_t parent = 0;
  pid_t group = 0;   ///< process group id
  std::string name;  ///< the kernel's short command name (comm)
  char state = '?';  ///< 'R', 'S', 'D', 'Z' (dead, not yet reaped), ...
};

/// The parent of `pid` as /proc shows it; 0 when the process is gone or cannot be read.
pid_t parentOf(pid_t pid);

/// Whether `ancestor` is the parent of this process, or that parent's parent, and so on up to init.
bool isAncestor(pid_t ancestor);

/// Every process /proc lists now (those that vanish while it is read are left out).
std::vector<ProcessEntry> listProcesses();

/// The processes below `root` in the parent tree (children, their children, ...), `root` itself excluded.
std::vector<ProcessEntry> descendantsOf(pid_t root, const std::vector<ProcessEntry>& table);

/// The inode of the pipe behind `fd` (0 when it is not a pipe or cannot be read).
unsigned long pipeInode(int fd);

/// The descendants of this process outside process group `excludedGroup` that have a descriptor on one of
/// the pipes `inodes` (see pipeInode).
std::vector<ProcessEntry> descendantsHoldingPipes(const std::vector<unsigned long>& inodes,
                                                  pid_t excludedGroup);

/// "pid 123 (sleep), pid 124 (sh)", at most `limit` named, then "and N more".
std::string describeProcesses(const std::vector<ProcessEntry>& processes, std::size_t limit = 4);

/// Kills every descendant of this process with SIGKILL and reaps them, until none is left or `seconds` have
/// passed; returns those it killed. Only for a moment when the runner itself has no child it still waits
/// for: it reaps any child.
std::vector<ProcessEntry> killAllDescendants(double seconds);

}  // namespace mirtune::runner
