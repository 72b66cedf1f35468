// The database schema as numbered migrations; PRAGMA user_version records how many have been applied.
#pragma once

#include <string>
#include <vector>

namespace mirtune {

/// The schema version this code writes and understands.
inline constexpr int kSchemaVersion = 2;

/// One step of the schema: applied in one transaction together with `PRAGMA user_version = version`.
struct Migration {
  int version;              ///< user_version after this step; steps are numbered 1, 2, ...
  std::string description;  ///< one line, for logs
  std::string sql;          ///< DDL (and data fixes) taking version-1 to version
};

/// All migrations in order; the last one's version is kSchemaVersion. A released step is never edited:
/// a change to the schema is a new step at the end.
const std::vector<Migration>& schemaMigrations();

}  // namespace mirtune
