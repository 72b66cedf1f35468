// Database::exportTable: whole tables as RFC 4180 CSV or as a JSON array of typed objects.
#include "database/Database.h"

#include "database/SqliteStatement.h"
#include "support/Sha256.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace mirtune {

using detail::SqliteStatement;

namespace {

// The one BLOB column that holds float32 values rather than opaque bytes.
bool isFloatVector(std::string_view table, std::string_view column) {
  return table == "embeddings" && column == "vector";
}

std::string csvField(std::string_view text) {
  bool needsQuotes = text.empty() || text.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!needsQuotes) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

// Shortest text that reads back to the same float, so 0.1f is exported as 0.1 and not 0.10000000149011612. It
// always reads as a real ("1.0", "-0.0"): JSON readers take "-0" for the integer 0 and would lose the sign.
std::string floatText(float value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string floatVectorText(const std::vector<std::uint8_t>& bytes) {
  std::vector<float> values = detail::decodeFloat32(bytes);
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += floatText(values[i]);
  }
  text += ']';
  return text;
}

std::string csvValue(const SqliteStatement& row, int column, std::string_view table, std::string_view name) {
  switch (row.columnType(column)) {
    case SQLITE_NULL:
      return std::string();
    case SQLITE_INTEGER:
      return fmt::format("{}", row.columnInt(column));
    case SQLITE_FLOAT:
      return fmt::format("{}", row.columnDouble(column));
    case SQLITE_BLOB: {
      std::vector<std::uint8_t> bytes = row.columnBlob(column);
      return csvField(isFloatVector(table, name) ? floatVectorText(bytes)
                                                 : toHex(bytes.data(), bytes.size()));
    }
    default:
      return csvField(row.columnText(column));
  }
}

nlohmann::ordered_json jsonValue(const SqliteStatement& row, int column, std::string_view table,
                                 std::string_view name) {
  switch (row.columnType(column)) {
    case SQLITE_NULL:
      return nullptr;
    case SQLITE_INTEGER:
      return row.columnInt(column);
    case SQLITE_FLOAT:
      return row.columnDouble(column);
    case SQLITE_BLOB: {
      std::vector<std::uint8_t> bytes = row.columnBlob(column);
      if (!isFloatVector(table, name)) return toHex(bytes.data(), bytes.size());
      nlohmann::ordered_json values = nlohmann::ordered_json::array();
      // Through the float's shortest text, so the JSON number is the one a reader expects to see.
      for (float value : detail::decodeFloat32(bytes))
        values.push_back(std::strtod(floatText(value).c_str(), nullptr));
      return values;
    }
    default:
      return row.columnText(column);
  }
}

}  // namespace

Status Database::exportTable(std::string_view table, ExportFormat format, std::ostream& out) const {
  const auto& names = tableNames();
  if (std::find(names.begin(), names.end(), table) == names.end()) {
    return makeError(ErrorCode::kNotFound, "unknown table '{}' (valid: {})", table, fmt::join(names, ", "));
  }
  // The name was checked against the fixed table list; identifiers cannot be bound parameters.
  auto select = SqliteStatement::prepare(db_.get(), fmt::format("SELECT * FROM {} ORDER BY rowid", table));
  if (!select) return select.error();
  int columns = select->columnCount();
  std::vector<std::string> columnNames;
  for (int c = 0; c < columns; ++c) columnNames.push_back(select->columnName(c));

  if (format == ExportFormat::kCsv) {
    for (int c = 0; c < columns; ++c)
      out << (c > 0 ? "," : "") << csvField(columnNames[static_cast<std::size_t>(c)]);
    out << "\r\n";
  } else {
    out << "[";
  }
  bool first = true;
  for (;;) {
    auto row = select->step(fmt::format("export {}", table));
    if (!row) return row.error();
    if (!*row) break;
    if (format == ExportFormat::kCsv) {
      for (int c = 0; c < columns; ++c) {
        out << (c > 0 ? "," : "") << csvValue(*select, c, table, columnNames[static_cast<std::size_t>(c)]);
      }
      out << "\r\n";
    } else {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
      for (int c = 0; c < columns; ++c) {
        const std::string& name = columnNames[static_cast<std::size_t>(c)];
        object[name] = jsonValue(*select, c, table, name);
      }
      out << (first ? "\n" : ",\n")
          << object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
    first = false;
  }
  if (format == ExportFormat::kJson) out << (first ? "]\n" : "\n]\n");
  out.flush();
  if (!out) return makeError(ErrorCode::kIo, "export {}: write failed", table);
  return success();
}

}  // namespace mirtune
