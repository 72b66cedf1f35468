// RFC 4180 CSV reader and field quoting.
#include "support/Csv.h"

#include "support/Files.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

namespace mirtune {

Expected<CsvTable> CsvTable::parse(std::string_view text, const std::string& name) {
  CsvTable table;
  table.name_ = name;
  std::vector<std::vector<std::string>> records;
  std::vector<std::size_t> lines;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, fieldStarted = false, afterQuote = false;
  std::size_t line = 1, recordLine = 1;
  auto endField = [&] {
    record.push_back(std::move(field));
    field.clear();
    fieldStarted = afterQuote = false;
  };
  auto endRecord = [&] {
    endField();
    if (!(record.size() == 1 && record[0].empty())) {  // blank lines are skipped
      records.push_back(std::move(record));
      lines.push_back(recordLine);
    }
    record.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          afterQuote = true;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      endField();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      endRecord();
      ++line;
      recordLine = line;
    } else if (c == '"' && !fieldStarted) {
      quoted = fieldStarted = true;
    } else if (afterQuote) {
      return makeError(ErrorCode::kInvalidInput, "{}:{}: text after a closing quote", name, line);
    } else {
      fieldStarted = true;
      field += c;
    }
  }
  if (quoted) return makeError(ErrorCode::kInvalidInput, "{}:{}: quoted field is never closed", name, recordLine);
  if (fieldStarted || !record.empty()) endRecord();
  if (records.empty()) return makeError(ErrorCode::kInvalidInput, "{}: empty CSV file (no header)", name);
  table.header_ = std::move(records.front());
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.header_.size()) {
      return makeError(ErrorCode::kInvalidInput, "{}:{}: {} fields where the header has {}", name, lines[r],
                       records[r].size(), table.header_.size());
    }
    table.records_.push_back(std::move(records[r]));
    table.lines_.push_back(lines[r]);
  }
  return table;
}

Expected<CsvTable> CsvTable::read(const std::filesystem::path& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  return parse(*text, path.string());
}

std::optional<std::size_t> CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

Expected<std::size_t> CsvTable::requireColumn(std::string_view name) const {
  if (auto index = column(name)) return *index;
  return makeError(ErrorCode::kInvalidInput, "{}: no column '{}' in the header", name_, name);
}

Expected<std::map<std::string, std::size_t>> CsvTable::requireColumns(const std::vector<std::string>& names) const {
  std::map<std::string, std::size_t> columns;
  for (const auto& name : names) {
    auto index = requireColumn(name);
    if (!index) return index.error();
    columns[name] = *index;
  }
  return columns;
}

Expected<double> CsvTable::number(std::size_t row, std::size_t column) const {
  const std::string& text = records_[row][column];
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    return makeError(ErrorCode::kInvalidInput, "{}:{}: column '{}' is '{}', not a number", name_, lines_[row],
                     header_[column], text);
  }
  return value;
}

Expected<long long> CsvTable::integer(std::size_t row, std::size_t column) const {
  const std::string& text = records_[row][column];
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    return makeError(ErrorCode::kInvalidInput, "{}:{}: column '{}' is '{}', not an integer", name_, lines_[row],
                     header_[column], text);
  }
  return value;
}

std::string csvField(std::string_view value) {
  if (value.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace mirtune
