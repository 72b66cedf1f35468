// Tests of the shared plan code and the comparison: parsing, seeded generators, .npy round trips, tolerances.
#include "tuner/runner/RunPlan.h"
#include "tuner/KernelManifest.h"
#include "tuner/OpenClRun.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace mirtune {
namespace {

runner::ArgSpec floatBuffer(std::uint64_t elements, std::uint64_t seed) {
  runner::ArgSpec arg;
  arg.name = "x";
  arg.elements = elements;
  arg.generator.kind = runner::GeneratorKind::kUniform;
  arg.generator.lo = -2;
  arg.generator.hi = 3;
  arg.generator.seed = seed;
  return arg;
}

TEST(RunPlan, UniformGeneratorIsSeededAndInRange) {
  auto first = runner::generateBuffer(floatBuffer(1000, 7));
  auto again = runner::generateBuffer(floatBuffer(1000, 7));
  auto other = runner::generateBuffer(floatBuffer(1000, 8));
  EXPECT_EQ(first.bytes, again.bytes);
  EXPECT_NE(first.bytes, other.bytes);
  for (std::uint64_t i = 0; i < first.elements; ++i) {
    EXPECT_GE(first.as<float>()[i], -2.0f);
    EXPECT_LE(first.as<float>()[i], 3.0f);
  }
  runner::ArgSpec ints = floatBuffer(2000, 3);
  ints.type = runner::ElementType::kUint;
  ints.generator.lo = 0;
  ints.generator.hi = 3;
  auto values = runner::generateBuffer(ints);
  std::set<std::uint32_t> seen(values.as<std::uint32_t>(), values.as<std::uint32_t>() + values.elements);
  EXPECT_EQ(seen, (std::set<std::uint32_t>{0, 1, 2, 3}));  // integer ranges include hi
}

TEST(RunPlan, RampAndConstantGenerators) {
  runner::ArgSpec arg = floatBuffer(5, 1);
  arg.type = runner::ElementType::kInt;
  arg.generator.kind = runner::GeneratorKind::kRamp;
  arg.generator.lo = 10;
  arg.generator.step = 3;
  auto ramp = runner::generateBuffer(arg);
  EXPECT_EQ(ramp.as<std::int32_t>()[4], 22);
  arg.generator.kind = runner::GeneratorKind::kConstant;
  arg.generator.value = -4;
  EXPECT_EQ(runner::generateBuffer(arg).as<std::int32_t>()[2], -4);
}

TEST(RunPlan, JsonRoundTripAndErrors) {
  nlohmann::json json = {
      {"source", "k.cl"},
      {"kernel", "k"},
      {"global_size", {64, 2}},
      {"local_size", {16, 2}},
      {"args",
       {{{"name", "a"}, {"kind", "buffer"}, {"type", "double"}, {"elements", 128}, {"role", "inout"}},
        {{"kind", "scalar"}, {"type", "long"}, {"value", 1234567890123LL}},
        {{"kind", "local"}, {"bytes", 256}}}}};
  runner::RunPlan plan;
  std::string error;
  ASSERT_TRUE(runner::parseRunPlan(json, plan, error)) << error;
  EXPECT_EQ(plan.args[1].scalarInt, 1234567890123LL);
  EXPECT_EQ(plan.args[2].elements, 256u);
  EXPECT_EQ(plan.timeoutSeconds, runner::kDefaultRunnerTimeoutSeconds);  // a plan without timeout_s
  json["timeout_s"] = 2.5;
  ASSERT_TRUE(runner::parseRunPlan(json, plan, error)) << error;
  EXPECT_EQ(plan.timeoutSeconds, 2.5);
  runner::RunPlan again;
  ASSERT_TRUE(runner::parseRunPlan(runner::runPlanToJson(plan), again, error)) << error;
  EXPECT_EQ(runner::runPlanToJson(again), runner::runPlanToJson(plan));
  EXPECT_EQ(again.timeoutSeconds, 2.5);
  for (const nlohmann::json& bad : {nlohmann::json(0), nlohmann::json(-1), nlohmann::json("10")}) {
    nlohmann::json withBad = json;
    withBad["timeout_s"] = bad;
    EXPECT_FALSE(runner::parseRunPlan(withBad, plan, error)) << bad.dump();
    EXPECT_NE(error.find("'timeout_s'"), std::string::npos) << error;
  }

  json["args"][0]["type"] = "quaternion";
  EXPECT_FALSE(runner::parseRunPlan(json, plan, error));
  EXPECT_NE(error.find("args[0]"), std::string::npos) << error;
  json["args"][0]["type"] = "float";
  json["local_size"] = {24, 2};
  EXPECT_FALSE(runner::parseRunPlan(json, plan, error));
  EXPECT_NE(error.find("multiple"), std::string::npos) << error;
}

TEST(RunPlan, NpyRoundTrip) {
  auto array = runner::generateBuffer(floatBuffer(77, 2));
  const auto path = std::filesystem::temp_directory_path() / "mirtune-tuner-test-roundtrip.npy";
  {
    std::ofstream out(path, std::ios::binary);
    const std::string bytes = runner::npyBytes(array);
    EXPECT_EQ((bytes.size() - array.bytes.size()) % 64, 0u);  // header padded to 64 bytes
    out << bytes;
  }
  runner::HostArray read;
  std::string error;
  ASSERT_TRUE(runner::readNpy(path.string(), read, error)) << error;
  EXPECT_EQ(read.type, runner::ElementType::kFloat);
  EXPECT_EQ(read.bytes, array.bytes);
  std::filesystem::remove(path);
}

TEST(RunPlan, SummaryMedianAndIqr) {
  auto summary = runner::summarise({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(summary.median, 3);
  EXPECT_DOUBLE_EQ(summary.iqr, 2);  // p75 = 4, p25 = 2
}

TEST(CompareBuffers, FloatToleranceAndExactIntegers) {
  runner::HostArray expected = runner::generateBuffer(floatBuffer(10, 1));
  runner::HostArray actual = expected;
  actual.as<float>()[3] *= 1.0005f;  // within relative 1e-3
  EXPECT_FALSE(compareBuffers(actual, expected, Tolerance{}, "x").has_value());
  actual.as<float>()[6] += 0.5f;
  auto mismatch = compareBuffers(actual, expected, Tolerance{}, "buffer 'x'");
  ASSERT_TRUE(mismatch.has_value());
  EXPECT_NE(mismatch->find("buffer 'x' differs first at index 6"), std::string::npos) << *mismatch;

  runner::ArgSpec ints = floatBuffer(4, 1);
  ints.type = runner::ElementType::kInt;
  runner::HostArray a = runner::generateBuffer(ints);
  runner::HostArray b = a;
  b.as<std::int32_t>()[1] += 1;
  EXPECT_TRUE(compareBuffers(a, b, Tolerance{1.0, 1.0}, "i").has_value());  // integers ignore tolerances
}

TEST(KernelManifest, SizeExpressions) {
  EXPECT_EQ(*evaluateSizeExpression("N*N", 12), 144);
  EXPECT_EQ(*evaluateSizeExpression("(N + 63) / 64 * 64", 65), 128);
  EXPECT_EQ(*evaluateSizeExpression("4*N - N % 3", 10), 39);
  auto bad = evaluateSizeExpression("N*(2", 4);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("missing ')'"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(evaluateSizeExpression("N/0", 4).ok());
  EXPECT_FALSE(evaluateSizeExpression("M", 4).ok());
}

TEST(KernelManifest, BadManifestNamesTheFile) {
  const auto directory = std::filesystem::temp_directory_path() / "mirtune-tuner-test-manifest";
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "k.cl") << "__kernel void k(__global float* x) {}\n";
  std::ofstream(directory / "k.json")
      << R"({"name": "k", "source": "k.cl", "kernel": "k", "reference": "nope",
    "global_size": ["N"], "args": [], "sizes": [4]})";
  auto manifest = loadKernelManifest(directory / "k.json");
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().message().find("k.json"), std::string::npos);
  EXPECT_NE(manifest.error().message().find("'nope'"), std::string::npos) << manifest.error().message();
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace mirtune
