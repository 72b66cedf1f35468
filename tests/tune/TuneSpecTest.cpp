// Tests of T1 files: the shared example, mirtune's own examples under kernels/tune, bad inputs and their
// messages, run plans and application commands of one configuration, and one plan run through mirtune-run.
#include "tasks/tune/TuneSpec.h"

#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tuner/references/ReferenceArgs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

namespace mirtune::tune {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path sourceRoot() {
  return MIRTUNE_SOURCE_ROOT;
}
fs::path specInputs() {
  return MIRTUNE_SPEC_TEST_INPUTS;
}
fs::path exampleFolder() {
  return sourceRoot() / "kernels" / "tune";
}

/// The shared data sets: $MIRTUNE_DATA, else ../shared/datasets beside the source root.
fs::path sharedDatasets() {
  if (const char* data = std::getenv("MIRTUNE_DATA"); data != nullptr && *data != '\0') return data;
  return (sourceRoot() / ".." / "shared" / "datasets").lexically_normal();
}

TuneSpec readOrFail(const fs::path& file) {
  auto spec = readTuneSpec(file);
  EXPECT_TRUE(spec.ok()) << spec.error().message();
  if (!spec) return TuneSpec{};
  return std::move(*spec);
}

/// The message of the error reading `file` gives (and a failed test when it reads).
std::string readError(const fs::path& file, ErrorCode code = ErrorCode::kInvalidInput) {
  auto spec = readTuneSpec(file);
  EXPECT_FALSE(spec.ok()) << file << " was read";
  if (spec) return "";
  EXPECT_EQ(spec.error().code(), code) << spec.error().message();
  return spec.error().message();
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "'" << (text) << "' lacks '" << (part) << "'"

/// Every valid configuration of `spec` by brute force over the value lists, judged by `allows`.
template <typename Allows>
std::uint64_t bruteForceCount(const SearchSpace& space, Allows allows) {
  const auto& parameters = space.parameters();
  std::vector<std::size_t> index(parameters.size(), 0);
  std::uint64_t count = 0;
  while (true) {
    std::vector<json> values;
    for (std::size_t p = 0; p < parameters.size(); ++p) values.push_back(parameters[p].values[index[p]]);
    if (allows(values)) ++count;
    std::size_t p = parameters.size();
    while (p > 0) {
      --p;
      if (++index[p] < parameters[p].values.size()) break;
      index[p] = 0;
      if (p == 0) return count;
    }
  }
}

std::vector<std::int64_t> intValues(const TunableParameter& parameter) {
  std::vector<std::int64_t> out;
  for (const auto& value : parameter.values) out.push_back(value.get<std::int64_t>());
  return out;
}

TEST(TuneSpec, ReadsTheSharedExample) {
  const fs::path file =
      fs::absolute(sharedDatasets() / "autotuning-spaces" / "t1-example-convolution.json").lexically_normal();
  if (!fs::exists(file))
    GTEST_SKIP() << file << " is absent: set MIRTUNE_DATA to the shared data sets folder to run this test";
  const auto start = std::chrono::steady_clock::now();
  TuneSpec spec = readOrFail(file);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(spec.space.parameters().size(), 8u);
  EXPECT_EQ(spec.name, "convolution");
  EXPECT_EQ(spec.file, file);

  const auto& parameters = spec.space.parameters();
  EXPECT_EQ(parameters[0].name, "filter_width");
  std::vector<std::int64_t> odd;
  for (std::int64_t i = 3; i < 35; i += 2) odd.push_back(i);
  EXPECT_EQ(intValues(parameters[0]), odd);
  EXPECT_EQ(intValues(parameters[2]), (std::vector<std::int64_t>{16, 32, 48, 64, 80, 96, 112, 128}));
  EXPECT_EQ(intValues(parameters[3]), (std::vector<std::int64_t>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(intValues(parameters[4]), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(parameters[0].defaultValue, 17);
  EXPECT_EQ(parameters[3].defaultValue, 16);
  EXPECT_EQ(parameters[6].defaultValue, 1);

  // The condition "use_padding==0 or (block_size_x % 32 != 0)", counted independently.
  std::size_t padding = 0, blockX = 0;
  for (std::size_t p = 0; p < parameters.size(); ++p) {
    if (parameters[p].name == "use_padding") padding = p;
    if (parameters[p].name == "block_size_x") blockX = p;
  }
  const std::uint64_t expected = bruteForceCount(spec.space, [&](const std::vector<json>& values) {
    return values[padding].get<std::int64_t>() == 0 || values[blockX].get<std::int64_t>() % 32 != 0;
  });
  EXPECT_EQ(expected, 2359296u);
  EXPECT_EQ(spec.validConfigurations, expected);
  EXPECT_LT(seconds, 5.0) << "reading a space of 3 million configurations should take well under a second";
  ASSERT_EQ(spec.conditions, std::vector<std::string>{"use_padding==0 or (block_size_x % 32 != 0)"});

  Configuration configuration = spec.space.defaultConfiguration();
  EXPECT_TRUE(spec.space.contains(configuration));
  configuration["block_size_x"] = 32;
  configuration["use_padding"] = 1;
  EXPECT_FALSE(spec.space.contains(configuration));
  configuration["use_padding"] = 0;
  EXPECT_TRUE(spec.space.contains(configuration));

  ASSERT_TRUE(spec.kernel.has_value());
  const KernelLaunch& kernel = *spec.kernel;
  EXPECT_EQ(kernel.language, "CUDA");
  EXPECT_EQ(kernel.kernelFile, file.parent_path() / "convolution.cu");
  EXPECT_EQ(kernel.kernelName, "convolution_kernel");
  EXPECT_EQ(kernel.compilerOptions, std::vector<std::string>{"-std=c++11"});
  EXPECT_TRUE(kernel.globalSizeInBlocks);
  ASSERT_EQ(kernel.globalSize.size(), 3u);
  EXPECT_EQ(kernel.globalSize[0].text(), "(262144 // block_size_x) // tile_size_x");
  ASSERT_EQ(kernel.localSize.size(), 3u);
  EXPECT_EQ(kernel.problemSize, (std::vector<std::int64_t>{4096, 4096}));
  ASSERT_EQ(kernel.gridDiv.size(), 2u);
  EXPECT_EQ(kernel.gridDiv[0], (std::vector<std::string>{"block_size_x", "tile_size_x"}));
  ASSERT_EQ(kernel.arguments.size(), 3u);
  EXPECT_TRUE(kernel.arguments[0].output);
  EXPECT_EQ(kernel.arguments[1].fillType, "Random");
  // Sizes read parameters as the lists of their values: (4096 + 33 - 1)^2 and 33^2.
  ExpressionScope lists;
  for (const auto& parameter : parameters) {
    std::vector<ExpressionValue> values;
    for (const auto& value : parameter.values) values.push_back(ExpressionValue{value.get<std::int64_t>()});
    lists[parameter.name] = ExpressionValue{values};
  }
  std::vector<ExpressionValue> problemSize;
  problemSize.push_back(ExpressionValue{std::int64_t{4096}});
  problemSize.push_back(ExpressionValue{std::int64_t{4096}});
  lists["ProblemSize"] = ExpressionValue{problemSize};
  EXPECT_EQ(kernel.arguments[1].size.evaluate(lists)->repr(), std::to_string(4128 * 4128));
  EXPECT_EQ(kernel.arguments[2].size.evaluate(lists)->repr(), "1089");

  // CUDA kernels are read but not run.
  auto plan = buildRunPlan(spec, spec.space.defaultConfiguration());
  ASSERT_FALSE(plan.ok());
  EXPECT_CONTAINS(plan.error().message(), "CUDA");
  EXPECT_CONTAINS(plan.error().message(), file.string());
}

TEST(TuneSpec, ConvolutionExamplePlans) {
  const fs::path file = exampleFolder() / "conv2d.json";
  TuneSpec spec = readOrFail(file);
  ASSERT_EQ(spec.space.parameters().size(), 4u);
  const std::uint64_t expected = bruteForceCount(spec.space, [](const std::vector<json>& v) {
    return v[0].get<int>() * v[1].get<int>() <= 256 && v[2].get<int>() * v[3].get<int>() <= 8;
  });
  EXPECT_EQ(expected, 120u);
  EXPECT_EQ(spec.validConfigurations, expected);
  EXPECT_EQ(spec.settings.minRepetitions, 3);
  EXPECT_EQ(spec.settings.maxRepetitions, 20);
  EXPECT_DOUBLE_EQ(spec.settings.timeoutSeconds, 30);
  EXPECT_DOUBLE_EQ(spec.settings.tolerance.relative, 1e-4);

  auto plan = buildRunPlan(spec, spec.space.defaultConfiguration());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->source, (exampleFolder() / "conv2d.cl").string());
  EXPECT_EQ(plan->kernel, "convolve");
  EXPECT_EQ(plan->buildOptions,
            "-DIMAGE_WIDTH=256 -DIMAGE_HEIGHT=256 -DFILTER_SIZE=5 -Dblock_size_x=16 -Dblock_size_y=4 "
            "-Dtile_size_x=1 -Dtile_size_y=1");
  EXPECT_EQ(plan->globalSize, (std::vector<std::uint64_t>{256, 256}));
  EXPECT_EQ(plan->localSize, (std::vector<std::uint64_t>{16, 4}));
  EXPECT_EQ(plan->minRepetitions, 3);
  EXPECT_EQ(plan->maxRepetitions, 20);
  EXPECT_DOUBLE_EQ(plan->timeoutSeconds, 30);
  ASSERT_EQ(plan->args.size(), 3u);
  EXPECT_EQ(plan->args[0].role, runner::ArgRole::kOut);
  EXPECT_EQ(plan->args[0].elements, 65536u);
  EXPECT_EQ(plan->args[0].generator.kind, runner::GeneratorKind::kConstant);
  EXPECT_EQ(plan->args[1].role, runner::ArgRole::kIn);
  EXPECT_EQ(plan->args[1].elements, 260u * 260u);
  EXPECT_EQ(plan->args[1].generator.kind, runner::GeneratorKind::kUniform);
  EXPECT_DOUBLE_EQ(plan->args[1].generator.hi, 1.0);
  EXPECT_EQ(plan->args[1].generator.seed, 2u);
  EXPECT_EQ(plan->args[2].elements, 25u);
  EXPECT_EQ(plan->args[2].generator.seed, 3u);

  // GridDiv: blocks = ceil(ProblemSize / (block_size * tile_size)), work-items = blocks * block_size.
  Configuration tiled = {{"block_size_x", 32}, {"block_size_y", 8}, {"tile_size_x", 4}, {"tile_size_y", 2}};
  auto tiledPlan = buildRunPlan(spec, tiled);
  ASSERT_TRUE(tiledPlan.ok()) << tiledPlan.error().message();
  EXPECT_EQ(tiledPlan->globalSize, (std::vector<std::uint64_t>{64, 128}));
  EXPECT_EQ(tiledPlan->localSize, (std::vector<std::uint64_t>{32, 8}));
  EXPECT_CONTAINS(tiledPlan->buildOptions, "-Dtile_size_x=4 -Dtile_size_y=2");
  // Inputs are the same in every configuration, so outputs compare.
  EXPECT_EQ(tiledPlan->args[1].generator.seed, plan->args[1].generator.seed);
  EXPECT_EQ(tiledPlan->args[1].elements, plan->args[1].elements);

  // A configuration outside the conditions is refused, naming the file and the condition.
  Configuration outside = {{"block_size_x", 64}, {"block_size_y", 8}, {"tile_size_x", 1}, {"tile_size_y", 1}};
  auto refused = buildRunPlan(spec, outside);
  ASSERT_FALSE(refused.ok());
  EXPECT_CONTAINS(refused.error().message(), "conv2d.json");
  EXPECT_CONTAINS(refused.error().message(), "block_size_x * block_size_y <= 256");
  // And so is an application's command for a kernel spec.
  auto commands = buildApplicationCommands(spec, spec.space.defaultConfiguration());
  ASSERT_FALSE(commands.ok());
  EXPECT_CONTAINS(commands.error().message(), "not an application");
}

TEST(TuneSpec, MatmulExamplesPlans) {
  TuneSpec tiled = readOrFail(exampleFolder() / "matmul_tiled.json");
  EXPECT_EQ(tiled.validConfigurations, 3u);
  EXPECT_EQ(intValues(tiled.space.parameters()[0]), (std::vector<std::int64_t>{4, 8, 16}));
  auto tiledPlan = buildRunPlan(tiled, {{"TILE", 4}});
  ASSERT_TRUE(tiledPlan.ok()) << tiledPlan.error().message();
  EXPECT_EQ(tiledPlan->source, (sourceRoot() / "kernels" / "opencl" / "matmul_tiled.cl").string());
  EXPECT_EQ(tiledPlan->buildOptions, "-DTILE=4");
  EXPECT_EQ(tiledPlan->globalSize, (std::vector<std::uint64_t>{64, 64}));
  EXPECT_EQ(tiledPlan->localSize, (std::vector<std::uint64_t>{4, 4}));
  ASSERT_EQ(tiledPlan->args.size(), 4u);
  EXPECT_EQ(tiledPlan->args[3].kind, runner::ArgKind::kScalar);
  EXPECT_EQ(tiledPlan->args[3].type, runner::ElementType::kInt);
  EXPECT_EQ(tiledPlan->args[3].scalarInt, 64);

  TuneSpec wpt = readOrFail(exampleFolder() / "matmul_wpt.json");
  const std::uint64_t expected = bruteForceCount(wpt.space, [](const std::vector<json>& v) {
    return v[1].get<int>() < v[0].get<int>() && 128 % v[0].get<int>() == 0;
  });
  EXPECT_EQ(wpt.validConfigurations, expected);
  EXPECT_EQ(expected, 13u);
  auto plan = buildRunPlan(wpt, {{"TS", 32}, {"WPT", 8}});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->buildOptions, "-DTS=32 -DWPT=8");
  EXPECT_EQ(plan->globalSize, (std::vector<std::uint64_t>{128, 16}));
  EXPECT_EQ(plan->localSize, (std::vector<std::uint64_t>{32, 4}));
  EXPECT_EQ(plan->args[0].kind, runner::ArgKind::kScalar);
  EXPECT_EQ(plan->args[0].scalarInt, 128);
  EXPECT_EQ(plan->args[3].role, runner::ArgRole::kOut);
  EXPECT_EQ(plan->args[3].elements, 128u * 128u);
}

TEST(TuneSpec, ApplicationExampleCommands) {
  const fs::path file = exampleFolder() / "omp_blur.json";
  TuneSpec spec = readOrFail(file);
  ASSERT_TRUE(spec.application.has_value());
  EXPECT_FALSE(spec.kernel.has_value());
  EXPECT_EQ(spec.application->workingDirectory, exampleFolder());
  EXPECT_EQ(spec.application->check, OutputCheck::kSelfCheckOrDigest);
  const std::uint64_t expected = bruteForceCount(
      spec.space, [](const std::vector<json>& v) { return v[1] == "static" || v[2].get<int>() < 16; });
  EXPECT_EQ(expected, 14u);
  EXPECT_EQ(spec.validConfigurations, expected);

  Configuration configuration = {{"threads", 2}, {"schedule", "dynamic"}, {"block_rows", 4}};
  auto commands = buildApplicationCommands(spec, configuration);
  ASSERT_TRUE(commands.ok()) << commands.error().message();
  EXPECT_EQ(commands->buildArgv,
            (std::vector<std::string>{"cc", "-O2", "-fopenmp", "-DBLOCK_ROWS=4",
                                      (exampleFolder() / "omp_blur.c").string(), "-o", "@BINARY@"}));
  EXPECT_EQ(commands->runArgv,
            (std::vector<std::string>{"env", "OMP_NUM_THREADS=2", "OMP_SCHEDULE=dynamic", "@BINARY@"}));
  EXPECT_FALSE(commands->buildKey.empty());

  // The build depends on block_rows only: configurations that differ in run parameters share a build.
  auto sameBuild =
      buildApplicationCommands(spec, {{"threads", 1}, {"schedule", "static"}, {"block_rows", 4}});
  auto otherBuild =
      buildApplicationCommands(spec, {{"threads", 2}, {"schedule", "dynamic"}, {"block_rows", 1}});
  ASSERT_TRUE(sameBuild.ok() && otherBuild.ok());
  EXPECT_EQ(sameBuild->buildKey, commands->buildKey);
  EXPECT_NE(otherBuild->buildKey, commands->buildKey);

  auto excluded =
      buildApplicationCommands(spec, {{"threads", 1}, {"schedule", "guided"}, {"block_rows", 16}});
  ASSERT_FALSE(excluded.ok());
  EXPECT_CONTAINS(excluded.error().message(), "omp_blur.json");
  auto plan = buildRunPlan(spec, configuration);
  ASSERT_FALSE(plan.ok());
  EXPECT_CONTAINS(plan.error().message(), "not a kernel launch");

  const ExpressionScope scope = configurationScope(spec, configuration);
  EXPECT_EQ(scope.at("schedule").repr(), "'dynamic'");
  EXPECT_EQ(scope.at("threads").repr(), "2");
}

TEST(TuneSpec, ValidInputFileAndTypes) {
  TuneSpec spec = readOrFail(specInputs() / "valid.json");
  EXPECT_EQ(spec.name, "scale");
  // a in [2, 4, 8, 16, 32], FACTOR_SHIFT in [0, 1, 2], a * 2**FACTOR_SHIFT <= 16.
  const std::uint64_t expected = bruteForceCount(
      spec.space, [](const std::vector<json>& v) { return v[0].get<int>() * (1 << v[1].get<int>()) <= 16; });
  EXPECT_EQ(expected, 9u);
  EXPECT_EQ(spec.validConfigurations, expected);
  auto plan = buildRunPlan(spec, {{"a", 4}, {"FACTOR_SHIFT", 2}});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  // No GlobalSize and no GridDiv: ProblemSize rounded up to the local size.
  EXPECT_EQ(plan->globalSize, std::vector<std::uint64_t>{1024});
  EXPECT_EQ(plan->localSize, std::vector<std::uint64_t>{4});
  EXPECT_EQ(plan->buildOptions, "-Da=4 -DFACTOR_SHIFT=2");
  ASSERT_EQ(plan->args.size(), 3u);
  EXPECT_EQ(plan->args[2].kind, runner::ArgKind::kScalar);
  EXPECT_DOUBLE_EQ(plan->args[2].scalarValue, 2.0);
}

TEST(TuneSpec, BadInputFilesNameTheFileKeyAndProblem) {
  std::string message = readError(specInputs() / "unknown_parameter.json");
  EXPECT_CONTAINS(message,
                  "unknown_parameter.json: ConfigurationSpace.Conditions[0].Expression \"a % b == 0\"");
  EXPECT_CONTAINS(message, "unknown parameter 'b'");

  message = readError(specInputs() / "unsupported_expression.json");
  EXPECT_CONTAINS(message, "unsupported_expression.json: ConfigurationSpace.Conditions[0].Expression");
  EXPECT_CONTAINS(message, "attribute access");
  EXPECT_CONTAINS(message, "column 2");

  message = readError(specInputs() / "empty_space.json");
  EXPECT_CONTAINS(message, "empty_space.json: ConfigurationSpace.Conditions");
  EXPECT_CONTAINS(message, "no configuration satisfies the conditions");
  EXPECT_CONTAINS(message, "15");  // configurations before them

  message = readError(specInputs() / "default_violates_condition.json");
  EXPECT_CONTAINS(message, "default_violates_condition.json: ConfigurationSpace.Conditions[0].Expression");
  EXPECT_CONTAINS(message, "a * 2**FACTOR_SHIFT <= 8");
  EXPECT_CONTAINS(message, "default configuration (a=8 FACTOR_SHIFT=2)");

  message = readError(specInputs() / "missing_kernel_file.json");
  EXPECT_CONTAINS(message, "missing_kernel_file.json: KernelSpecification.KernelFile");
  EXPECT_CONTAINS(message, "no_such_kernel.cl does not exist");

  message = readError(specInputs() / "no_such_file.json", ErrorCode::kNotFound);
  EXPECT_CONTAINS(message, "no_such_file.json");
}

/// Writes variations of valid.json into a temporary folder (with the kernel beside them) and reads them.
class SpecVariation : public ::testing::Test {
 protected:
  SpecVariation()
      : folder_("mirtune-spec-test", ::testing::UnitTest::GetInstance()->current_test_info()->name()) {
    fs::copy_file(specInputs() / "scale.cl", folder_.path() / "scale.cl");
    auto base = readJsonObject(specInputs() / "valid.json");
    EXPECT_TRUE(base.ok());
    base_ = *base;
  }

  /// The error message of reading `spec` written as `name`.
  std::string errorOf(const json& spec, const std::string& name = "variant.json") {
    const fs::path file = folder_.path() / name;
    std::ofstream(file) << spec.dump(2);
    return readError(file);
  }
  Expected<TuneSpec> read(const json& spec) {
    const fs::path file = folder_.path() / "variant.json";
    std::ofstream(file) << spec.dump(2);
    return readTuneSpec(file);
  }

  TemporaryFolder folder_;
  json base_;
};

TEST_F(SpecVariation, MalformedJson) {
  const fs::path file = folder_.path() / "broken.json";
  std::ofstream(file) << "{\"ConfigurationSpace\": [1, 2";
  const std::string message = readError(file);
  EXPECT_CONTAINS(message, "broken.json: malformed JSON");
}

TEST_F(SpecVariation, ParameterErrors) {
  json spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][0]["Values"] = "[2**i for i in range(n)]";
  std::string message = errorOf(spec);
  EXPECT_CONTAINS(message, "variant.json: ConfigurationSpace.TuningParameters[0].Values");
  EXPECT_CONTAINS(message, "cannot read 'n'");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][0]["Values"] = "2 + 3";
  EXPECT_CONTAINS(errorOf(spec), "gives 5, not a list");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][0]["Values"] = json::array({1, 2.5});
  message = errorOf(spec);
  EXPECT_CONTAINS(message, "TuningParameters[0].Values[1]");
  EXPECT_CONTAINS(message, "2.5 does not fit");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][0]["Default"] = 3;
  EXPECT_CONTAINS(errorOf(spec), "TuningParameters[0].Default: 3 is not one of the parameter's values");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][1]["Name"] = "a";
  EXPECT_CONTAINS(errorOf(spec), "TuningParameters[1].Name: parameter 'a' declared twice");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][1]["Type"] = "complex";
  EXPECT_CONTAINS(errorOf(spec), "TuningParameters[1].Type: unknown parameter type 'complex'");

  spec = base_;
  spec["ConfigurationSpace"]["TuningParameters"][1].erase("Values");
  EXPECT_CONTAINS(errorOf(spec), "TuningParameters[1].Values: missing");
}

