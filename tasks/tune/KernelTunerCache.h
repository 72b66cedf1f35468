// Kernel Tuner's cache file: a brute-forced or partly tuned space as Kernel Tuner writes it (`cache=` / simulation
// mode), read for replay and written (resumable) by `mirtune tune --cache`.
#pragma once

#include "support/Error.h"
#include "tuner/SearchSpace.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::tune {

/// One record of the cache: a configuration and its time, or the failure Kernel Tuner wrote in its place.
struct CacheRecord {
  Configuration configuration;  ///< parameter name -> value
  std::optional<double> time;   ///< mean time, ms, when it ran correctly
  std::vector<double> times;    ///< the repetitions, ms
  std::string failure;          ///< "CompilationFailedConfig", "RuntimeFailedConfig", "InvalidConfig", ... or ""
  double compileTime = 0;       ///< ms
  double benchmarkTime = 0;     ///< ms
  double verificationTime = 0;  ///< ms
  double strategyTime = 0;      ///< ms
  double frameworkTime = 0;     ///< ms
};

struct KernelTunerCache {
  std::string deviceName;
  std::string kernelName;
  nlohmann::json problemSize = nlohmann::json::array();
  std::vector<std::string> parameterNames;  ///< tune_params_keys
  std::map<std::string, std::vector<nlohmann::json>> parameterValues;  ///< tune_params
  std::vector<CacheRecord> records;  ///< file order

  /// Key of a configuration: its values in parameterNames order joined by commas (Kernel Tuner's key).
  std::string key(const Configuration& configuration) const;
  /// The space of the valid records (those with a time): every parameter with its values, and a constraint that
  /// admits exactly the configurations with a time.
  SearchSpace validSpace() const;
};

/// Reads a cache file; kInvalidInput naming the file and the key of the first bad record (values not matching
/// tune_params_keys, a time that is neither a number nor a string). Kernel Tuner leaves an unfinished file without
/// its closing braces while it tunes; such a file is read up to its last complete record.
Expected<KernelTunerCache> readKernelTunerCache(const std::filesystem::path& file);

/// Appends records to a cache file as Kernel Tuner does (a new file gets the header), so an interrupted session
/// leaves a readable file; writes through a temporary file and rename. Records already in the file keep their place
/// (a key written before is not written again) and the new ones follow in order; kInvalidInput when the file is
/// not a cache of the same tune_params_keys.
Status writeKernelTunerCache(const KernelTunerCache& cache, const std::filesystem::path& file);

}  // namespace mirtune::tune
