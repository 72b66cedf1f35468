// File helpers and the well-known paths (data sets, database) mirtune uses.
#pragma once

#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace mirtune {

/// Whole file as bytes. Errors name the file: kNotFound when missing, kInvalidInput for a directory.
Expected<std::string> readFile(const std::filesystem::path& path);

/// Writes through a temporary file in the same folder and renames it into place, so a reader never sees a
/// partial file and a failure leaves no file behind.
Status writeFileAtomically(const std::filesystem::path& path, std::string_view content);

/// Whole file parsed as a JSON object (manifests); kNotFound when missing, kInvalidInput (naming the file) when it
/// is not JSON or not an object.
Expected<nlohmann::json> readJsonObject(const std::filesystem::path& path);

/// Runs `read`, which interprets JSON that came from `path`, and turns a JSON type or range error (a field of the
/// wrong type, a missing key read with at()) into kInvalidInput naming the file, so no such error reaches the user
/// without its input.
template <typename Read>
auto readingJsonFrom(const std::filesystem::path& path, Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::exception& e) {
    return makeError(ErrorCode::kInvalidInput, "{}: unexpected content ({})", path.string(), e.what());
  }
}

/// Folder of a model shipped with mirtune: $MIRTUNE_MODELS/<name>, else <shareDirectory()>/embeddings/models/<name>.
std::filesystem::path shippedModelDirectory(std::string_view name);

/// Folder with the (large, downloaded) data sets: $MIRTUNE_DATA if set, otherwise the folder chosen when mirtune was
/// configured (CMake's MIRTUNE_DEFAULT_DATA_DIR, by default ../shared/datasets beside the source tree).
std::filesystem::path dataDirectory();

/// The user's mirtune folder: $XDG_DATA_HOME/mirtune, else ~/.local/share/mirtune. Trained heads and the default
/// database go here, never into the installed or source tree.
std::filesystem::path userDataDirectory();

/// Where `train` writes a task's heads unless told otherwise: <userDataDirectory()>/models/<task>/<name>.
std::filesystem::path userModelDirectory(std::string_view task, std::string_view name);

/// Default SQLite database: $MIRTUNE_DB, else <userDataDirectory()>/mirtune.db.
std::filesystem::path defaultDatabasePath();

/// Folder of the running executable (read from /proc/self/exe); empty when it cannot be read.
std::filesystem::path executableDirectory();

/// Root of the files mirtune ships (embeddings/models, tasks/<task>/models, tasks/<task>/data, kernels), laid out as
/// in the source tree: $MIRTUNE_SHARE if set; else <executableDirectory()>/../share/mirtune when that folder exists
/// (an installed mirtune, wherever its prefix was moved); else the source tree mirtune was built from.
std::filesystem::path shareDirectory();

/// The same folder as shareDirectory(); the name predates installation, when shipped files were only found in the
/// source tree.
std::filesystem::path sourceDirectory();

/// mirtune's version ("0.1.0") and the git commit it was built from ("unknown" outside a checkout).
std::string_view toolVersion();
std::string_view gitCommit();

}  // namespace mirtune
