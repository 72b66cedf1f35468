// The OpenMP application suite: well-formed manifests, every app's "test" size passing its own check under
// OMP_SCHEDULE=dynamic,1 and static with the same result, and every check catching a dropped loop iteration.
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(MIRTUNE_SOURCE_ROOT) / "kernels" / "openmp";
const std::string kCompiler = MIRTUNE_OPENMP_CC;
const std::set<std::string> kCategories = {"regular", "imbalanced", "irregular", "reduction"};
const std::set<std::string> kSizeNames = {"test", "small", "large"};

std::vector<fs::path> manifestPaths() {
  std::vector<fs::path> paths;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kSuite, error))
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::vector<std::string> appNames() {
  std::vector<std::string> names;
  for (const auto& path : manifestPaths()) names.push_back(path.stem().string());
  return names;
}

// What an app printed, split by the documented prefixes; anything else on stdout is kept in `unknown`.
struct AppOutput {
  std::vector<std::string> regionSeconds, check, result, unknown;
};

AppOutput parseOutput(const std::string& text) {
  AppOutput output;
  std::istringstream lines(text);
  std::string line;
  const std::vector<std::pair<std::string, std::vector<std::string>*>> prefixes = {
      {"mirtune-region-seconds: ", &output.regionSeconds},
      {"mirtune-check: ", &output.check},
      {"mirtune-result: ", &output.result}};
  while (std::getline(lines, line)) {
    bool known = false;
    for (const auto& [prefix, values] : prefixes) {
      if (line.rfind(prefix, 0) == 0) {
        values->push_back(line.substr(prefix.size()));
        known = true;
      }
    }
    if (!known) output.unknown.push_back(line);
  }
  return output;
}

std::vector<std::string> testArguments(const nlohmann::json& manifest) {
  std::vector<std::string> arguments;
  for (const auto& value : manifest["sizes"]["test"])
    arguments.push_back(std::to_string(value.get<long long>()));
  return arguments;
}

SubprocessResult run(std::vector<std::string> argv, std::map<std::string, std::string> environment = {}) {
  SubprocessOptions options;
  options.argv = std::move(argv);
  options.environment = std::move(environment);
  options.timeoutSeconds = 60;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << options.argv.front() << ": " << result.error().message();
  return result.ok() ? *result : SubprocessResult{};
}

// Builds `source` with clang-14 -O3 -fopenmp; the empty optional (and a test failure) when it does not build.
std::optional<fs::path> compile(const fs::path& source, const fs::path& folder, const std::string& name) {
  fs::path binary = folder / name;
  auto build = run({kCompiler, "-O3", "-fopenmp", source.string(), "-o", binary.string(), "-lm"});
  if (!build.succeeded()) {
    ADD_FAILURE() << source << " does not build (" << build.describe() << "):\n" << build.standardError;
    return std::nullopt;
  }
  return binary;
}

std::map<std::string, std::string> openMpEnvironment(const std::string& schedule) {
  return {{"OMP_NUM_THREADS", "2"}, {"OMP_SCHEDULE", schedule}, {"OMP_WAIT_POLICY", "PASSIVE"}};
}

