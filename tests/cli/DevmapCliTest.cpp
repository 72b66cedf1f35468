// `mirtune devmap` prediction end to end with the shipped encoder and heads: single file, multi-kernel files,
// batch CSV, the SQLite log, bad input, mismatched models, and `devmap eval` where the data set exists.
#include "common/RunMirtune.h"
#include "support/Files.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const std::string kInputs = MIRTUNE_TEST_INPUTS;
const std::string kRoot = MIRTUNE_SOURCE_ROOT;

class DevmapCli : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("mirtune-devmap-cli-" + std::to_string(::getpid()) + "-" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    db_ = (folder_ / "test.db").string();
  }
  void TearDown() override { fs::remove_all(folder_); }

  SubprocessResult devmap(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"--db", db_, "devmap"});
    return runMirtune(arguments);
  }

  fs::path folder_;
  std::string db_;
};

TEST_F(DevmapCli, PredictsTheShippedKernelAsJson) {
  auto result = devmap({kRoot + "/kernels/opencl/matmul_tiled.cl", "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  nlohmann::json list = nlohmann::json::parse(result.standardOutput);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["kernel"], "matmul_tiled");
  std::string device = list[0]["device"];
  EXPECT_TRUE(device == "CPU" || device == "GPU") << device;
  // The probability is the chosen device's (calibrated): below 0.5 when the expected speedup favours the less
  // likely device, so check it against gpu_probability instead.
  double probability = list[0]["probability"];
  double gpuProbability = list[0]["gpu_probability"];
  EXPECT_GE(probability, 0.0);
  EXPECT_LE(probability, 1.0);
  EXPECT_DOUBLE_EQ(probability, device == "GPU" ? gpuProbability : 1 - gpuProbability);
  EXPECT_EQ(list[0]["platform"], "amd");  // the documented default
  EXPECT_DOUBLE_EQ(list[0]["transfer"].get<double>(), 57594120.0);

  // Same answer from the embedding cache (second run) and without it.
  auto cached = devmap({kRoot + "/kernels/opencl/matmul_tiled.cl", "--json"});
  auto uncached = devmap({kRoot + "/kernels/opencl/matmul_tiled.cl", "--json", "--no-cache"});
  EXPECT_EQ(cached.standardOutput, result.standardOutput);
  EXPECT_EQ(uncached.standardOutput, result.standardOutput);
}

TEST_F(DevmapCli, TextOutputShowsDefaultsAndPlatform) {
  const std::string file = kRoot + "/kernels/opencl/vector_add.cl";
  auto result = devmap({file, "--platform", "nvidia"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  // The header line (hardware, launch defaults) is for the reader: stderr. stdout is one line per kernel.
  EXPECT_NE(result.standardError.find("platform nvidia: Intel Core i7-3820 vs NVIDIA GTX 970"), std::string::npos)
      << result.standardError;
  EXPECT_NE(result.standardError.find("(default"), std::string::npos) << result.standardError;
  EXPECT_EQ(result.standardOutput.find("platform"), std::string::npos) << result.standardOutput;
  EXPECT_EQ(result.standardOutput.rfind(file + "  vector_add  ", 0), 0u) << result.standardOutput;
  EXPECT_EQ(std::count(result.standardOutput.begin(), result.standardOutput.end(), '\n'), 1)
      << result.standardOutput;

  // --quiet leaves the header out; the data is the same.
  auto quiet = runMirtune({"--db", db_, "--quiet", "devmap", file, "--platform", "nvidia"});
  ASSERT_EQ(quiet.exitCode, 0) << quiet.standardError;
  EXPECT_EQ(quiet.standardOutput, result.standardOutput);
  EXPECT_EQ(quiet.standardError.find("platform"), std::string::npos) << quiet.standardError;
}

TEST_F(DevmapCli, EncoderOptionAndTheDeprecatedModelAlias) {
  const std::string file = kRoot + "/kernels/opencl/vector_add.cl";
  const std::string encoder = kRoot + "/embeddings/models/mirencoder-1.0";
  auto shipped = devmap({file, "--json", "--no-cache"});
  auto named = devmap({file, "--json", "--no-cache", "--encoder", encoder});
  auto deprecated = devmap({file, "--json", "--no-cache", "--model", encoder});
  ASSERT_EQ(shipped.exitCode, 0) << shipped.standardError;
  ASSERT_EQ(named.exitCode, 0) << named.standardError;
  ASSERT_EQ(deprecated.exitCode, 0) << deprecated.standardError;
  EXPECT_EQ(named.standardOutput, shipped.standardOutput);
  EXPECT_EQ(deprecated.standardOutput, shipped.standardOutput);
  EXPECT_EQ(named.standardError.find("deprecated"), std::string::npos) << named.standardError;
  EXPECT_NE(deprecated.standardError.find("--model is deprecated here; use --encoder"), std::string::npos)
      << deprecated.standardError;

  // --model still names the encoder: a folder that holds none fails with that folder's name.
  auto notAnEncoder = devmap({file, "--no-cache", "--model", folder_.string()});
  EXPECT_EQ(notAnEncoder.exitCode, 1);
  EXPECT_NE(notAnEncoder.standardError.find(folder_.string()), std::string::npos) << notAnEncoder.standardError;

  // The alias is hidden; train and eval choose head kinds with --head-kind.
  auto help = devmap({"--help"});
  EXPECT_NE(help.standardOutput.find("--encoder"), std::string::npos) << help.standardOutput;
  EXPECT_EQ(help.standardOutput.find("--model"), std::string::npos) << help.standardOutput;
  auto trainHelp = devmap({"train", "--help"});
  EXPECT_NE(trainHelp.standardOutput.find("--head-kind"), std::string::npos) << trainHelp.standardOutput;
  EXPECT_EQ(devmap({"train", "--head-kind", "forest"}).exitCode, 2);
  // The old spelling of a head kind is refused, not taken for the prediction's heads folder.
  auto oldKind = devmap({"eval", "--heads", "xgboost"});
  EXPECT_EQ(oldKind.exitCode, 2);
  EXPECT_NE(oldKind.standardError.find("--head-kind"), std::string::npos) << oldKind.standardError;
}

TEST_F(DevmapCli, LaunchInputsChangeTheAnswerForATransferBoundKernel) {
  // vector_add moves three buffers for one add per element: with tiny transfers and with huge ones the
  // probability must differ (the auxiliary inputs are used).
  auto small = devmap({kRoot + "/kernels/opencl/vector_add.cl", "--json", "--transfer", "1024", "--wgsize", "64"});
  auto large = devmap({kRoot + "/kernels/opencl/vector_add.cl", "--json", "--transfer", "4000000000", "--wgsize", "64"});
  ASSERT_EQ(small.exitCode, 0) << small.standardError;
  ASSERT_EQ(large.exitCode, 0) << large.standardError;
  auto gpu = [](const std::string& output) {
    return nlohmann::json::parse(output)[0]["raw_gpu_probability"].get<double>();
  };
  EXPECT_NE(gpu(small.standardOutput), gpu(large.standardOutput));
}

// A copy of the shipped heads whose manifest `edit` changes.
fs::path editedHeads(const fs::path& folder, const std::function<void(nlohmann::json&)>& edit) {
  const fs::path heads = folder / "heads";
  fs::copy(kRoot + "/tasks/devmap/models/devmap-1.0", heads, fs::copy_options::recursive);
  auto manifest = readJsonObject(heads / "manifest.json");
  EXPECT_TRUE(manifest);
  edit(*manifest);
  std::ofstream(heads / "manifest.json") << manifest->dump();
  return heads;
}

TEST_F(DevmapCli, JsonShowsCalibrationNoveltyExpectedSpeedupAndPolicy) {
  for (const std::string platform : {"amd", "nvidia"}) {
    auto result = devmap({kInputs + "/two_kernels.cl", "--json", "--no-cache", "--platform", platform});
    ASSERT_EQ(result.exitCode, 0) << result.standardError;
    nlohmann::json list = nlohmann::json::parse(result.standardOutput);
    ASSERT_EQ(list.size(), 2u);
    for (const nlohmann::json& item : list) {
      EXPECT_TRUE(item["calibrated"].get<bool>()) << item.dump();
      EXPECT_FALSE(item.contains("safety")) << item.dump();
      double novelty = item["novelty"];
      EXPECT_GE(novelty, 0.0);
      EXPECT_LE(novelty, 1.0);
      EXPECT_GT(item["expected_speedup"].get<double>(), 0.0);
      const std::string policy = item["policy"];
      EXPECT_EQ(item["fallback"].get<bool>(), policy != "expected-speedup") << item.dump();
      EXPECT_TRUE(policy == "expected-speedup" || policy == "aux-head" || policy == "cpu" || policy == "gpu")
          << policy;
      double raw = item["raw_gpu_probability"];
      EXPECT_GE(raw, 0.0);
      EXPECT_LE(raw, 1.0);
    }
  }
}

TEST_F(DevmapCli, FallbackAboveTheNoveltyThresholdIsShown) {
  // Threshold -1: every kernel is novel, so the platform's code-free fallback answers.
  std::string fallback;
  const fs::path heads = editedHeads(folder_, [&](nlohmann::json& manifest) {
    manifest["platforms"]["amd"]["safety"]["novelty_threshold"] = -1;
    fallback = manifest["platforms"]["amd"]["safety"]["fallback"];
  });
  const std::string file = kRoot + "/kernels/opencl/vector_add.cl";
  auto json = devmap({file, "--json", "--no-cache", "--heads", heads.string()});
  ASSERT_EQ(json.exitCode, 0) << json.standardError;
  nlohmann::json item = nlohmann::json::parse(json.standardOutput)[0];
  EXPECT_TRUE(item["fallback"].get<bool>()) << item.dump();
  EXPECT_EQ(item["policy"], fallback);
  auto text = devmap({file, "--no-cache", "--heads", heads.string()});
  ASSERT_EQ(text.exitCode, 0) << text.standardError;
  EXPECT_NE(text.standardOutput.find("fallback: " + fallback), std::string::npos) << text.standardOutput;

  // The shipped threshold (at most 1) never makes a percentile "above" 1: without the edit, vector_add's
  // answer says whether it fell back consistently with its novelty.
  auto shipped = devmap({file, "--json", "--no-cache"});
  ASSERT_EQ(shipped.exitCode, 0) << shipped.standardError;
  nlohmann::json answer = nlohmann::json::parse(shipped.standardOutput)[0];
  auto manifest = readJsonObject(kRoot + "/tasks/devmap/models/devmap-1.0/manifest.json");
  ASSERT_TRUE(manifest);
  const double threshold = (*manifest)["platforms"]["amd"]["safety"]["novelty_threshold"];
  EXPECT_EQ(answer["fallback"].get<bool>(), answer["novelty"].get<double>() > threshold) << answer.dump();
}

TEST_F(DevmapCli, HeadsFolderOfTheOlderFormatStillLoads) {
  const fs::path heads = editedHeads(folder_, [](nlohmann::json& manifest) {
    manifest["format"] = 1;
    manifest.erase("novelty");
    for (auto& [name, entry] : manifest["platforms"].items()) entry.erase("safety");
  });
  fs::remove(heads / "novelty.f32");
  fs::remove_all(heads / "amd-aux");
  fs::remove_all(heads / "nvidia-aux");
  auto result =
      devmap({kRoot + "/kernels/opencl/matmul_tiled.cl", "--json", "--no-cache", "--heads", heads.string()});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  nlohmann::json item = nlohmann::json::parse(result.standardOutput)[0];
  EXPECT_FALSE(item["calibrated"].get<bool>());
  EXPECT_TRUE(item["novelty"].is_null());
  EXPECT_TRUE(item["expected_speedup"].is_null());
  EXPECT_FALSE(item["fallback"].get<bool>());
  EXPECT_EQ(item["policy"], "head");
  EXPECT_NE(item["safety"].get<std::string>().find("format-1"), std::string::npos) << item.dump();
  EXPECT_GE(item["probability"].get<double>(), 0.5);  // the head's own argmax
  EXPECT_DOUBLE_EQ(item["gpu_probability"].get<double>(), item["raw_gpu_probability"].get<double>());

  // A format-2 folder whose novelty file is gone is an error naming that file, not a silent downgrade.
  const fs::path broken = folder_ / "broken";
  fs::copy(kRoot + "/tasks/devmap/models/devmap-1.0", broken, fs::copy_options::recursive);
  fs::remove(broken / "novelty.f32");
  auto refused =
      devmap({kRoot + "/kernels/opencl/matmul_tiled.cl", "--no-cache", "--heads", broken.string()});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.standardError.find("novelty.f32"), std::string::npos) << refused.standardError;
}

TEST_F(DevmapCli, EveryKernelOfAFileOrOneByName) {
  auto all = devmap({kInputs + "/two_kernels.cl", "--json"});
  ASSERT_EQ(all.exitCode, 0) << all.standardError;
  nlohmann::json list = nlohmann::json::parse(all.standardOutput);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["kernel"], "squares");
  EXPECT_EQ(list[1]["kernel"], "fill");

  auto one = devmap({kInputs + "/two_kernels.cl", "--kernel", "fill", "--json"});
  ASSERT_EQ(one.exitCode, 0) << one.standardError;
  nlohmann::json single = nlohmann::json::parse(one.standardOutput);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0], list[1]);

  auto missing = devmap({kInputs + "/two_kernels.cl", "--kernel", "nope"});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("no kernel named 'nope'"), std::string::npos) << missing.standardError;
  EXPECT_NE(missing.standardError.find("squares, fill"), std::string::npos) << missing.standardError;
}

