// RAII wrappers over the SQLite C API used by the database layer.
#include "database/SqliteStatement.h"

#include <fmt/format.h>

#include <cstring>
#include <utility>

namespace mirtune::detail {

Error sqliteError(sqlite3* db, std::string_view what) {
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return makeError(ErrorCode::kDatabase, "{}: {}: {}",
                   file != nullptr && *file != '\0' ? file : ":memory:", what, message);
}

std::vector<std::uint8_t> encodeFloat32(const std::vector<float>& values) {
  std::vector<std::uint8_t> bytes;
  bytes.reserve(values.size() * 4);
  for (float value : values) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<std::uint8_t>(bits >> shift));
  }
  return bytes;
}

std::vector<float> decodeFloat32(const std::uint8_t* bytes, std::size_t size) {
  std::vector<float> values(size / 4);
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint32_t bits = 0;
    for (std::size_t b = 0; b < 4; ++b) bits |= static_cast<std::uint32_t>(bytes[i * 4 + b]) << (8 * b);
    std::memcpy(&values[i], &bits, sizeof bits);
  }
  return values;
}

Status execute(sqlite3* db, std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    const char* file = sqlite3_db_filename(db, "main");
    return makeError(ErrorCode::kDatabase, "{}: {}",
                     file != nullptr && *file != '\0' ? file : ":memory:", detail);
  }
  return success();
}

Expected<SqliteStatement> SqliteStatement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement, nullptr) != SQLITE_OK) {
    return sqliteError(db, fmt::format("cannot prepare '{}'", sql.substr(0, 60)));
  }
  return SqliteStatement(db, statement);
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_),
      statement_(std::exchange(other.statement_, nullptr)),
      bindError_(std::exchange(other.bindError_, std::nullopt)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    db_ = other.db_;
    statement_ = std::exchange(other.statement_, nullptr);
    bindError_ = std::exchange(other.bindError_, std::nullopt);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(statement_);
}

void SqliteStatement::checkBind(int code, int index) {
  if (code == SQLITE_OK || bindError_) return;
  const char* file = db_ != nullptr ? sqlite3_db_filename(db_, "main") : nullptr;
  const char* sql = sqlite3_sql(statement_);
  bindError_ = makeError(ErrorCode::kDatabase, "{}: cannot bind parameter {} of '{}': {}",
                         file != nullptr && *file != '\0' ? file : ":memory:", index,
                         std::string_view(sql != nullptr ? sql : "").substr(0, 60), sqlite3_errstr(code));
}

void SqliteStatement::bind(int index, std::int64_t value) {
  checkBind(sqlite3_bind_int64(statement_, index, value), index);
}
void SqliteStatement::bind(int index, double value) {
  checkBind(sqlite3_bind_double(statement_, index, value), index);
}
void SqliteStatement::bind(int index, std::string_view text) {
  checkBind(sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
            index);
}
void SqliteStatement::bind(int index, const std::optional<std::string>& text) {
  if (text)
    bind(index, std::string_view(*text));
  else
    bindNull(index);
}
void SqliteStatement::bind(int index, const std::optional<std::int64_t>& value) {
  if (value)
    bind(index, *value);
  else
    bindNull(index);
}
void SqliteStatement::bind(int index, const std::optional<double>& value) {
  if (value)
    bind(index, *value);
  else
    bindNull(index);
}
void SqliteStatement::bindBlob(int index, const std::vector<std::uint8_t>& bytes) {
  // A zero-length blob bound from a null pointer would read back as NULL; bind a real empty blob instead.
  static const std::uint8_t kEmpty = 0;
  checkBind(sqlite3_bind_blob64(statement_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                                SQLITE_TRANSIENT),
            index);
}
void SqliteStatement::bindNull(int index) {
  checkBind(sqlite3_bind_null(statement_, index), index);
}

Expected<bool> SqliteStatement::step(std::string_view what) {
  if (bindError_) return *bindError_;
  int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  Error error = sqliteError(db_, what);
  sqlite3_reset(statement_);
  return error;
}

int SqliteStatement::columnCount() const {
  return sqlite3_column_count(statement_);
}
std::string SqliteStatement::columnName(int column) const {
  return sqlite3_column_name(statement_, column);
}
int SqliteStatement::columnType(int column) const {
  return sqlite3_column_type(statement_, column);
}
bool SqliteStatement::isNull(int column) const {
  return columnType(column) == SQLITE_NULL;
}
std::int64_t SqliteStatement::columnInt(int column) const {
  return sqlite3_column_int64(statement_, column);
}
double SqliteStatement::columnDouble(int column) const {
  return sqlite3_column_double(statement_, column);
}

std::string SqliteStatement::columnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  int size = sqlite3_column_bytes(statement_, column);  // after column_text, so it counts the UTF-8 bytes
  return text != nullptr ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> SqliteStatement::columnOptionalText(int column) const {
  if (isNull(column)) return std::nullopt;
  return columnText(column);
}
std::optional<std::int64_t> SqliteStatement::columnOptionalInt(int column) const {
  if (isNull(column)) return std::nullopt;
  return columnInt(column);
}
std::optional<double> SqliteStatement::columnOptionalDouble(int column) const {
  if (isNull(column)) return std::nullopt;
  return columnDouble(column);
}

std::vector<std::uint8_t> SqliteStatement::columnBlob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_, column));
  int size = sqlite3_column_bytes(statement_, column);
  if (data == nullptr || size <= 0) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

Expected<WriteTransaction> WriteTransaction::begin(sqlite3* db) {
  if (Status status = execute(db, "BEGIN IMMEDIATE"); !status) return status.error();
  return WriteTransaction(db);
}

WriteTransaction::WriteTransaction(WriteTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

WriteTransaction::~WriteTransaction() {
  if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status WriteTransaction::commit() {
  if (Status status = execute(db_, "COMMIT"); !status) return status;
  db_ = nullptr;
  return success();
}

}  // namespace mirtune::detail