TEST(OpenMpSuite, ManifestsAreWellFormed) {
  auto paths = manifestPaths();
  EXPECT_GE(paths.size(), 20u) << "in " << kSuite;
  std::map<std::string, int> perCategory;
  std::set<std::string> sources;
  for (const auto& path : paths) {
    SCOPED_TRACE(path.string());
    auto manifest = readJsonObject(path);
    ASSERT_TRUE(manifest.ok()) << manifest.error().message();
    const nlohmann::json& m = *manifest;
    for (const char* key : {"name", "source", "language", "description", "category"})
      ASSERT_TRUE(m.contains(key) && m[key].is_string() && !m[key].get<std::string>().empty()) << key;
    EXPECT_EQ(m["name"], path.stem().string());
    EXPECT_EQ(m["source"], path.stem().string() + ".c");
    EXPECT_EQ(m["language"], "c");
    EXPECT_TRUE(fs::is_regular_file(kSuite / m["source"].get<std::string>()));
    sources.insert(m["source"].get<std::string>());
    std::string category = m["category"];
    EXPECT_EQ(kCategories.count(category), 1u) << category;
    perCategory[category]++;

    ASSERT_TRUE(m.contains("args") && m["args"].is_array() && !m["args"].empty());
    std::set<std::string> argumentNames;
    for (const auto& argument : m["args"]) {
      ASSERT_TRUE(argument.is_string() && !argument.get<std::string>().empty());
      EXPECT_TRUE(argumentNames.insert(argument.get<std::string>()).second)
          << "repeated argument " << argument;
    }
    ASSERT_TRUE(m.contains("sizes") && m["sizes"].is_object());
    EXPECT_EQ(m["sizes"].size(), kSizeNames.size());
    for (const auto& sizeName : kSizeNames) {
      ASSERT_TRUE(m["sizes"].contains(sizeName) && m["sizes"][sizeName].is_array()) << sizeName;
      const auto& values = m["sizes"][sizeName];
      EXPECT_EQ(values.size(), m["args"].size()) << sizeName;
      for (const auto& value : values)
        EXPECT_TRUE(value.is_number_integer() && value.get<long long>() > 0) << sizeName;
    }
    // The recorded single-thread timings must lie in the ranges the README promises for the two sizes.
    ASSERT_TRUE(m.contains("measured") && m["measured"].is_object());
    const auto& measured = m["measured"];
    EXPECT_TRUE(measured.contains("machine") && measured["machine"].is_string());
    ASSERT_TRUE(measured.contains("small_seconds") && measured["small_seconds"].is_number());
    ASSERT_TRUE(measured.contains("large_seconds") && measured["large_seconds"].is_number());
    double small = measured["small_seconds"], large = measured["large_seconds"];
    EXPECT_GE(small, 0.05);
    EXPECT_LE(small, 0.2);
    EXPECT_GE(large, 0.3);
    EXPECT_LE(large, 1.0);
  }
  for (const auto& category : kCategories) EXPECT_GE(perCategory[category], 3) << category;
  // Every C file of the folder is an app with a manifest.
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kSuite, error)) {
    if (entry.path().extension() == ".c") {
      EXPECT_EQ(sources.count(entry.path().filename().string()), 1u) << entry.path();
    }
  }
}

class OpenMpApp : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (kCompiler.empty()) GTEST_SKIP() << "clang-14 was not found when the tests were configured";
    auto manifest = readJsonObject(kSuite / (GetParam() + ".json"));
    ASSERT_TRUE(manifest.ok()) << manifest.error().message();
    manifest_ = *manifest;
    source_ = kSuite / manifest_["source"].get<std::string>();
  }

  nlohmann::json manifest_;
  fs::path source_;
};

TEST_P(OpenMpApp, TestSizePassesItsCheckUnderTwoSchedules) {
  TemporaryFolder folder("mirtune-openmp", GetParam());
  auto binary = compile(source_, folder.path(), GetParam());
  ASSERT_TRUE(binary);
  std::vector<std::string> argv = {binary->string()};
  for (const auto& argument : testArguments(manifest_)) argv.push_back(argument);

  std::vector<std::vector<std::string>> results;
  for (const std::string schedule : {"dynamic,1", "static"}) {
    SCOPED_TRACE("OMP_SCHEDULE=" + schedule);
    auto runResult = run(argv, openMpEnvironment(schedule));
    EXPECT_EQ(runResult.exitCode, 0) << runResult.describe() << "\n"
                                     << runResult.standardOutput << runResult.standardError;
    AppOutput output = parseOutput(runResult.standardOutput);
    EXPECT_TRUE(output.unknown.empty()) << "undocumented output: " << output.unknown.front();
    ASSERT_EQ(output.check.size(), 1u) << runResult.standardOutput;
    EXPECT_EQ(output.check.front(), "ok");
    ASSERT_EQ(output.regionSeconds.size(), 1u) << runResult.standardOutput;
    std::size_t parsed = 0;
    double seconds = std::stod(output.regionSeconds.front(), &parsed);
    EXPECT_EQ(parsed, output.regionSeconds.front().size()) << output.regionSeconds.front();
    EXPECT_TRUE(std::isfinite(seconds) && seconds > 0) << output.regionSeconds.front();
    EXPECT_LE(output.result.size(), 1u);
    results.push_back(output.result);
  }
  EXPECT_EQ(results.front(), results.back()) << "mirtune-result depends on the schedule";

  // Bad arguments: usage on stderr, nothing on stdout, exit status 2.
  std::vector<std::vector<std::string>> badCalls = {
      {binary->string()}, {binary->string(), "-1"}, {binary->string(), "12abc"}};
  badCalls.push_back(argv);
  badCalls.back().push_back("1");
  for (const auto& call : badCalls) {
    auto rejected = run(call, openMpEnvironment("static"));
    EXPECT_EQ(rejected.exitCode, 2) << call.size() - 1 << " arguments, " << rejected.describe();
    EXPECT_NE(rejected.standardError.find("usage: " + GetParam()), std::string::npos)
        << rejected.standardError;
    EXPECT_TRUE(rejected.standardOutput.empty()) << rejected.standardOutput;
  }
}

