// The unroll task's program suites, the corpus harness and the per-configuration builds of one loop.
#include "tasks/unroll/UnrollProgram.h"

#include "frontend/LoopPragmas.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tasks/common/OpenMpSuite.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <set>

namespace mirtune::unroll {
namespace {

namespace fs = std::filesystem;

// Replaces the corpus's header.h for builds: the same names and values, but BENCH prints a region-timer line
// and the digest (the corpus's own prints only whole milliseconds and drops the digest), and its repetition
// count is scaled by MIRTUNE_ITER_SCALE so every program runs for a similar time.
constexpr const char* kHarnessHeader =
    R"c(/* mirtune harness for the NeuroVectorizer corpus (see tasks/unroll/UnrollProgram.cpp). */
#ifndef MIRTUNE_UNROLL_HARNESS_H
#define MIRTUNE_UNROLL_HARNESS_H
#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>

#define N 512
#define M 32
#define K 4
#define L 32
#define ALIGNED16 __attribute__((aligned(16)))
typedef int aint __attribute__((__aligned__(16)));
#define Mi 1048576
#define print_times true

#ifndef MIRTUNE_ITER_SCALE
#define MIRTUNE_ITER_SCALE 1.0
#endif

#define BENCH(NAME, RUN_LINE, ITER, DIGEST_LINE)                                                  \
  {                                                                                               \
    struct timeval mirtune_start, mirtune_end;                                                    \
    long mirtune_count = (long)((double)(ITER) * (MIRTUNE_ITER_SCALE));                           \
    if (mirtune_count < 1) mirtune_count = 1;                                                     \
    RUN_LINE;                                                                                     \
    gettimeofday(&mirtune_start, 0);                                                              \
    for (long mirtune_i = 0; mirtune_i < mirtune_count; ++mirtune_i) RUN_LINE;                    \
    gettimeofday(&mirtune_end, 0);                                                                \
    unsigned mirtune_digest = DIGEST_LINE;                                                        \
    printf("mirtune-region-seconds: %.6f\n", (double)(mirtune_end.tv_sec - mirtune_start.tv_sec) + \
                                                 1e-6 * (double)(mirtune_end.tv_usec - mirtune_start.tv_usec)); \
    printf("%s digest %u\n", NAME, mirtune_digest);                                               \
  }

void init_memory(void *start, void *end);
void init_memory_float(float *start, float *end);
unsigned digest_memory(void *start, void *end);
void atimer(const char *title, bool print);
#endif
)c";

constexpr const char* kCorpusArchive = "training_data.tar.gz";
constexpr const char* kUnpackedMarker = ".mirtune-unpacked";

std::uint64_t nextRandom(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view suiteName(Suite suite) {
  switch (suite) {
    case Suite::kNeuroVectorizer:
      return "neurovectorizer";
    case Suite::kOpenMp:
      return "openmp";
    case Suite::kFile:
      return "file";
  }
  return "file";
}

Expected<Suite> parseSuite(std::string_view name) {
  for (Suite suite : {Suite::kNeuroVectorizer, Suite::kOpenMp, Suite::kFile}) {
    if (suiteName(suite) == name) return suite;
  }
  return Error(ErrorCode::kInvalidInput,
               fmt::format("unknown suite '{}' (neurovectorizer, openmp or file)", name));
}

std::string programFamily(Suite suite, const std::string& name) {
  if (suite != Suite::kNeuroVectorizer) return std::string(suiteName(suite)) + ":" + name;
  std::string prefix = name.substr(0, name.find('_'));
  while (prefix.size() > 1 && prefix.back() == 'n') prefix.pop_back();
  return prefix;
}

Expected<fs::path> unpackNeuroVectorizer(const fs::path& dataDirectory, const fs::path& cacheDirectory) {
  const fs::path archive = dataDirectory / "neurovectorizer" / kCorpusArchive;
  if (!fs::exists(archive)) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: no such file (the NeuroVectorizer corpus; set MIRTUNE_DATA to the "
                             "folder holding neurovectorizer/)",
                             archive.string()));
  }
  const fs::path target = cacheDirectory / "neurovectorizer";
  const fs::path programs = target / "training_data";
  if (fs::exists(target / kUnpackedMarker)) return programs;
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) return Error(ErrorCode::kIo, fmt::format("{}: cannot create: {}", target.string(), ec.message()));
  SubprocessOptions tar;
  tar.argv = {"tar", "-xzf", fs::absolute(archive).string(), "-C", target.string()};
  tar.timeoutSeconds = 300;
  auto unpacked = runSubprocess(tar);
  if (!unpacked) return unpacked.error();
  if (!unpacked->succeeded() || !fs::exists(programs / "header.c")) {
    return Error(ErrorCode::kIo, fmt::format("{}: unpacking into {} failed ({}): {}", archive.string(),
                                             target.string(), unpacked->describe(), unpacked->standardError));
  }
  if (auto marked = writeFileAtomically(target / kUnpackedMarker, archive.string() + "\n"); !marked)
    return marked.error();
  return programs;
}

