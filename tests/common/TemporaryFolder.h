// A uniquely named folder under the system temporary directory, removed with everything in it at scope exit.
#pragma once

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

namespace mirtune {

class TemporaryFolder {
 public:
  /// <tmp>/<prefix>-<name>-<pid>-<clock>, created.
  TemporaryFolder(const std::string& prefix, const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("{}-{}-{}-{}", prefix, name, ::getpid(),
                        std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::create_directories(path_);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// A database file inside the folder, for `mirtune --db`.
  std::string db() const { return (path_ / "mirtune.db").string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace mirtune