TEST_F(SpecVariation, ConditionErrors) {
  json spec = base_;
  spec["ConfigurationSpace"]["Conditions"][0]["Parameters"] = json::array({"a", "c"});
  EXPECT_CONTAINS(errorOf(spec), "Conditions[0].Parameters[1]: 'c' is not a tuning parameter");

  spec = base_;
  spec["ConfigurationSpace"]["Conditions"][0]["Expression"] = "16 // (a - 2) > 0";
  std::string message = errorOf(spec);
  EXPECT_CONTAINS(message, "Conditions[0].Expression \"16 // (a - 2) > 0\": cannot be evaluated for a=2");
  EXPECT_CONTAINS(message, "division by zero");

  spec = base_;
  spec["ConfigurationSpace"]["Conditions"][0]["Expression"] = "[i for i in range(a) for j in range(2)]";
  EXPECT_CONTAINS(errorOf(spec), "several for clauses");

  // Conditions may read ProblemSize.
  spec = base_;
  spec["ConfigurationSpace"]["Conditions"][0]["Expression"] =
      "ProblemSize[0] % (a * 2**FACTOR_SHIFT * 64) == 0";
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->validConfigurations, 9u);  // a * 2**shift divides 16
}

TEST_F(SpecVariation, KernelAndArgumentErrors) {
  json spec = base_;
  spec["KernelSpecification"]["Arguments"][0]["FillType"] = "BinaryRaw";
  std::string message = errorOf(spec);
  EXPECT_CONTAINS(message, "KernelSpecification.Arguments[0].FillType: 'BinaryRaw' is not supported");
  EXPECT_CONTAINS(message, "Constant, Random, Sequential");

  spec = base_;
  spec["KernelSpecification"]["Arguments"][0]["Type"] = "quaternion";
  EXPECT_CONTAINS(errorOf(spec), "Arguments[0].Type: unknown element type 'quaternion'");

  spec = base_;
  spec["KernelSpecification"]["Arguments"][0]["Size"] = "ProblemSize[0] * a";
  message = errorOf(spec);
  EXPECT_CONTAINS(message, "Arguments[0].Size \"ProblemSize[0] * a\"");
  EXPECT_CONTAINS(message, "max(name)");

  spec = base_;
  spec["KernelSpecification"]["Arguments"][0]["Size"] = "ProblemSize[0] * max(a)";
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  auto plan = buildRunPlan(*read, read->space.defaultConfiguration());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->args[0].elements, 1024u * 32u);

  spec = base_;
  spec["KernelSpecification"]["Language"] = "Fortran";
  EXPECT_CONTAINS(errorOf(spec), "KernelSpecification.Language: 'Fortran' is not supported");

  spec = base_;
  spec["KernelSpecification"]["LocalSize"]["X"] = "a + unknown";
  EXPECT_CONTAINS(errorOf(spec),
                  "KernelSpecification.LocalSize.X \"a + unknown\": unknown parameter 'unknown'");

  spec = base_;
  spec["KernelSpecification"]["GlobalSizeType"] = "CUDA";
  spec["KernelSpecification"].erase("LocalSize");
  spec["KernelSpecification"]["GlobalSize"] = {{"X", "ProblemSize[0] // a"}};
  EXPECT_CONTAINS(errorOf(spec), "KernelSpecification.LocalSize: required when GlobalSizeType is CUDA");

  spec = base_;
  spec["KernelSpecification"].erase("Arguments");
  EXPECT_CONTAINS(errorOf(spec), "KernelSpecification.Arguments: missing");

  spec = base_;
  spec.erase("KernelSpecification");
  EXPECT_CONTAINS(errorOf(spec), "KernelSpecification: missing (required unless mirtune.Application");
}

