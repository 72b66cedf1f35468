// Subprocesses on Boost.Process: each child leads its own process group so a timeout kills grandchildren too
// (killing only the child would leave them holding the output pipes).
#include "support/Subprocess.h"

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <future>

namespace mirtune {

namespace bp = boost::process;

std::string SubprocessResult::describe() const {
  if (timedOut) return fmt::format("timed out after {:.1f} s", wallSeconds);
  if (termSignal != 0) return fmt::format("killed by signal {} ({})", termSignal, strsignal(termSignal));
  return fmt::format("exit code {}", exitCode);
}

std::filesystem::path findOnPath(const std::string& program) {
  return std::filesystem::path(bp::search_path(program).string());
}

Expected<SubprocessResult> runSubprocess(const SubprocessOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return makeError(ErrorCode::kInternal, "runSubprocess: empty argv");
  }
  const std::string& program = options.argv[0];
  boost::filesystem::path executable;
  if (program.find('/') != std::string::npos) {
    executable = program;
    if (access(program.c_str(), X_OK) != 0) {
      return makeError(ErrorCode::kNotFound, "{}: cannot execute: {}", program, std::strerror(errno));
    }
  } else {
    executable = findOnPath(program).string();
    if (executable.empty()) return makeError(ErrorCode::kNotFound, "{}: program not found on PATH", program);
  }
  std::vector<std::string> arguments(options.argv.begin() + 1, options.argv.end());

  bp::environment environment = boost::this_process::environment();
  for (const auto& name : options.unsetEnvironment) environment.erase(name);
  for (const auto& [name, value] : options.environment) environment[name] = value;

  boost::asio::io_context io;
  bp::group group;
  std::future<std::string> out;
  std::future<std::string> err;
  std::error_code startError;
  auto start = std::chrono::steady_clock::now();
  boost::filesystem::path workingDirectory =
      options.workingDirectory.empty() ? boost::filesystem::current_path()
                                       : boost::filesystem::path(options.workingDirectory.string());

  bp::child child;
  if (options.standardInput.empty()) {
    child = bp::child(executable, bp::args(arguments), environment, bp::start_dir(workingDirectory),
                      bp::std_in < bp::null, bp::std_out > out, bp::std_err > err, io, group, startError);
  } else {
    child = bp::child(executable, bp::args(arguments), environment, bp::start_dir(workingDirectory),
                      bp::std_in < boost::asio::buffer(options.standardInput), bp::std_out > out,
                      bp::std_err > err, io, group, startError);
  }
  if (startError) {
    return makeError(ErrorCode::kIo, "{}: cannot start: {}", program, startError.message());
  }

  SubprocessResult result;
  if (options.timeoutSeconds > 0) {
    io.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(options.timeoutSeconds)));
    if (!io.stopped()) {
      result.timedOut = true;
      std::error_code ignored;
      group.terminate(ignored);
      io.run();
    }
  } else {
    io.run();
  }
  std::error_code waitError;
  child.wait(waitError);
  // Stragglers that left the pipes closed but kept running would otherwise outlive us.
  std::error_code ignored;
  group.terminate(ignored);
  result.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int status = child.native_exit_code();
  if (!result.timedOut) {
    if (WIFEXITED(status)) {
      result.exitCode = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.termSignal = WTERMSIG(status);
    }
  }
  result.standardOutput = out.get();
  result.standardError = err.get();
  return result;
}

}  // namespace mirtune
