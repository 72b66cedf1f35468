// Folders mirtune may write into and clean: a marker file says mirtune made them, and only entries mirtune names
// are ever removed, never through a symbolic link.
#pragma once

#include "support/Error.h"

#include <filesystem>
#include <functional>
#include <string>

namespace mirtune {

/// The marker file's name inside a folder mirtune owns.
inline constexpr const char* kOwnedFolderMarker = ".mirtune-owned";

/// Makes `folder` one of mirtune's: created (with its parents) when missing; adopted when it is empty, or when
/// `adoptIf` (may be empty) says a folder without a marker holds only what an earlier mirtune wrote there; kept
/// when it already has the marker. Refused (kInvalidInput, naming the folder) when it is a symbolic link, not a
/// folder, or a non-empty folder that mirtune did not make — mirtune never writes into or cleans such a folder.
/// Returns the folder as an absolute path.
Expected<std::filesystem::path> claimOwnedFolder(
    const std::filesystem::path& folder,
    const std::function<bool(const std::filesystem::path&)>& adoptIf = {});

/// Removes the entries of an owned folder for which `isOurs(name)` holds: a file or a symbolic link is unlinked
/// (a link's target is never touched), a real sub-folder removed with its contents. Refused when the folder has
/// no marker.
Status removeOwnedEntries(const std::filesystem::path& folder,
                          const std::function<bool(const std::string&)>& isOurs);

/// A sub-folder of an owned folder that is a real folder (created when missing): a symbolic link or a file in
/// its place is an error naming it, so nothing is written outside the owned folder through it.
Status ensureRealSubfolder(const std::filesystem::path& folder);

}  // namespace mirtune
