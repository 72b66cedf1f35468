// Loading and cross-checking the thread-coarsening runtimes, oracles and IR files.
#include "tasks/coarsen/CoarsenData.h"

#include "support/Csv.h"
#include "support/Files.h"
#include "support/Sha256.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <map>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

Expected<std::size_t> factorIndex(int factor) {
  for (std::size_t i = 0; i < kFactors.size(); ++i) {
    if (kFactors[i] == factor) return i;
  }
  return makeError(ErrorCode::kInvalidInput, "{} is not a coarsening factor ({})", factor, fmt::join(kFactors, ", "));
}

Expected<std::size_t> platformIndex(std::string_view name) {
  for (std::size_t i = 0; i < kPlatforms.size(); ++i) {
    if (kPlatforms[i].name == name || kPlatforms[i].column == name || kPlatforms[i].hardware == name) return i;
  }
  return makeError(ErrorCode::kUsage, "unknown platform '{}' (cypress, tahiti, fermi or kepler)", name);
}

int CoarsenKernel::largestFactor(std::size_t platform) const {
  int largest = kFactors.front();
  for (std::size_t f = 0; f < kFactors.size(); ++f) {
    if (measured(platform, f)) largest = kFactors[f];
  }
  return largest;
}

int CoarsenKernel::clip(std::size_t platform, int factor) const { return std::min(factor, largestFactor(platform)); }

double CoarsenKernel::speedup(std::size_t platform, int factor) const {
  auto index = factorIndex(clip(platform, factor));
  if (!index || !measured(platform, *index)) return std::numeric_limits<double>::quiet_NaN();
  return runtime[platform][0] / runtime[platform][*index];
}

Expected<std::size_t> CoarsenData::kernelIndex(std::string_view name) const {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    if (kernels[k].name == name) return k;
    names.push_back(kernels[k].name);
  }
  return makeError(ErrorCode::kNotFound, "no kernel '{}' in the coarsening data set (kernels: {})", name,
                   fmt::join(names, ", "));
}

std::vector<std::size_t> CoarsenData::sameIr(std::size_t kernel) const {
  std::vector<std::size_t> same;
  for (std::size_t k = 0; k < kernels.size(); ++k) {
    if (kernels[k].irFileSha256 == kernels[kernel].irFileSha256) same.push_back(k);
  }
  return same;
}

fs::path defaultCoarsenDirectory() { return dataDirectory() / "tcoarsening"; }

namespace {

// Runtimes: one row per (kernel, factor); an empty runtime is a factor that was not measured on that GPU.
Status readRuntimes(const fs::path& path, CoarsenData& data) {
  auto table = CsvTable::read(path);
  if (!table) return table.error();
  auto kernelColumn = table->requireColumn("kernel");
  auto factorColumn = table->requireColumn("cf");
  auto sourceColumn = table->requireColumn("src");
  if (!kernelColumn) return kernelColumn.error();
  if (!factorColumn) return factorColumn.error();
  if (!sourceColumn) return sourceColumn.error();
  std::array<std::size_t, kPlatforms.size()> runtimeColumn{};
  for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
    auto column = table->requireColumn(fmt::format("runtime_{}", kPlatforms[p].column));
    if (!column) return column.error();
    runtimeColumn[p] = *column;
  }
  std::map<std::string, CoarsenKernel> byName;
  std::map<std::string, std::array<bool, kFactors.size()>> seen;
  for (std::size_t r = 0; r < table->rows(); ++r) {
    const auto& record = table->record(r);
    std::string where = fmt::format("{}:{}", table->name(), table->lineOf(r));
    auto factorValue = table->number(r, *factorColumn);
    if (!factorValue) return factorValue.error();
    auto factor = factorIndex(static_cast<int>(*factorValue));
    if (!factor || *factorValue != static_cast<int>(*factorValue)) {
      return makeError(ErrorCode::kInvalidInput, "{}: cf {} is not a coarsening factor ({})", where,
                       record[*factorColumn], fmt::join(kFactors, ", "));
    }
    const std::string& name = record[*kernelColumn];
    if (name.empty()) return makeError(ErrorCode::kInvalidInput, "{}: empty kernel name", where);
    auto [it, inserted] = byName.try_emplace(name);
    CoarsenKernel& kernel = it->second;
    if (inserted) {
      kernel.name = name;
      kernel.source = record[*sourceColumn];
      for (auto& perPlatform : kernel.runtime) perPlatform.fill(std::numeric_limits<double>::quiet_NaN());
    } else if (kernel.source != record[*sourceColumn]) {
      return makeError(ErrorCode::kInvalidInput, "{}: kernel {} has another src than on its first row", where, name);
    }
    if (seen[name][*factor]) {
      return makeError(ErrorCode::kInvalidInput, "{}: second row for kernel {} at cf {}", where, name,
                       kFactors[*factor]);
    }
    seen[name][*factor] = true;
    for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
      if (record[runtimeColumn[p]].empty()) continue;
      auto runtime = table->number(r, runtimeColumn[p]);
      if (!runtime) return runtime.error();
      if (!(*runtime > 0) || !std::isfinite(*runtime)) {
        return makeError(ErrorCode::kInvalidInput, "{}: runtime_{} is {}, not a positive time", where,
                         kPlatforms[p].column, *runtime);
      }
      kernel.runtime[p][*factor] = *runtime;
    }
  }
  for (auto& [name, kernel] : byName) {
    for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
      if (!kernel.measured(p, 0)) {
        return makeError(ErrorCode::kInvalidInput, "{}: kernel {} has no runtime_{} at cf 1 (speedups are over it)",
                         table->name(), name, kPlatforms[p].column);
      }
    }
    data.kernels.push_back(std::move(kernel));  // std::map: sorted by name
  }
  if (data.kernels.empty()) return makeError(ErrorCode::kInvalidInput, "{}: no rows", table->name());
  return success();
}