TEST_F(SpecVariation, GlobalSizeInBlocksAndLocalDivision) {
  json spec = base_;
  spec["KernelSpecification"]["GlobalSizeType"] = "CUDA";
  spec["KernelSpecification"]["GlobalSize"] = {{"X", "ProblemSize[0] // a // 2"}};
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  auto plan = buildRunPlan(*read, {{"a", 8}, {"FACTOR_SHIFT", 0}});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->globalSize, std::vector<std::uint64_t>{512});  // 64 blocks of 8

  // GridDiv entries may be numbers: blocks = ceil(1024 / (2 * 16)), work-items = blocks * 16.
  json divided = base_;
  divided["KernelSpecification"]["GridDivX"] = json::array({2, "a"});
  read = this->read(divided);
  ASSERT_TRUE(read.ok()) << read.error().message();
  plan = buildRunPlan(*read, {{"a", 16}, {"FACTOR_SHIFT", 0}});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->globalSize, std::vector<std::uint64_t>{512});
  EXPECT_EQ(plan->localSize, std::vector<std::uint64_t>{16});

  spec["KernelSpecification"]["GlobalSizeType"] = "OpenCL";
  spec["KernelSpecification"]["GlobalSize"] = {{"X", "1000"}};
  read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  plan = buildRunPlan(*read, {{"a", 16}, {"FACTOR_SHIFT", 0}});
  ASSERT_FALSE(plan.ok());
  EXPECT_CONTAINS(plan.error().message(), "the local size 16 does not divide the global size 1000");
  EXPECT_CONTAINS(plan.error().message(), "variant.json");
}

