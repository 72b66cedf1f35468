// Owned folders: the marker, adoption rules and removal that never follows a link.
#include "support/OwnedFolder.h"

#include "support/Files.h"

#include <fmt/format.h>

#include <vector>

namespace mirtune {
namespace fs = std::filesystem;

namespace {

bool isEmptyFolder(const fs::path& folder) {
  std::error_code ec;
  return fs::directory_iterator(folder, ec) == fs::directory_iterator() && !ec;
}

}  // namespace

Expected<fs::path> claimOwnedFolder(const fs::path& requested,
                                    const std::function<bool(const fs::path&)>& adoptIf) {
  std::error_code ec;
  const fs::path folder = fs::absolute(requested, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: {}", requested.string(), ec.message());
  const fs::file_status status = fs::symlink_status(folder, ec);
  if (fs::is_symlink(status)) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: is a symbolic link; mirtune keeps its work files only in a real folder (give the "
                     "folder it points to, or a new one)",
                     folder.string());
  }
  if (fs::exists(status) && !fs::is_directory(status)) {
    return makeError(ErrorCode::kInvalidInput, "{}: exists and is not a folder", folder.string());
  }
  const fs::path marker = folder / kOwnedFolderMarker;
  if (!fs::exists(status)) {
    fs::create_directories(folder, ec);
    if (ec) return makeError(ErrorCode::kIo, "{}: cannot create folder: {}", folder.string(), ec.message());
  } else if (fs::is_regular_file(fs::symlink_status(marker, ec))) {
    return folder;
  } else if (!isEmptyFolder(folder) && !(adoptIf && adoptIf(folder))) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: the folder is not empty and was not made by mirtune (it has no {} file); mirtune "
                     "neither writes into nor cleans such a folder: give a new or empty folder",
                     folder.string(), kOwnedFolderMarker);
  }
  if (auto written = writeFileAtomically(marker, "made by mirtune: it may remove the files it wrote here\n");
      !written) {
    return written.error();
  }
  return folder;
}

Status removeOwnedEntries(const fs::path& folder, const std::function<bool(const std::string&)>& isOurs) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(folder / kOwnedFolderMarker, ec))) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a folder made by mirtune (no {} file); nothing removed",
                     folder.string(), kOwnedFolderMarker);
  }
  std::vector<fs::path> doomed;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != kOwnedFolderMarker && isOurs(name)) doomed.push_back(it->path());
  }
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot list: {}", folder.string(), ec.message());
  for (const fs::path& path : doomed) {
    // remove_all removes a symbolic link itself and never descends through one.
    fs::remove_all(path, ec);
    if (ec) return makeError(ErrorCode::kIo, "{}: cannot remove: {}", path.string(), ec.message());
  }
  return success();
}

Status ensureRealSubfolder(const fs::path& folder) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(folder, ec);
  if (fs::is_symlink(status) || (fs::exists(status) && !fs::is_directory(status))) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: expected a folder made by mirtune, found a symbolic link or a file; mirtune will not "
                     "write through it (remove it, or start the session in a new folder)",
                     folder.string());
  }
  fs::create_directories(folder, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create folder: {}", folder.string(), ec.message());
  return success();
}

}  // namespace mirtune