// The last `#pragma omp ... for` loop of the app loses its last iteration (`i < n` becomes `i < (n) - 1`);
// the app must then report a failed check. The last loop always writes checked output; an earlier one need
// not (the last block sum in `scan` is never read).
TEST_P(OpenMpApp, CheckCatchesADroppedLastIteration) {
  auto text = readFile(source_);
  ASSERT_TRUE(text.ok()) << text.error().message();
  std::vector<std::string> lines;
  std::istringstream stream(*text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  const std::regex pragmaFor(R"(^\s*#pragma omp .*\bfor\b)");
  const std::regex loopHead(R"(for \((?:long |int )?(\w+) = ([^;]+); \1 < ([^;]+);)");
  std::optional<std::size_t> loopLine;
  for (std::size_t i = 0; i < lines.size(); i++) {
    if (!std::regex_search(lines[i], pragmaFor)) continue;
    std::size_t j = i + 1;
    while (j < lines.size() && lines[j].find("for (") == std::string::npos) j++;
    ASSERT_LT(j, lines.size()) << "no loop after line " << i + 1;
    loopLine = j;
  }
  ASSERT_TRUE(loopLine) << "no omp for loop in " << source_;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(lines[*loopLine], match, loopHead))
      << "line " << *loopLine + 1 << " is not `for (T i = a; i < b; ...)`: " << lines[*loopLine];
  std::string mutated =
      match.prefix().str() + "for (" +
      lines[*loopLine].substr(match.position(0) + 5, match.position(3) - match.position(0) - 5) + "(" +
      match[3].str() + ") - 1;" + match.suffix().str();
  lines[*loopLine] = mutated;

  TemporaryFolder folder("mirtune-openmp-mutant", GetParam());
  fs::path mutant = folder.path() / source_.filename();
  std::string joined;
  for (const auto& line : lines) joined += line + "\n";
  ASSERT_TRUE(writeFileAtomically(mutant, joined).ok());
  auto binary = compile(mutant, folder.path(), GetParam());
  ASSERT_TRUE(binary);
  std::vector<std::string> argv = {binary->string()};
  for (const auto& argument : testArguments(manifest_)) argv.push_back(argument);
  auto runResult = run(argv, openMpEnvironment("dynamic,1"));
  EXPECT_EQ(runResult.exitCode, 1) << "mutated line: " << mutated << "\n" << runResult.standardOutput;
  AppOutput output = parseOutput(runResult.standardOutput);
  ASSERT_EQ(output.check.size(), 1u) << runResult.standardOutput << runResult.standardError;
  EXPECT_EQ(output.check.front().rfind("failed ", 0), 0u) << "mutated line: " << mutated;
}

INSTANTIATE_TEST_SUITE_P(Shipped, OpenMpApp, ::testing::ValuesIn(appNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace mirtune