// Oracles: the fastest factor per platform, which must be the fastest measured runtime.
Status readOracles(const fs::path& path, CoarsenData& data) {
  auto table = CsvTable::read(path);
  if (!table) return table.error();
  auto kernelColumn = table->requireColumn("kernel");
  if (!kernelColumn) return kernelColumn.error();
  std::vector<bool> found(data.kernels.size(), false);
  for (std::size_t r = 0; r < table->rows(); ++r) {
    std::string where = fmt::format("{}:{}", table->name(), table->lineOf(r));
    auto kernel = data.kernelIndex(table->record(r)[*kernelColumn]);
    if (!kernel) return kernel.error().withContext(where);
    found[*kernel] = true;
    CoarsenKernel& entry = data.kernels[*kernel];
    for (std::size_t p = 0; p < kPlatforms.size(); ++p) {
      auto column = table->requireColumn(fmt::format("cf_{}", kPlatforms[p].column));
      if (!column) return column.error();
      auto value = table->number(r, *column);
      if (!value) return value.error();
      auto factor = factorIndex(static_cast<int>(*value));
      if (!factor || !entry.measured(p, *factor)) {
        return makeError(ErrorCode::kInvalidInput, "{}: cf_{} {} is not a measured factor of {}", where,
                         kPlatforms[p].column, *value, entry.name);
      }
      for (std::size_t f = 0; f < kFactors.size(); ++f) {
        if (entry.measured(p, f) && entry.runtime[p][f] < entry.runtime[p][*factor]) {
          return makeError(ErrorCode::kInvalidInput, "{}: cf_{} is {} but {} runs faster at cf {}", where,
                           kPlatforms[p].column, kFactors[*factor], entry.name, kFactors[f]);
        }
      }
      entry.oracleFactor[p] = kFactors[*factor];
    }
  }
  for (std::size_t k = 0; k < data.kernels.size(); ++k) {
    if (!found[k]) {
      return makeError(ErrorCode::kInvalidInput, "{}: no row for kernel {}", table->name(), data.kernels[k].name);
    }
  }
  return success();
}

}  // namespace

Expected<CoarsenData> loadCoarsenData(const fs::path& directory) {
  if (!fs::is_directory(directory)) {
    return makeError(ErrorCode::kNotFound,
                     "{}: no thread-coarsening data set here (set $MIRTUNE_DATA to the folder holding tcoarsening/; "
                     "the README says where to get it)",
                     directory.string());
  }
  CoarsenData data;
  data.directory = directory;
  if (auto read = readRuntimes(directory / "pact-2014-runtimes.csv", data); !read) return read.error();
  if (auto read = readOracles(directory / "pact-2014-oracles.csv", data); !read) return read.error();
  for (CoarsenKernel& kernel : data.kernels) {
    kernel.irFile = "kernels_ir/" + kernel.name + ".ll";
    auto sha = sha256File(directory / kernel.irFile);
    if (!sha) return sha.error().withContext("IR file of kernel " + kernel.name);
    kernel.irFileSha256 = *sha;
  }
  return data;
}

}  // namespace mirtune::coarsen