TEST_F(SpecVariation, TypedParametersAsBuildOptions) {
  json spec = base_;
  auto& parameters = spec["ConfigurationSpace"]["TuningParameters"];
  parameters.push_back({{"Name", "ratio"}, {"Type", "float"}, {"Values", "[0.5, 1, 2.25]"}, {"Default", 1}});
  parameters.push_back(
      {{"Name", "use_cache"}, {"Type", "bool"}, {"Values", json::array({false, true})}, {"Default", true}});
  parameters.push_back(
      {{"Name", "variant"}, {"Type", "string"}, {"Values", "['plain', 'fast']"}, {"Default", "fast"}});
  spec["ConfigurationSpace"]["Conditions"].push_back(
      {{"Expression", "variant == 'fast' or not use_cache"}, {"Parameters", {"variant", "use_cache"}}});
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->space.parameters()[2].values, (std::vector<json>{0.5, 1.0, 2.25}));
  EXPECT_EQ(read->validConfigurations, 9u * 3u * 3u);  // (plain, true) is excluded
  auto plan = buildRunPlan(*read, read->space.defaultConfiguration());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->buildOptions, "-Da=8 -DFACTOR_SHIFT=0 -Dratio=1.0 -Duse_cache=1 -Dvariant=fast");
  const ExpressionScope scope = configurationScope(*read, read->space.defaultConfiguration());
  EXPECT_EQ(scope.at("use_cache").repr(), "True");
  EXPECT_EQ(scope.at("ratio").repr(), "1.0");
}

