// RFC 4180 CSV: quoted fields with commas, doubled quotes and line breaks (the data sets keep kernel sources
// in a column), and a writer that quotes only where needed.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// A parsed CSV file: the header and the records, each with as many fields as the header.
class CsvTable {
 public:
  /// Parses `text`; `name` (a path) is used in errors, which give the line where the bad record starts.
  static Expected<CsvTable> parse(std::string_view text, const std::string& name);
  static Expected<CsvTable> read(const std::filesystem::path& path);

  const std::vector<std::string>& header() const { return header_; }
  std::size_t rows() const { return records_.size(); }
  const std::vector<std::string>& record(std::size_t row) const { return records_[row]; }
  /// Index of a header column, or nullopt.
  std::optional<std::size_t> column(std::string_view name) const;
  /// Index of a header column; kInvalidInput naming the file and the column when it is missing.
  Expected<std::size_t> requireColumn(std::string_view name) const;
  /// requireColumn for each name: the index of every one, or the error of the first that is missing.
  Expected<std::map<std::string, std::size_t>> requireColumns(const std::vector<std::string>& names) const;
  /// First line (1-based) of a record in the file, for error messages.
  std::size_t lineOf(std::size_t row) const { return lines_[row]; }
  const std::string& name() const { return name_; }

  /// A field as a number; kInvalidInput naming the file, line and column otherwise.
  Expected<double> number(std::size_t row, std::size_t column) const;
  Expected<long long> integer(std::size_t row, std::size_t column) const;

 private:
  std::string name_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> records_;
  std::vector<std::size_t> lines_;
};

/// A field quoted for CSV when it holds a comma, quote or line break.
std::string csvField(std::string_view value);

}  // namespace mirtune