Expected<std::vector<UnrollProgram>> neuroVectorizerPrograms(const fs::path& folder,
                                                             const fs::path& runtimesCsv) {
  std::ifstream in(runtimesCsv);
  if (!in) return Error(ErrorCode::kNotFound, fmt::format("{}: cannot open", runtimesCsv.string()));
  std::vector<UnrollProgram> programs;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1) {
      if (line != "file,o3_runtime") {
        return Error(ErrorCode::kInvalidInput,
                     fmt::format("{}:1: expected the header 'file,o3_runtime', found '{}'",
                                 runtimesCsv.string(), line));
      }
      continue;
    }
    if (line.empty()) continue;
    const std::size_t comma = line.find(',');
    double milliseconds = 0;
    try {
      milliseconds = comma == std::string::npos ? 0 : std::stod(line.substr(comma + 1));
    } catch (const std::exception&) {
      milliseconds = 0;
    }
    if (comma == std::string::npos || milliseconds <= 0) {
      return Error(ErrorCode::kInvalidInput, fmt::format("{}:{}: expected 'file,milliseconds', found '{}'",
                                                         runtimesCsv.string(), number, line));
    }
    UnrollProgram program;
    program.suite = Suite::kNeuroVectorizer;
    program.name = line.substr(0, comma);
    program.source = folder / program.name;
    if (!fs::exists(program.source)) continue;
    program.family = programFamily(Suite::kNeuroVectorizer, program.name);
    program.iterationScale = kTargetRunSeconds * 1000.0 / milliseconds;
    programs.push_back(std::move(program));
  }
  std::sort(programs.begin(), programs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  if (programs.empty()) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}: none of its programs is in {}", runtimesCsv.string(), folder.string()));
  }
  return programs;
}

std::vector<UnrollProgram> samplePrograms(const std::vector<UnrollProgram>& programs, std::size_t count,
                                          std::uint64_t seed) {
  if (count == 0 || count >= programs.size()) return programs;
  std::vector<std::size_t> order(programs.size());
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(nextRandom(state) % (order.size() - i));
    std::swap(order[i], order[j]);
  }
  order.resize(count);
  std::sort(order.begin(), order.end());
  std::vector<UnrollProgram> sample;
  for (std::size_t i : order) sample.push_back(programs[i]);
  return sample;
}

Expected<std::vector<UnrollProgram>> openMpPrograms(const fs::path& suiteDirectory) {
  auto apps = loadOmpSuite(suiteDirectory);
  if (!apps) return apps.error();
  std::vector<UnrollProgram> programs;
  for (const OmpApp& app : *apps) {
    auto arguments = app.sizeArguments("small");
    if (!arguments) return arguments.error();
    UnrollProgram program;
    program.suite = Suite::kOpenMp;
    program.name = app.name;
    program.family = programFamily(Suite::kOpenMp, app.name);
    program.source = app.source;
    program.arguments = *arguments;
    program.flags = {"-fopenmp"};
    programs.push_back(std::move(program));
  }
  return programs;
}