TEST_F(SpecVariation, FillTypesAndRoles) {
  json spec = base_;
  auto& arguments = spec["KernelSpecification"]["Arguments"];
  arguments[0]["FillType"] = "Sequential";
  arguments[1]["AccessType"] = "ReadWrite";
  arguments.push_back({{"Name", "counts"},
                       {"Type", "int32"},
                       {"AccessType", "ReadOnly"},
                       {"FillType", "Random"},
                       {"Size", 8},
                       {"FillValue", 10}});
  arguments.push_back({{"Name", "scratch"}, {"Type", "uint8"}, {"AccessType", "WriteOnly"}, {"Size", 4}});
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  auto plan = buildRunPlan(*read, read->space.defaultConfiguration());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->args.size(), 5u);
  EXPECT_EQ(plan->args[0].generator.kind, runner::GeneratorKind::kRamp);
  EXPECT_EQ(plan->args[1].role, runner::ArgRole::kInOut);  // Output and ReadWrite
  EXPECT_EQ(plan->args[3].type, runner::ElementType::kInt);
  EXPECT_EQ(plan->args[3].generator.kind, runner::GeneratorKind::kUniform);
  EXPECT_DOUBLE_EQ(plan->args[3].generator.hi, 9);  // integers: 0 .. FillValue - 1
  EXPECT_EQ(plan->args[3].generator.seed, 4u);
  EXPECT_EQ(plan->args[4].type, runner::ElementType::kUchar);
  EXPECT_EQ(plan->args[4].role, runner::ArgRole::kOut);  // WriteOnly without Output
  const runner::HostArray ramp = runner::generateBuffer(plan->args[0]);
  EXPECT_DOUBLE_EQ(ramp.valueAsDouble(5), 5.0);
}

