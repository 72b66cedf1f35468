// A user's tuning problem read from a T1 file (the autotuning community's JSON input format, as Kernel Tuner and
// BAT read it): its tunable parameters, conditions, default, and how one configuration is built and run: an OpenCL
// kernel launch, or (mirtune's own "mirtune" key) a C/C++ application's build and run commands.
#pragma once

#include "support/Error.h"
#include "tuner/Expression.h"
#include "tuner/OpenClRun.h"
#include "tuner/SearchSpace.h"
#include "tuner/TuningSession.h"
#include "tuner/runner/RunPlan.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mirtune::tune {

/// One kernel argument of a T1 KernelSpecification.
struct TuneArgument {
  std::string name;
  std::string type;        ///< element type as T1 names it ("float", "int32", "double", ...)
  std::string memoryType;  ///< "Vector" or "Scalar"
  std::string accessType;  ///< "ReadOnly", "WriteOnly", "ReadWrite"
  std::string fillType;    ///< "Constant", "Random", "Sequential" (T1's fill types)
  /// Elements: a number or an expression over ProblemSize, the parameters' value lists (max(p), min(p)) and
  /// constants; evaluated once per configuration.
  Expression size;
  double fillValue = 0;  ///< Constant: the value; Random: the upper end of [0, fillValue)
  bool output = false;   ///< compared against the default configuration's
};

/// How a configuration of an OpenCL (or, later, CUDA) kernel is launched.
struct KernelLaunch {
  std::string language;             ///< "OpenCL" or "CUDA"
  std::filesystem::path kernelFile;  ///< absolute (resolved against the T1 file's folder)
  std::string kernelName;
  std::vector<std::string> compilerOptions;
  /// Work-items per dimension (GlobalSizeType "OpenCL") or blocks per dimension (GlobalSizeType "CUDA": work-items
  /// are blocks x local size). Absent: ProblemSize divided by the GridDiv products, rounded up, times local size
  /// (a dimension without GridDiv divides by its local size; without a local size, work-items = blocks). Missing
  /// dimensions count as 1; the local size must divide the resulting global size.
  std::vector<Expression> globalSize;
  bool globalSizeInBlocks = false;
  std::vector<Expression> localSize;  ///< empty = the driver chooses
  std::vector<std::vector<std::string>> gridDiv;  ///< GridDivX/Y/Z: parameter names or expressions
  std::vector<std::int64_t> problemSize;
  std::vector<TuneArgument> arguments;
};

/// A file an application's commands use, copied into the session's work folder (where builds and runs start)
/// before the first build, so an exported plan folder carries it to another machine
/// (mirtune.Application.Files).
struct ApplicationFile {
  std::string name;              ///< relative to the work folder, no ".."
  std::filesystem::path source;  ///< where it was read from, absolute
  std::string content;           ///< read when the spec was read
};

/// Parameters an OpenMP program takes through its OMP_* variables (mirtune.Application.OpenMP), each the name
/// of a tuning parameter or empty: OMP_NUM_THREADS from `threads`, OMP_SCHEDULE "kind[,chunk]" from
/// `schedule` and `chunk` (the chunk value "default" leaves the chunk out: the runtime's own), and always
/// OMP_DYNAMIC=false.
struct OpenMpVariables {
  std::string threads;
  std::string schedule;
  std::string chunk;
};

/// A C/C++ application tuned through commands (mirtune's "mirtune": {"Application": ...} key): `{name}` in a
/// template is replaced by the parameter's value (bools as 0/1), @SPEC_DIR@ by the T1 file's folder; @BINARY@ as in
/// TuningSession.
struct ApplicationCommands {
  std::vector<std::string> buildTemplate;  ///< argv template; empty = nothing to build
  std::vector<std::string> runTemplate;    ///< argv template
  std::filesystem::path workingDirectory;  ///< the T1 file's folder
  /// Output judged by the program's "mirtune-check: ok" line, else equal stdout to the default's.
  OutputCheck check = OutputCheck::kSelfCheckOrDigest;
  std::vector<ApplicationFile> files;
  std::optional<OpenMpVariables> openMp;
};

/// Settings in mirtune's own top-level key ("mirtune"), which a T1 reader ignores.
struct TuneSettings {
  Tolerance tolerance;           ///< outputs against the default configuration's
  double timeoutSeconds = 60;    ///< one configuration's build and run
  double minTimeSeconds = 0.2;   ///< repeat until the measured repetitions add up to this
  int minRepetitions = 5;
  int maxRepetitions = 100;
  int warmup = 1;
  /// An application's build, when it differs from timeoutSeconds (mirtune.BuildTimeout).
  std::optional<double> buildTimeoutSeconds;
  /// Applications: after the default, a run this many times slower than the default's is stopped (after at
  /// least 5 s) and recorded as a timeout; 0 = never (mirtune.RelativeTimeout).
  double relativeTimeout = 0;
};

struct TuneSpec {
  std::filesystem::path file;  ///< the T1 file, absolute
  std::string name;            ///< General.BenchmarkName, else the file's stem
  SearchSpace space;           ///< parameters (T1 order) with their defaults, conditions as constraints
  /// Configurations that satisfy the conditions, counted when the file was read (SearchSpace::size() would
  /// build every configuration as JSON; spaces of millions are common).
  std::uint64_t validConfigurations = 0;
  /// The conditions as written, for reports and the T4 "constraints" invalidity.
  std::vector<std::string> conditions;
  std::optional<KernelLaunch> kernel;         ///< exactly one of kernel and application
  std::optional<ApplicationCommands> application;
  TuneSettings settings;
};

/// Reads and checks a T1 file. kNotFound for a missing file; kInvalidInput naming the file, and the key and
/// expression where there is one, for: malformed JSON, a missing required key, a value list that is not a list or a
/// supported list expression, a duplicate parameter, a default not among the values, a condition naming an unknown
/// parameter or using an expression outside the supported subset, a kernel file that does not exist, an empty space
/// after the conditions.
Expected<TuneSpec> readTuneSpec(const std::filesystem::path& file);

/// A T1 document held in memory, read and checked as readTuneSpec reads a file at `file` (which need not
/// exist: it names the spec in messages and gives @SPEC_DIR@ and relative paths their folder). `files` holds
/// the content of mirtune.Application.Files entries by their value as written, used instead of reading them
/// (a spec generated together with its sources).
Expected<TuneSpec> parseTuneSpec(const nlohmann::json& root, const std::filesystem::path& file,
                                 const std::map<std::string, std::string>& files = {});

/// OMP_NUM_THREADS, OMP_SCHEDULE and OMP_DYNAMIC of a configuration, as OpenMpVariables describes them.
std::map<std::string, std::string> openMpEnvironment(const OpenMpVariables& variables,
                                                     const Configuration& configuration);

/// The OpenCL launch of one configuration: parameters as -Dname=value build options (after the spec's
/// compiler options), sizes and geometry evaluated for it, arguments filled as the spec says (seeded,
/// deterministic). kInvalidInput naming the spec file and expression when an expression fails for this
/// configuration (division by zero, a negative size).
Expected<runner::RunPlan> buildRunPlan(const TuneSpec& spec, const Configuration& configuration);

/// The commands of one configuration of an application spec.
Expected<CandidateCommands> buildApplicationCommands(const TuneSpec& spec, const Configuration& configuration);

/// The values parameters take in a configuration, as an expression environment (name -> value).
ExpressionScope configurationScope(const TuneSpec& spec, const Configuration& configuration);

}  // namespace mirtune::tune
