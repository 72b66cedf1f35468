// File helpers and well-known paths.
#include "support/Files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

namespace mirtune {

namespace fs = std::filesystem;

Expected<std::string> readFile(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return makeError(ErrorCode::kNotFound, "{}: no such file", path.string());
  if (fs::is_directory(status)) return makeError(ErrorCode::kInvalidInput, "{}: is a directory", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kIo, "{}: cannot open: {}", path.string(), std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return makeError(ErrorCode::kIo, "{}: read error", path.string());
  return content;
}

Status writeFileAtomically(const fs::path& path, std::string_view content) {
  fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::random_device random;
  fs::path temporary = folder / fmt::format(".{}.tmp{:08x}", path.filename().string(), random());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return makeError(ErrorCode::kIo, "{}: cannot write: {}", path.string(), std::strerror(errno));
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return makeError(ErrorCode::kIo, "{}: write failed: {}", path.string(), std::strerror(saved));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temporary.c_str());
    return makeError(ErrorCode::kIo, "{}: cannot write: {}", path.string(), std::strerror(saved));
  }
  return success();
}

Expected<nlohmann::json> readJsonObject(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a JSON object", path.string());
  }
  return json;
}

fs::path shippedModelDirectory(std::string_view name) {
  if (const char* models = std::getenv("MIRTUNE_MODELS"); models != nullptr && *models != '\0') {
    return fs::path(models) / name;
  }
  return shareDirectory() / "embeddings" / "models" / name;
}

fs::path dataDirectory() {
  if (const char* env = std::getenv("MIRTUNE_DATA"); env != nullptr && *env != '\0') return fs::path(env);
  return fs::path(MIRTUNE_DEFAULT_DATA_DIR).lexically_normal();
}

fs::path userDataDirectory() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "mirtune";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr && *home != '\0' ? home : ".") / ".local" / "share" / "mirtune";
}

fs::path userModelDirectory(std::string_view task, std::string_view name) {
  return userDataDirectory() / "models" / task / name;
}

fs::path defaultDatabasePath() {
  if (const char* env = std::getenv("MIRTUNE_DB"); env != nullptr && *env != '\0') return fs::path(env);
  return userDataDirectory() / "mirtune.db";
}

fs::path executableDirectory() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return self.parent_path();
}

namespace {

// <bin>/../share/mirtune of the running executable when it exists; empty otherwise (a build-tree binary).
fs::path installedShareDirectory() {
  const fs::path bin = executableDirectory();
  if (bin.empty()) return {};
  fs::path share = (bin.parent_path() / "share" / "mirtune").lexically_normal();
  std::error_code ec;
  return fs::is_directory(share, ec) ? share : fs::path();
}

}  // namespace

fs::path shareDirectory() {
  if (const char* env = std::getenv("MIRTUNE_SHARE"); env != nullptr && *env != '\0') return fs::path(env);
  // Resolved once: the executable does not move while it runs.
  static const fs::path installed = installedShareDirectory();
  if (!installed.empty()) return installed;
  return fs::path(MIRTUNE_SOURCE_DIR);
}

fs::path sourceDirectory() { return shareDirectory(); }

std::string_view toolVersion() { return MIRTUNE_VERSION; }
std::string_view gitCommit() { return MIRTUNE_GIT_COMMIT; }

}  // namespace mirtune