TEST_F(DevmapCli, BadInputNamesTheFileAndLine) {
  auto compileError = devmap({kInputs + "/undeclared.cl"});
  EXPECT_EQ(compileError.exitCode, 1);
  EXPECT_NE(compileError.standardError.find("undeclared.cl:2:"), std::string::npos) << compileError.standardError;

  auto missing = devmap({(folder_ / "absent.cl").string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find("absent.cl"), std::string::npos);

  auto usage = devmap({});
  EXPECT_EQ(usage.exitCode, 2);
  auto platform = devmap({kRoot + "/kernels/opencl/vector_add.cl", "--platform", "tpu"});
  EXPECT_EQ(platform.exitCode, 2);
  EXPECT_NE(platform.standardError.find("tpu"), std::string::npos) << platform.standardError;
}

TEST_F(DevmapCli, HeadsTrainedForAnotherEncoderAreRefused) {
  fs::path heads = folder_ / "heads";
  fs::copy(kRoot + "/tasks/devmap/models/devmap-1.0", heads, fs::copy_options::recursive);
  auto manifest = readJsonObject(heads / "manifest.json");
  ASSERT_TRUE(manifest);
  (*manifest)["encoder"] = "mirencoder-0.9/000000000000";
  std::ofstream(heads / "manifest.json") << manifest->dump();
  auto result = devmap({kRoot + "/kernels/opencl/vector_add.cl", "--heads", heads.string()});
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.standardError.find("mirencoder-0.9/000000000000"), std::string::npos) << result.standardError;

  // A head whose model bytes were damaged fails on its checksum.
  (*manifest)["encoder"] = readJsonObject(kRoot + "/tasks/devmap/models/devmap-1.0/manifest.json")->at("encoder");
  std::ofstream(heads / "manifest.json") << manifest->dump();
  std::ofstream(heads / "amd" / "model.ubj", std::ios::app) << "x";
  auto damaged = devmap({kRoot + "/kernels/opencl/vector_add.cl", "--heads", heads.string()});
  EXPECT_EQ(damaged.exitCode, 1);
  EXPECT_NE(damaged.standardError.find("model.ubj"), std::string::npos) << damaged.standardError;
}