Expected<double> calibrateIterationScale(const UnrollProgram& program, const fs::path& folder) {
  auto harnessText = readFile(program.source.parent_path() / "header.c");
  if (!harnessText) return harnessText.error();
  auto sourceText = readFile(program.source);
  if (!sourceText) return sourceText.error();
  std::error_code ec;
  fs::create_directories(folder, ec);
  for (const auto& [name, text] : std::map<std::string, std::string>{
           {"header.h", kHarnessHeader}, {"harness.c", *harnessText}, {"program.c", *sourceText}}) {
    if (auto written = writeFileAtomically(folder / name, text); !written) return written.error();
  }
  SubprocessOptions build;
  build.argv = {"clang-14",
                "-O3",
                "-march=native",
                "-I.",
                fmt::format("-DMIRTUNE_ITER_SCALE={:.6g}", program.iterationScale),
                "program.c",
                "harness.c",
                "-o",
                "program",
                "-lm"};
  build.workingDirectory = folder;
  build.timeoutSeconds = 120;
  auto built = runSubprocess(build);
  if (!built) return built.error();
  if (!built->succeeded()) {
    return Error(ErrorCode::kCompileError,
                 fmt::format("{}: does not build ({}): {}", program.source.string(), built->describe(),
                             built->standardError.substr(0, 400)));
  }
  SubprocessOptions run;
  run.argv = {(folder / "program").string()};
  run.workingDirectory = folder;
  run.timeoutSeconds = 60;
  auto ran = runSubprocess(run);
  if (!ran) return ran.error();
  const std::string marker = "mirtune-region-seconds:";
  const std::size_t at = ran->standardOutput.find(marker);
  if (!ran->succeeded() || at == std::string::npos) {
    return Error(ErrorCode::kInvalidInput,
                 fmt::format("{}: the unmodified program did not run ({}) or printed no region time",
                             program.source.string(), ran->describe()));
  }
  const double seconds = std::strtod(ran->standardOutput.c_str() + at + marker.size(), nullptr);
  const double scale = program.iterationScale * kTargetRunSeconds / std::max(seconds, 1e-5);
  return std::clamp(scale, program.iterationScale / 64, program.iterationScale * 64);
}

Expected<LoopVariants> loopVariants(const UnrollProgram& program, Knob knob, int line,
                                    const std::map<std::string, std::vector<std::string>>& extraBuildFlags) {
  const SearchSpace space = makeUnrollSpace(knob);
  LoopVariants variants;
  const std::string extension =
      program.source.extension() == ".c" ? ".c" : program.source.extension().string();
  for (const Configuration& configuration : space.enumerate()) {
    auto text = insertLoopPragmas(program.source, {pragmaFor(knob, configuration, line)}, program.flags);
    if (!text) return text.error();
    variants.files["loop-" + configurationToken(knob, configuration) + extension] = std::move(*text);
  }
  std::vector<std::string> common = {"-O3", "-march=native", "-I."};
  std::vector<std::string> inputs;
  if (program.suite == Suite::kNeuroVectorizer) {
    const fs::path harness = program.source.parent_path() / "header.c";
    auto harnessText = readFile(harness);
    if (!harnessText) return harnessText.error();
    variants.files["header.h"] = kHarnessHeader;
    variants.files["harness.c"] = std::move(*harnessText);
    common.push_back(fmt::format("-DMIRTUNE_ITER_SCALE={:.6g}", program.iterationScale));
    inputs.push_back("harness.c");
  } else {
    // Includes relative to the original source keep working from the work folder.
    common.push_back("-I" + fs::absolute(program.source).parent_path().string());
  }
  common.insert(common.end(), program.flags.begin(), program.flags.end());
  const bool cxx = extension != ".c";
  const std::vector<std::string> arguments = program.arguments;
  const bool openMp =
      std::find(program.flags.begin(), program.flags.end(), "-fopenmp") != program.flags.end();
  variants.commands = [knob, common, inputs, extension, cxx, arguments, openMp,
                       extraBuildFlags](const Configuration& configuration) -> Expected<CandidateCommands> {
    const std::string token = configurationToken(knob, configuration);
    CandidateCommands commands;
    commands.buildArgv = {cxx ? "clang++-14" : "clang-14"};
    commands.buildArgv.insert(commands.buildArgv.end(), common.begin(), common.end());
    if (auto extra = extraBuildFlags.find(token); extra != extraBuildFlags.end()) {
      commands.buildArgv.insert(commands.buildArgv.end(), extra->second.begin(), extra->second.end());
    }
    commands.buildArgv.push_back("loop-" + token + extension);
    commands.buildArgv.insert(commands.buildArgv.end(), inputs.begin(), inputs.end());
    commands.buildArgv.insert(commands.buildArgv.end(), {"-o", kBinaryPlaceholder, "-lm"});
    commands.buildKey = fmt::format("{}", fmt::join(commands.buildArgv, "\x1f"));
    commands.runArgv = {kBinaryPlaceholder};
    commands.runArgv.insert(commands.runArgv.end(), arguments.begin(), arguments.end());
    // One thread: the loops are timed, not the parallel runtime.
    if (openMp) commands.runEnvironment = {{"OMP_NUM_THREADS", "1"}, {"OMP_DYNAMIC", "false"}};
    return commands;
  };
  return variants;
}

}  // namespace mirtune::unroll
