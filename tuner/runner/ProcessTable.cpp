// /proc scans of the runner: a program that leaves its process group (setsid) escapes killpg, but as the
// runner is a child subreaper everything it started stays below it in the parent tree.
#include "tuner/runner/ProcessTable.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace mirtune::runner {
namespace {

bool isNumber(const char* text) {
  if (*text == '\0') return false;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9') return false;
  }
  return true;
}

/// Reads "PID (comm) STATE PPID ..."; comm may hold spaces and parentheses, so it ends at the last ')'.
bool readStat(pid_t pid, ProcessEntry& entry) {
  // Plain read(2): the process may end while it is read, which is an ordinary "not there" here.
  const int fd = ::open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[1024];
  const ssize_t got = ::read(fd, buffer, sizeof buffer - 1);
  ::close(fd);
  if (got <= 0) return false;
  const std::string text(buffer, static_cast<std::size_t>(got));
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  std::istringstream rest(text.substr(close + 1));
  char state = 0;
  long parent = 0;
  long group = 0;
  if (!(rest >> state >> parent >> group)) return false;
  entry.pid = pid;
  entry.state = state;
  entry.parent = static_cast<pid_t>(parent);
  entry.group = static_cast<pid_t>(group);
  entry.name = text.substr(open + 1, close - open - 1);
  return true;
}

}  // namespace

pid_t parentOf(pid_t pid) {
  ProcessEntry entry;
  return readStat(pid, entry) ? entry.parent : 0;
}

bool isAncestor(pid_t ancestor) {
  // A bounded walk: the parent chain ends at init (pid 1, whose parent is 0) long before this.
  pid_t pid = ::getppid();
  for (int depth = 0; depth < 64 && pid > 0; ++depth) {
    if (pid == ancestor) return true;
    pid = parentOf(pid);
  }
  return false;
}

std::vector<ProcessEntry> listProcesses() {
  std::vector<ProcessEntry> table;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return table;
  while (const dirent* item = ::readdir(proc)) {
    if (!isNumber(item->d_name)) continue;
    ProcessEntry entry;
    if (readStat(static_cast<pid_t>(std::atol(item->d_name)), entry)) table.push_back(std::move(entry));
  }
  ::closedir(proc);
  return table;
}

std::vector<ProcessEntry> descendantsOf(pid_t root, const std::vector<ProcessEntry>& table) {
  std::multimap<pid_t, const ProcessEntry*> children;
  for (const auto& entry : table) children.emplace(entry.parent, &entry);
  std::vector<ProcessEntry> found;
  std::vector<pid_t> pending = {root};
  std::set<pid_t> seen = {root};
  while (!pending.empty()) {
    const pid_t parent = pending.back();
    pending.pop_back();
    const auto range = children.equal_range(parent);
    for (auto it = range.first; it != range.second; ++it) {
      if (!seen.insert(it->second->pid).second) continue;
      found.push_back(*it->second);
      pending.push_back(it->second->pid);
    }
  }
  return found;
}

unsigned long pipeInode(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISFIFO(info.st_mode)) return 0;
  return static_cast<unsigned long>(info.st_ino);
}

std::vector<ProcessEntry> descendantsHoldingPipes(const std::vector<unsigned long>& inodes,
                                                  pid_t excludedGroup) {
  std::set<std::string> targets;
  for (unsigned long inode : inodes) {
    if (inode != 0) targets.insert(fmt::format("pipe:[{}]", inode));
  }
  std::vector<ProcessEntry> holders;
  if (targets.empty()) return holders;
  for (const auto& entry : descendantsOf(::getpid(), listProcesses())) {
    // A zombie has closed its descriptors; a member of the excluded group is being killed with it already
    // (a large one may take a while to release its memory and then its descriptors).
    if (entry.state == 'Z' || entry.group == excludedGroup) continue;
    const std::string folder = fmt::format("/proc/{}/fd", entry.pid);
    DIR* fds = ::opendir(folder.c_str());
    if (fds == nullptr) continue;  // gone already, or not ours to look into
    bool holds = false;
    while (const dirent* item = ::readdir(fds)) {
      if (!isNumber(item->d_name)) continue;
      char target[64];
      const ssize_t length = ::readlink((folder + "/" + item->d_name).c_str(), target, sizeof target - 1);
      if (length <= 0) continue;
      if (targets.count(std::string(target, static_cast<std::size_t>(length))) != 0) {
        holds = true;
        break;
      }
    }
    ::closedir(fds);
    if (holds) holders.push_back(entry);
  }
  return holders;
}

std::string describeProcesses(const std::vector<ProcessEntry>& processes, std::size_t limit) {
  std::string text;
  for (std::size_t i = 0; i < processes.size() && i < limit; ++i) {
    text += fmt::format("{}pid {} ({})", i == 0 ? "" : ", ", processes[i].pid, processes[i].name);
  }
  if (processes.size() > limit) text += fmt::format(" and {} more", processes.size() - limit);
  return text;
}

std::vector<ProcessEntry> killAllDescendants(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                            std::chrono::duration<double>(seconds));
  std::vector<ProcessEntry> killed;
  std::set<pid_t> signalled;
  for (;;) {
    // Reaping first: zombies are gone already, and "no child at all" (ECHILD) is the cheap common answer.
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0) {
    }
    if (reaped < 0 && errno == ECHILD) return killed;
    if (std::chrono::steady_clock::now() >= until) return killed;
    for (const auto& entry : descendantsOf(::getpid(), listProcesses())) {
      if (entry.state == 'Z') continue;  // dead already; its parent (or this loop) reaps it
      // A process killed by an earlier pass may still be on its way out; it is not counted twice.
      if (::kill(entry.pid, SIGKILL) == 0 && signalled.insert(entry.pid).second) killed.push_back(entry);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace mirtune::runner
