// Programs the unroll task measures: the NeuroVectorizer corpus (self-timing C programs, unpacked into a
// cache folder), the OpenMP suite's loops, or a user's file; how one loop's variants are written, built and
// run.
#pragma once

#include "support/Error.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/TuningSession.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mirtune::unroll {

enum class Suite { kNeuroVectorizer, kOpenMp, kFile };
std::string_view suiteName(Suite suite);
Expected<Suite> parseSuite(std::string_view name);

struct UnrollProgram {
  Suite suite = Suite::kFile;
  std::string name;    ///< file name in the corpus ("s10_1024_add_0.c"), app name, or the file's path
  std::string family;  ///< what near-duplicates share (programFamily); cross-validation folds group by it
  std::filesystem::path source;
  std::vector<std::string> arguments;  ///< run arguments
  /// NeuroVectorizer: factor on the BENCH repetition count so one run takes about kTargetRunSeconds.
  double iterationScale = 1;
  std::vector<std::string> flags;  ///< extra compiler flags (-I, -D) for builds and loop discovery
};

/// One NeuroVectorizer run should take about this long (the corpus's own runs take 38 ms to 3.3 s).
inline constexpr double kTargetRunSeconds = 0.075;

/// The family of a corpus file: its kernel prefix with the "n"/"nn" variant marks dropped ("s12nn_..." ->
/// "s12"), so the variants of one kernel (sizes, types, operators) share it. Other programs are their own
/// family.
std::string programFamily(Suite suite, const std::string& name);

/// Unpacks <data>/neurovectorizer/training_data.tar.gz into <cache>/neurovectorizer once (a marker file
/// records a finished unpack) and returns the folder holding header.c and the programs. kNotFound naming the
/// archive.
Expected<std::filesystem::path> unpackNeuroVectorizer(const std::filesystem::path& dataDirectory,
                                                      const std::filesystem::path& cacheDirectory);

/// Every corpus program listed in O3_runtimes.csv that exists in `folder`, sorted by name, with its iteration
/// scale from the listed -O3 runtime. Errors name the CSV and line.
Expected<std::vector<UnrollProgram>> neuroVectorizerPrograms(const std::filesystem::path& folder,
                                                             const std::filesystem::path& runtimesCsv);

/// Builds the corpus program unmodified in `folder` and runs it once: the iteration scale that makes its
/// timed region take about kTargetRunSeconds on this machine (the listed -O3 runtimes are another machine's),
/// within 1/64..64 times the listed estimate. Errors name the program and what failed.
Expected<double> calibrateIterationScale(const UnrollProgram& program, const std::filesystem::path& folder);

/// `count` programs drawn without replacement, deterministic in seed, returned in name order (all when count
/// is 0 or larger than the corpus).
std::vector<UnrollProgram> samplePrograms(const std::vector<UnrollProgram>& programs, std::size_t count,
                                          std::uint64_t seed);

/// The OpenMP suite's apps (kernels/openmp) at their "small" size, run on one thread.
Expected<std::vector<UnrollProgram>> openMpPrograms(const std::filesystem::path& suiteDirectory);

/// What a tuning session of one loop needs: one source per configuration ("loop-<token>.c", the loop's pragma
/// inserted), the harness files, and the commands (clang-14 -O3 -march=native; one build per configuration).
struct LoopVariants {
  std::map<std::string, std::string> files;
  CommandFactory commands;
};

/// `extraBuildFlags` maps a configuration token to flags added to that configuration's build only (a way to
/// make one variant differ, e.g. in tests). kInvalidInput (file:line) when the loop cannot take a pragma.
Expected<LoopVariants> loopVariants(
    const UnrollProgram& program, Knob knob, int line,
    const std::map<std::string, std::vector<std::string>>& extraBuildFlags = {});

}  // namespace mirtune::unroll
