// Loading and cross-checking the device-mapping CSVs.
#include "tasks/devmap/DevmapData.h"

#include "support/Csv.h"
#include "support/Files.h"

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace mirtune::devmap {

namespace fs = std::filesystem;

Expected<Device> parseDevice(std::string_view name) {
  if (name == "CPU" || name == "cpu") return Device::kCpu;
  if (name == "GPU" || name == "gpu") return Device::kGpu;
  return makeError(ErrorCode::kInvalidInput, "'{}' is not a device (CPU or GPU)", name);
}

Expected<std::size_t> platformIndex(std::string_view name) {
  for (std::size_t i = 0; i < kPlatforms.size(); ++i) {
    if (kPlatforms[i].name == name) return i;
  }
  return makeError(ErrorCode::kUsage, "unknown platform '{}' (amd or nvidia)", name);
}

Expected<std::vector<std::size_t>> platformIndices(std::string_view name) {
  if (name == "all") {
    std::vector<std::size_t> all(kPlatforms.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return all;
  }
  auto index = platformIndex(name);
  if (!index) return index.error();
  return std::vector<std::size_t>{*index};
}

fs::path defaultDevmapDirectory() { return dataDirectory() / "devmap"; }

namespace {

// Text key that identifies a row across the 680- and 669-row files (checked unique).
using RowKey = std::tuple<std::string, std::string, std::string, std::string>;

struct Columns {
  std::size_t benchmark, dataset, transfer, wgsize, oracle, runtimeCpu, runtimeGpu, source;
};

Expected<Columns> columnsOf(const CsvTable& table) {
  Columns c{};
  std::pair<const char*, std::size_t*> wanted[] = {
      {"benchmark", &c.benchmark},     {"dataset", &c.dataset},         {"transfer", &c.transfer},
      {"wgsize", &c.wgsize},           {"oracle", &c.oracle},           {"runtime_cpu", &c.runtimeCpu},
      {"runtime_gpu", &c.runtimeGpu},  {"src", &c.source}};
  for (auto& [name, index] : wanted) {
    auto found = table.requireColumn(name);
    if (!found) return found.error();
    *index = *found;
  }
  return c;
}

RowKey keyOf(const CsvTable& table, const Columns& c, std::size_t r) {
  const auto& record = table.record(r);
  return {record[c.transfer], record[c.wgsize], record[c.runtimeCpu], record[c.runtimeGpu]};
}

Error mismatch(const CsvTable& table, std::size_t r, std::string_view what) {
  return makeError(ErrorCode::kInvalidInput, "{}:{}: {} differs from cgo17-amd.csv", table.name(), table.lineOf(r), what);
}

}  // namespace

Expected<DevmapData> loadDevmapData(const fs::path& directory) {
  if (!fs::is_directory(directory)) {
    return makeError(ErrorCode::kNotFound,
                     "{}: no device-mapping data set here (set $MIRTUNE_DATA to the folder holding devmap/; the "
                     "README says where to get it)",
                     directory.string());
  }
  DevmapData data;
  data.directory = directory;
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
    auto table = CsvTable::read(directory / kPlatforms[p].csvFile);
    if (!table) return table.error();
    auto c = columnsOf(*table);
    if (!c) return c.error();
    if (p == 0) data.rows.resize(table->rows());
    if (table->rows() != data.rows.size()) {
      return makeError(ErrorCode::kInvalidInput, "{}: {} rows where {} has {}", table->name(), table->rows(),
                       kPlatforms[0].csvFile, data.rows.size());
    }
    for (std::size_t r = 0; r < table->rows(); ++r) {
      const auto& record = table->record(r);
      DevmapRow& row = data.rows[r];
      auto transfer = table->number(r, c->transfer);
      auto wgsize = table->number(r, c->wgsize);
      auto cpu = table->number(r, c->runtimeCpu);
      auto gpu = table->number(r, c->runtimeGpu);
      auto oracle = parseDevice(record[c->oracle]);
      if (!transfer) return transfer.error();
      if (!wgsize) return wgsize.error();
      if (!cpu) return cpu.error();
      if (!gpu) return gpu.error();
      if (!oracle) return oracle.error().withContext(fmt::format("{}:{}", table->name(), table->lineOf(r)));
      if (p == 0) {
        row.row = r;
        row.benchmark = record[c->benchmark];
        row.dataset = record[c->dataset];
        row.runtimeCpu = *cpu;
        row.source = record[c->source];
      } else if (row.benchmark != record[c->benchmark] || row.dataset != record[c->dataset] ||
                 row.runtimeCpu != *cpu) {
        return mismatch(*table, r, "benchmark, dataset or runtime_cpu");
      }
      row.transfer[p] = *transfer;
      row.wgsize[p] = *wgsize;
      row.runtimeGpu[p] = *gpu;
      row.oracle[p] = *oracle;
    }
  }

  // Published folds.
  {
    auto table = CsvTable::read(directory / "folds_pact17_seed204.csv");
    if (!table) return table.error();
    auto platformColumn = table->requireColumn("platform");
    auto rowColumn = table->requireColumn("row");
    auto foldColumn = table->requireColumn("fold");
    if (!platformColumn) return platformColumn.error();
    if (!rowColumn) return rowColumn.error();
    if (!foldColumn) return foldColumn.error();
    std::array<std::size_t, 2> seen{};
    for (std::size_t r = 0; r < table->rows(); ++r) {
      auto platform = platformIndex(table->record(r)[*platformColumn]);
      auto row = table->integer(r, *rowColumn);
      auto fold = table->integer(r, *foldColumn);
      if (!platform) return platform.error().withContext(fmt::format("{}:{}", table->name(), table->lineOf(r)));
      if (!row) return row.error();
      if (!fold) return fold.error();
      if (*row < 0 || static_cast<std::size_t>(*row) >= data.rows.size() || *fold < 0 || *fold > 9) {
        return makeError(ErrorCode::kInvalidInput, "{}:{}: row or fold out of range", table->name(), table->lineOf(r));
      }
      data.rows[*row].fold[*platform] = static_cast<int>(*fold);
      ++seen[*platform];
    }
    for (std::size_t p = 0; p < 2; ++p) {
      if (seen[p] != data.rows.size()) {
        return makeError(ErrorCode::kInvalidInput, "{}: {} folds for {} rows of {}", table->name(), seen[p],
                         data.rows.size(), kPlatforms[p].name);
      }
    }
  }

  // NCC IR file of each row.
  {
    auto table = CsvTable::read(directory / "row_to_ir.csv");
    if (!table) return table.error();
    auto rowColumn = table->requireColumn("row");
    auto fileColumn = table->requireColumn("ir_file");
    if (!rowColumn) return rowColumn.error();
    if (!fileColumn) return fileColumn.error();
    for (std::size_t r = 0; r < table->rows(); ++r) {
      auto row = table->integer(r, *rowColumn);
      if (!row) return row.error();
      if (*row < 0 || static_cast<std::size_t>(*row) >= data.rows.size()) {
        return makeError(ErrorCode::kInvalidInput, "{}:{}: row out of range", table->name(), table->lineOf(r));
      }
      data.rows[*row].irFile = table->record(r)[*fileColumn];
    }
  }

  // IR2Vec's 669-row subset: matched to our rows by (transfer, wgsize, runtime_cpu, runtime_gpu), which is
  // unique in each platform's 680-row file; both platforms must select the same rows.
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
    auto full = CsvTable::read(directory / kPlatforms[p].csvFile);
    auto subset = CsvTable::read(directory / "ir2vec_669rows" / kPlatforms[p].csvFile);
    if (!full) return full.error();
    if (!subset) return subset.error();
    auto fullColumns = columnsOf(*full);
    auto subsetColumns = columnsOf(*subset);
    if (!subsetColumns) return subsetColumns.error();
    std::map<RowKey, std::size_t> rowOfKey;
    for (std::size_t r = 0; r < full->rows(); ++r) rowOfKey.emplace(keyOf(*full, *fullColumns, r), r);
    std::vector<bool> selected(data.rows.size(), false);
    for (std::size_t r = 0; r < subset->rows(); ++r) {
      auto found = rowOfKey.find(keyOf(*subset, *subsetColumns, r));
      if (found == rowOfKey.end()) {
        return makeError(ErrorCode::kInvalidInput, "{}:{}: row matches no row of {}", subset->name(),
                         subset->lineOf(r), kPlatforms[p].csvFile);
      }
      selected[found->second] = true;
    }
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      if (p == 0) {
        data.rows[r].in669 = selected[r];
      } else if (data.rows[r].in669 != selected[r]) {
        return makeError(ErrorCode::kInvalidInput, "{}: selects other rows than the {} file (row {})", subset->name(),
                         kPlatforms[0].name, r);
      }
    }
  }
  return data;
}

Expected<std::vector<std::size_t>> rowSet(const DevmapData& data, std::string_view name) {
  if (name != "680" && name != "669") return makeError(ErrorCode::kUsage, "unknown row set '{}' (680 or 669)", name);
  std::vector<std::size_t> rows;
  for (const DevmapRow& row : data.rows) {
    if (name == "680" || row.in669) rows.push_back(row.row);
  }
  return rows;
}

}  // namespace mirtune::devmap