TEST_F(SpecVariation, SettingsAndApplicationErrors) {
  json spec = base_;
  spec["mirtune"] = {{"Timout", 3}};
  EXPECT_CONTAINS(errorOf(spec), "mirtune.Timout: unknown key");

  spec = base_;
  spec["mirtune"] = {{"MinRepetitions", 5}, {"MaxRepetitions", 2}};
  EXPECT_CONTAINS(errorOf(spec), "mirtune.MaxRepetitions: 2 is below MinRepetitions (5)");

  spec = base_;
  spec["mirtune"] = {{"Timeout", -1}};
  EXPECT_CONTAINS(errorOf(spec), "mirtune.Timeout: expected a positive number");

  spec = base_;
  spec.erase("KernelSpecification");
  spec["mirtune"] = {{"Application", {{"Run", {"./prog", "{a}", "{missing}"}}}}};
  EXPECT_CONTAINS(errorOf(spec),
                  "mirtune.Application.Run[2]: \"{missing}\": {missing} names no tuning parameter");

  spec["mirtune"] = {{"Application", {{"Run", {"./prog", "{a}"}}, {"Check", "maybe"}}}};
  EXPECT_CONTAINS(errorOf(spec), "mirtune.Application.Check: 'maybe' is not one of");

  spec["mirtune"] = {{"Application", {{"Run", {"./prog", "--size={a}", "{not a name}"}}, {"Check", "none"}}}};
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->application->check, OutputCheck::kNone);
  auto commands = buildApplicationCommands(*read, {{"a", 16}, {"FACTOR_SHIFT", 0}});
  ASSERT_TRUE(commands.ok()) << commands.error().message();
  EXPECT_EQ(commands->runArgv, (std::vector<std::string>{"./prog", "--size=16", "{not a name}"}));
  EXPECT_TRUE(commands->buildKey.empty());  // nothing to build

  spec["KernelSpecification"] = base_["KernelSpecification"];
  EXPECT_CONTAINS(errorOf(spec), "not both");
}

