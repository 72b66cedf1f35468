// Internal to mirtune_database: RAII wrappers for a prepared SQLite statement and a write transaction.
#pragma once

#include "support/Error.h"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::detail {

/// "<file>: <what>: <sqlite message>" as a kDatabase error.
Error sqliteError(sqlite3* db, std::string_view what);

/// Floats as little-endian IEEE-754 float32 bytes (the embeddings vector BLOB), whatever the host's byte
/// order.
std::vector<std::uint8_t> encodeFloat32(const std::vector<float>& values);
/// The inverse of encodeFloat32; a trailing partial float is ignored.
std::vector<float> decodeFloat32(const std::uint8_t* bytes, std::size_t size);
inline std::vector<float> decodeFloat32(const std::vector<std::uint8_t>& bytes) {
  return decodeFloat32(bytes.data(), bytes.size());
}

/// Runs SQL with no parameters and no result rows (may hold several statements).
Status execute(sqlite3* db, std::string_view sql);

/// A prepared statement. Parameters are bound by 1-based index; values are never spliced into SQL text. A bind
/// that SQLite refuses (index out of range, value too big, out of memory) is kept, and the next step() returns it
/// as an Error instead of running the statement with a parameter missing.
class SqliteStatement {
 public:
  static Expected<SqliteStatement> prepare(sqlite3* db, std::string_view sql);
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind(int index, std::string_view text);
  void bind(int index, const std::optional<std::string>& text);
  void bind(int index, const std::optional<std::int64_t>& value);
  void bind(int index, const std::optional<double>& value);
  void bindBlob(int index, const std::vector<std::uint8_t>& bytes);
  void bindNull(int index);

  /// Advances: true when a row is ready, false when done, an Error (naming `what`) on failure.
  Expected<bool> step(std::string_view what);

  int columnCount() const;
  std::string columnName(int column) const;
  int columnType(
      int column) const;  ///< SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL
  bool isNull(int column) const;
  std::int64_t columnInt(int column) const;
  double columnDouble(int column) const;
  std::string columnText(int column) const;
  std::optional<std::string> columnOptionalText(int column) const;
  std::optional<std::int64_t> columnOptionalInt(int column) const;
  std::optional<double> columnOptionalDouble(int column) const;
  std::vector<std::uint8_t> columnBlob(int column) const;

 private:
  SqliteStatement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}

  void checkBind(int code, int index);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
  std::optional<Error> bindError_;
};

/// BEGIN IMMEDIATE ... COMMIT; rolled back when destroyed uncommitted. IMMEDIATE takes the write lock up
/// front, so a concurrent writer waits in the busy handler instead of failing later with SQLITE_BUSY on lock
/// upgrade.
class WriteTransaction {
 public:
  static Expected<WriteTransaction> begin(sqlite3* db);
  WriteTransaction(WriteTransaction&& other) noexcept;
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();

  Status commit();

 private:
  explicit WriteTransaction(sqlite3* db) : db_(db) {}

  sqlite3* db_ = nullptr;
};

}  // namespace mirtune::detail
