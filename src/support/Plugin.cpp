// Finding and opening mirtune's shared modules.
#include "support/Plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> candidates(const std::string& fileName, const std::string& buildPath) {
  std::vector<fs::path> paths;
  if (const char* dir = std::getenv("MIRTUNE_LIB_DIR"); dir != nullptr && *dir != '\0') paths.push_back(fs::path(dir) / fileName);
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back(self.parent_path() / fileName);
    paths.push_back(self.parent_path().parent_path() / "lib" / fileName);
  }
  if (!buildPath.empty()) paths.push_back(buildPath);
  return paths;
}

}  // namespace

Expected<void*> loadPlugin(const std::string& fileName, const std::string& buildPath, int flags) {
  static std::mutex mutex;
  static std::map<std::string, void*> opened;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto found = opened.find(fileName); found != opened.end()) return found->second;
  std::string tried;
  for (const fs::path& candidate : candidates(fileName, buildPath)) {
    std::error_code ec;
    if (!fs::exists(candidate, ec)) continue;
    if (void* handle = dlopen(candidate.c_str(), flags); handle != nullptr) {
      opened[fileName] = handle;
      return handle;
    }
    const char* why = dlerror();
    tried += " " + candidate.string() + " (" + (why != nullptr ? why : "unknown error") + ")";
  }
  return makeError(ErrorCode::kNotFound, "cannot load {}{}; set MIRTUNE_LIB_DIR to its folder", fileName,
                   tried.empty() ? std::string(" (not found)") : ":" + tried);
}

Expected<void*> pluginSymbol(void* handle, const std::string& fileName, const char* name) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) return makeError(ErrorCode::kVersion, "{}: missing symbol {}", fileName, name);
  return symbol;
}

}  // namespace mirtune