TEST_F(SpecVariation, OpenMpVariablesFilesAndTheAnyType) {
  json spec = base_;
  spec.erase("KernelSpecification");
  spec["ConfigurationSpace"]["TuningParameters"].push_back(
      {{"Name", "kind"}, {"Type", "string"}, {"Values", {"static", "dynamic"}}, {"Default", "static"}});
  spec["ConfigurationSpace"]["TuningParameters"].push_back(
      {{"Name", "chunk"}, {"Type", "any"}, {"Values", {"default", 4}}, {"Default", "default"}});
  std::ofstream(folder_.path() / "prog.c") << "int main(void) { return 0; }\n";
  spec["mirtune"] = {{"BuildTimeout", 90},
                     {"RelativeTimeout", 10},
                     {"Application",
                      {{"Files", {{"main.c", "prog.c"}}},
                       {"Build", {"cc", "main.c", "-o", "@BINARY@"}},
                       {"Run", {"@BINARY@"}},
                       {"OpenMP", {{"Threads", "a"}, {"Schedule", "kind"}, {"Chunk", "chunk"}}}}}};
  auto read = this->read(spec);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->settings.buildTimeoutSeconds, 90.0);
  EXPECT_EQ(read->settings.relativeTimeout, 10.0);
  ASSERT_EQ(read->application->files.size(), 1u);
  EXPECT_EQ(read->application->files[0].name, "main.c");
  EXPECT_EQ(read->application->files[0].content, "int main(void) { return 0; }\n");
  // "default" leaves the chunk to the runtime; a size is appended to the schedule kind.
  auto plain = buildApplicationCommands(
      *read, {{"a", 16}, {"FACTOR_SHIFT", 0}, {"kind", "static"}, {"chunk", "default"}});
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->runEnvironment,
            (std::map<std::string, std::string>{
                {"OMP_NUM_THREADS", "16"}, {"OMP_SCHEDULE", "static"}, {"OMP_DYNAMIC", "false"}}));
  auto chunked =
      buildApplicationCommands(*read, {{"a", 8}, {"FACTOR_SHIFT", 0}, {"kind", "dynamic"}, {"chunk", 4}});
  ASSERT_TRUE(chunked.ok()) << chunked.error().message();
  EXPECT_EQ(chunked->runEnvironment.at("OMP_SCHEDULE"), "dynamic,4");
  EXPECT_EQ(chunked->buildKey, plain->buildKey);  // the variables reach the run only

  json bad = spec;
  bad["mirtune"]["Application"]["OpenMP"]["Threads"] = "kind";
  EXPECT_CONTAINS(errorOf(bad),
                  "mirtune.Application.OpenMP.Threads: parameter 'kind' has the value 'static'");
  bad = spec;
  bad["mirtune"]["Application"]["OpenMP"].erase("Schedule");
  EXPECT_CONTAINS(errorOf(bad), "mirtune.Application.OpenMP.Chunk: a chunk size needs a Schedule parameter");
  bad = spec;
  bad["mirtune"]["Application"]["Files"] = {{"../main.c", "prog.c"}};
  EXPECT_CONTAINS(errorOf(bad), "mirtune.Application.Files.../main.c: the name must be a plain file name");
  bad = spec;
  bad["mirtune"]["Application"]["Files"] = {{"main.c", "absent.c"}};
  EXPECT_CONTAINS(errorOf(bad), "mirtune.Application.Files.main.c:");
  bad = spec;
  bad["mirtune"]["RelativeTimeout"] = 0.5;
  EXPECT_CONTAINS(errorOf(bad), "mirtune.RelativeTimeout");
  bad = spec;
  bad["ConfigurationSpace"]["TuningParameters"][3]["Values"] = {"default", {1, 2}};
  EXPECT_CONTAINS(errorOf(bad), "does not fit the parameter's type");

  // A spec held in memory reads its files from the caller.
  auto inMemory = parseTuneSpec(spec, folder_.path() / "virtual.json", {{"prog.c", "given"}});
  ASSERT_TRUE(inMemory.ok()) << inMemory.error().message();
  EXPECT_EQ(inMemory->application->files[0].content, "given");
  EXPECT_EQ(inMemory->file, folder_.path() / "virtual.json");
}

// ----- one configuration run through mirtune-run -----

std::vector<OpenClDevice> openClDevices(std::string& why) {
  auto devices = probeOpenClDevices(MIRTUNE_RUN_EXECUTABLE);
  if (!devices) {
    why = "OpenCL probe failed: " + devices.error().message();
    return {};
  }
  if (devices->empty()) why = "no OpenCL device (the ICD loader lists no platform): install pocl-opencl-icd";
  return *devices;
}

/// C = A * B on the host from the plan's generated inputs; the arguments' positions differ between the
/// kernels.
ReferenceFunction matmulReference(std::size_t nIndex, std::size_t aIndex, std::size_t bIndex,
                                  std::size_t cIndex) {
  return [=](ReferenceArgs& args) -> Status {
    const auto n = static_cast<std::size_t>(args.intScalar(nIndex));
    const float* a = args.buffer<float>(aIndex);
    const float* b = args.buffer<float>(bIndex);
    float* c = args.buffer<float>(cIndex);
    for (std::size_t row = 0; row < n; ++row) {
      for (std::size_t col = 0; col < n; ++col) {
        float sum = 0;
        for (std::size_t k = 0; k < n; ++k) sum += a[row * n + k] * b[k * n + col];
        c[row * n + col] = sum;
      }
    }
    return {};
  };
}

/// The 5 x 5 convolution of conv2d.cl on the host (output, input, filter).
Status convolutionReference(ReferenceArgs& args) {
  constexpr std::size_t width = 256, height = 256, filterSize = 5, inputWidth = width + filterSize - 1;
  float* output = args.buffer<float>(0);
  const float* input = args.buffer<float>(1);
  const float* filter = args.buffer<float>(2);
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < width; ++x) {
      float sum = 0;
      for (std::size_t fy = 0; fy < filterSize; ++fy)
        for (std::size_t fx = 0; fx < filterSize; ++fx)
          sum += input[(y + fy) * inputWidth + x + fx] * filter[fy * filterSize + fx];
      output[y * width + x] = sum;
    }
  }
  return {};
}