TEST_F(DevmapCli, BatchPredictionFromCsvWithErrorsPerRow) {
  fs::path input = folder_ / "rows.csv";
  std::ofstream(input) << "file,kernel,transfer,wgsize\n"
                       << kInputs << "/two_kernels.cl,,1048576,128\n"
                       << kRoot << "/kernels/opencl/vector_add.cl,vector_add,,\n"
                       << kInputs << "/undeclared.cl,f,1024,64\n"
                       << kRoot << "/kernels/opencl/vector_add.cl,vector_add,4096,32\n";
  fs::path output = folder_ / "out.csv";
  auto result = devmap({"predict", "--input", input.string(), "--platform", "nvidia", "-o", output.string()});
  // One row failed: the output is written for every row, and the exit status says that not all succeeded.
  ASSERT_EQ(result.exitCode, 1) << result.standardError;
  EXPECT_NE(result.standardError.find("1 of 5 predictions failed"), std::string::npos) << result.standardError;
  auto text = readFile(output);
  ASSERT_TRUE(text);
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text->find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text->substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 6u) << *text;  // header, two kernels of the first file, then one line per row
  EXPECT_EQ(lines[0], "file,kernel,transfer,wgsize,device,probability,error");
  EXPECT_NE(lines[1].find(",squares,1048576,128,"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(",fill,1048576,128,"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find(",vector_add,57594120,64,"), std::string::npos) << lines[3];  // defaults
  EXPECT_NE(lines[4].find("undeclared.cl:2:"), std::string::npos) << lines[4];
  EXPECT_TRUE(lines[5].find(",GPU,") != std::string::npos || lines[5].find(",CPU,") != std::string::npos) << lines[5];

  auto badCsv = devmap({"predict", "--input", (folder_ / "absent.csv").string()});
  EXPECT_EQ(badCsv.exitCode, 1);
  EXPECT_NE(badCsv.standardError.find("absent.csv"), std::string::npos);
}

TEST_F(DevmapCli, PredictionsAreLoggedInTheDatabase) {
  ASSERT_EQ(devmap({kInputs + "/two_kernels.cl"}).exitCode, 0);
  auto exported = runMirtune({"--db", db_, "db", "export", "--table", "predictions", "--format", "json"});
  ASSERT_EQ(exported.exitCode, 0) << exported.standardError;
  nlohmann::json rows = nlohmann::json::parse(exported.standardOutput);
  ASSERT_EQ(rows.size(), 2u) << exported.standardOutput;
  for (const auto& row : rows) {
    EXPECT_EQ(row["task"], "devmap");
    EXPECT_NE(row["model_id"].get<std::string>().find("devmap-1.0/amd"), std::string::npos);
  }
}

TEST_F(DevmapCli, EvalRefusesAnUnknownSplitAndAMissingVocabulary) {
  auto bad = devmap({"eval", "--features", "aux", "--split", "published,programs"});
  EXPECT_EQ(bad.exitCode, 2);  // a usage error
  EXPECT_NE(bad.standardError.find("unknown --split 'programs'"), std::string::npos) << bad.standardError;
  EXPECT_TRUE(bad.standardOutput.empty());
  fs::path absent = folder_ / "no-vocabulary" / "seed.txt";
  auto missing = devmap({"eval", "--features", "ir2vec", "--ir2vec-vocabulary", absent.string()});
  EXPECT_EQ(missing.exitCode, 1);
  EXPECT_NE(missing.standardError.find(absent.string()), std::string::npos) << missing.standardError;
}

TEST_F(DevmapCli, EvalReproducesTheProtocolWhenTheDataSetIsThere) {
  if (!fs::exists(dataDirectory() / "devmap")) {
    GTEST_SKIP() << "device-mapping data set not found at " << dataDirectory() / "devmap" << " (set MIRTUNE_DATA)";
  }
  // Auxiliary features alone and one cheap candidate: seconds, yet the whole protocol (folds, inner CV, metrics).
  fs::path candidates = folder_ / "candidates.json";
  std::ofstream(candidates) << R"([{"kind": "xgboost", "params": {"max_depth": 3, "rounds": 50}}])";
  auto result = devmap({"eval", "--platform", "amd", "--features", "aux", "--candidates", candidates.string(), "--json"});
  ASSERT_EQ(result.exitCode, 0) << result.standardError;
  nlohmann::json report = nlohmann::json::parse(result.standardOutput);
  EXPECT_EQ(report["rows"], 680);
  ASSERT_TRUE(report.contains("published"));
  nlohmann::json published = report["published"];
  ASSERT_TRUE(published.contains("amd"));
  EXPECT_FALSE(published.contains("nvidia"));
  EXPECT_EQ(published["amd"]["folds"].size(), 10u);
  EXPECT_GT(published["amd"]["accuracy"].get<double>(), 0.5882);  // better than the static mapping
  EXPECT_GT(published["amd"]["speedup"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(published["references"]["always_cpu"]["amd"]["accuracy"].get<double>(), 400.0 / 680);
  EXPECT_DOUBLE_EQ(published["references"]["always_cpu"]["amd"]["speedup"].get<double>(),
                   1.0);  // the static mapping

  // Kernels and suites held out, side by side: grouped outer and inner folds, references on the same rows.
  auto grouped = devmap({"eval", "--platform", "nvidia", "--features", "aux", "--split", "kernel,suite",
                         "--candidates", candidates.string(), "--json"});
  ASSERT_EQ(grouped.exitCode, 0) << grouped.standardError;
  report = nlohmann::json::parse(grouped.standardOutput);
  EXPECT_EQ(report["splits"], nlohmann::json({"kernel", "suite"}));
  EXPECT_FALSE(report.contains("published"));
  EXPECT_EQ(report["kernel"]["outer_folds"], 10);
  EXPECT_EQ(report["suite"]["outer_folds"], 7);
  for (const char* split : {"kernel", "suite"}) {
    const nlohmann::json& nvidia = report[split]["nvidia"];
    for (const char* key : {"accuracy", "speedup", "oracle_fraction"})
      EXPECT_TRUE(nvidia.contains(key)) << key;
    EXPECT_GT(nvidia["oracle_fraction"].get<double>(), 0.0);
    EXPECT_LE(nvidia["oracle_fraction"].get<double>(), 1.0);
    // The better fixed device by mean speedup: on NVIDIA always-CPU (mean 1.19 over the GPU's 1.0, though the
    // GPU is right more often).
    const nlohmann::json& references = report[split]["references"];
    EXPECT_EQ(references["best_fixed"]["nvidia"]["device"], "CPU");
    EXPECT_GT(references["always_cpu"]["nvidia"]["speedup"].get<double>(),
              references["always_gpu"]["nvidia"]["speedup"].get<double>());
    EXPECT_LT(references["always_cpu"]["nvidia"]["accuracy"].get<double>(),
              references["always_gpu"]["nvidia"]["accuracy"].get<double>());
  }
  std::set<std::string> heldOut;
  for (const auto& fold : report["suite"]["nvidia"]["folds"])
    heldOut.insert(fold["held_out"].get<std::string>());
  EXPECT_EQ(heldOut.size(), 7u);
  EXPECT_EQ(heldOut.count("npb-3.3"), 1u);

  std::ofstream(candidates) << "not json";
  auto bad = devmap({"eval", "--features", "aux", "--candidates", candidates.string()});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.standardError.find("candidates.json"), std::string::npos) << bad.standardError;
}

}  // namespace
}  // namespace mirtune