void runAndCheck(const fs::path& specFile, const Configuration& configuration, ReferenceFunction reference,
                 const std::string& name) {
  std::string why;
  const auto devices = openClDevices(why);
  if (devices.empty()) GTEST_SKIP() << why;
  TuneSpec spec = readOrFail(specFile);
  auto plan = buildRunPlan(spec, configuration);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  TemporaryFolder work("mirtune-spec-run", name);
  OpenClRunRequest request;
  request.plan = *plan;
  request.plan.warmup = 1;
  request.plan.minTimeSeconds = 0;
  request.plan.minRepetitions = 2;
  request.plan.maxRepetitions = 2;
  request.timeoutSeconds = spec.settings.timeoutSeconds;
  request.reference = std::move(reference);
  request.referenceName = name;
  request.tolerance = spec.settings.tolerance;
  request.devices = {devices.front()};
  request.workDirectory = work.path();
  auto result = runOnAllDevices(request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->devices.size(), 1u);
  const DeviceRunResult& device = result->devices.front();
  EXPECT_EQ(device.status, MeasureStatus::kOk) << device.name << ": " << device.message << "\n"
                                               << device.buildLog << device.standardError;
  EXPECT_EQ(device.kernelSeconds.size(), 2u);
  EXPECT_GT(device.medianKernelSeconds, 0);
}

TEST(TuneSpecRun, MatmulConfigurationRunsAndMatchesTheHost) {
  runAndCheck(exampleFolder() / "matmul_wpt.json", {{"TS", 16}, {"WPT", 4}}, matmulReference(0, 1, 2, 3),
              "matmul_wpt");
}

TEST(TuneSpecRun, TiledMatmulConfigurationRunsAndMatchesTheHost) {
  runAndCheck(exampleFolder() / "matmul_tiled.json", {{"TILE", 8}}, matmulReference(3, 0, 1, 2),
              "matmul_tiled");
}

TEST(TuneSpecRun, ConvolutionConfigurationRunsAndMatchesTheHost) {
  runAndCheck(exampleFolder() / "conv2d.json",
              {{"block_size_x", 32}, {"block_size_y", 2}, {"tile_size_x", 2}, {"tile_size_y", 4}},
              convolutionReference, "conv2d");
}

TEST(TuneSpecRun, ApplicationExampleBuildsAndChecksItself) {
  TuneSpec spec = readOrFail(exampleFolder() / "omp_blur.json");
  auto commands = buildApplicationCommands(spec, {{"threads", 2}, {"schedule", "guided"}, {"block_rows", 4}});
  ASSERT_TRUE(commands.ok()) << commands.error().message();
  TemporaryFolder work("mirtune-spec-run", "omp_blur");
  const std::string binary = (work.path() / "blur").string();
  auto place = [&](std::vector<std::string> argv) {
    for (auto& element : argv)
      if (element == kBinaryPlaceholder) element = binary;
    return argv;
  };
  SubprocessOptions build;
  build.argv = place(commands->buildArgv);
  build.timeoutSeconds = 120;
  build.workingDirectory = work.path();
  auto built = runSubprocess(build);
  if (!built.ok() && built.error().code() == ErrorCode::kNotFound)
    GTEST_SKIP() << "no C compiler: " << built.error().message();
  ASSERT_TRUE(built.ok()) << built.error().message();
  ASSERT_TRUE(built->succeeded()) << built->describe() << "\n" << built->standardError;
  SubprocessOptions run;
  run.argv = place(commands->runArgv);
  run.timeoutSeconds = 60;
  run.workingDirectory = work.path();
  auto ran = runSubprocess(run);
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  ASSERT_TRUE(ran->succeeded()) << ran->describe() << "\n" << ran->standardError;
  EXPECT_CONTAINS(ran->standardOutput, "mirtune-check: ok");
  EXPECT_CONTAINS(ran->standardOutput, "mirtune-region-seconds: ");
}

TEST(TuneSpecRun, ApplicationExampleTunesThroughATuningSession) {
  TuneSpec spec = readOrFail(exampleFolder() / "omp_blur.json");
  ASSERT_TRUE(spec.application.has_value());
  TemporaryFolder work("mirtune-spec-run", "omp_blur_session");
  auto database = Database::open(work.db());
  ASSERT_TRUE(database.ok()) << database.error().message();
  PlatformRecord platform;
  platform.fingerprint = "spec-test";
  auto platformId = database->upsertPlatform(platform);
  ASSERT_TRUE(platformId.ok());

  const std::vector<Configuration> candidates = {
      {{"threads", 2}, {"schedule", "static"}, {"block_rows", 16}},
      {{"threads", 1}, {"schedule", "dynamic"}, {"block_rows", 4}}};
  TuningRequest request;
  request.task = "tune";
  request.command = "tune omp_blur.json";
  request.options = {{"spec", spec.file.string()}};
  request.workload = {0, "omp-blur", std::nullopt, "c", (exampleFolder() / "omp_blur.c").string(), {}};
  request.space = &spec.space;
  request.check = spec.application->check;
  request.showProgress = false;
  request.settings.minTimeSeconds = 0;
  request.settings.minRepetitions = 2;
  request.settings.maxRepetitions = 2;
  request.settings.warmup = 0;
  request.settings.runTimeoutSeconds = spec.settings.timeoutSeconds;
  request.planner =
      [candidates](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    if (done.size() > 1) return std::vector<Configuration>{};
    return candidates;
  };
  request.commands = [&spec](const Configuration& configuration) {
    return buildApplicationCommands(spec, configuration);
  };
  request.workDirectory = work.path() / "session";
  auto result = runTuningSession(*database, *platformId, "spec-test", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->results.size(), 3u);
  EXPECT_EQ(result->results[0].configuration, spec.space.defaultConfiguration());
  for (const auto& tuned : result->results) {
    EXPECT_EQ(tuned.status, MeasureStatus::kOk) << tuned.configuration.dump() << ": " << tuned.message;
    EXPECT_EQ(tuned.times.size(), 2u) << tuned.configuration.dump();
  }
}

}  // namespace
}  // namespace mirtune::tune
