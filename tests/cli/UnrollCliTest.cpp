// End-to-end tests of `mirtune unroll FILE`: bad input named, no head is a clear error, --run with a random
// budget of one measures and stores two configurations, vectorize factors that change a float sum are caught,
// and a head trained on a tiny data set predicts for every loop and --apply writes a source clang accepts;
// `unroll train` writes to the user's model folder by default, --heads selects a head folder (--model still
// works, with a warning) and -D reaches the compile.
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = fs::path(MIRTUNE_TEST_INPUTS) / "unroll";

SubprocessResult mirtune(const std::vector<std::string>& arguments, double timeoutSeconds = 300,
                         const std::map<std::string, std::string>& environment = {}) {
  SubprocessOptions options;
  options.argv = {MIRTUNE_EXECUTABLE};
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.environment = environment;
  options.environment["OMP_WAIT_POLICY"] = "passive";
  options.timeoutSeconds = timeoutSeconds;
  auto result = runSubprocess(options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return result.ok() ? *result : SubprocessResult{};
}

std::vector<std::string> quick(const TemporaryFolder& folder, std::vector<std::string> arguments) {
  std::vector<std::string> all = {"--db", folder.db(), "unroll"};
  all.insert(all.end(), arguments.begin(), arguments.end());
  // The work folder's path is a named string: a c_str() of a temporary path would dangle inside the loop.
  const std::string work = (folder.path() / "work").string();
  for (const char* option :
       {"--min-time", "0.005", "--min-repetitions", "1", "--max-repetitions", "2", "--work-dir", work.c_str()}) {
    all.emplace_back(option);
  }
  return all;
}

TEST(UnrollCli, WithoutAHeadPredictionSaysHowToTrainOne) {
  TemporaryFolder folder("mirtune-unroll-cli", "nohead");
  auto run = mirtune({"--db", folder.db(), "unroll", (kInputs / "tiny_loop.c").string(), "--model",
                      (folder.path() / "none").string()});
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.standardError.find("mirtune unroll train"), std::string::npos) << run.standardError;
}

TEST(UnrollCli, BadInputIsNamed) {
  TemporaryFolder folder("mirtune-unroll-cli", "bad");
  auto missing = mirtune({"--db", folder.db(), "unroll", "/nonexistent/x.c"});
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.standardError.find("/nonexistent/x.c"), std::string::npos) << missing.standardError;
  auto noLoop = mirtune(
      quick(folder, {(kInputs / "tiny_loop.c").string(), "--loop", "4", "--run", "--strategy", "random"}));
  EXPECT_NE(noLoop.exitCode, 0);
  EXPECT_NE(noLoop.standardError.find("tiny_loop.c:4"), std::string::npos) << noLoop.standardError;
  auto knob = mirtune(quick(folder, {(kInputs / "tiny_loop.c").string(), "--knob", "tile", "--run"}));
  EXPECT_EQ(knob.exitCode, 2) << knob.standardError;
}

TEST(UnrollCli, RunWithRandomBudgetOneMeasuresDefaultAndOneMoreAndStoresThem) {
  TemporaryFolder folder("mirtune-unroll-cli", "run");
  auto run =
      mirtune(quick(folder, {(kInputs / "tiny_loop.c").string(), "--loop", "12", "--args", "50", "--run",
                             "--strategy", "random", "--budget", "1", "--seed", "3", "--json"}));
  ASSERT_EQ(run.exitCode, 0) << run.standardError;
  auto json = nlohmann::json::parse(run.standardOutput);
  ASSERT_EQ(json["loops"].size(), 1u);
  const auto& loop = json["loops"][0];
  EXPECT_EQ(loop["line"], 12);
  EXPECT_EQ(loop["function"], "scaled_sum");
  ASSERT_EQ(loop["results"].size(), 2u);
  EXPECT_EQ(loop["results"][0]["factors"], "default");
  EXPECT_NE(loop["results"][1]["factors"], "default");
  for (const auto& r : loop["results"]) {
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["timer"], "region") << r.dump();
  }
  EXPECT_TRUE(loop.contains("chosen"));
  auto db = Database::open(folder.db(), Database::OpenMode::kExisting);
  ASSERT_TRUE(db.ok());
  auto stored = db->listMeasurements();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].task, "unroll");
  EXPECT_EQ((*stored)[1].configuration, loop["results"][1]["configuration"]);
}

TEST(UnrollCli, VectorizeFactorsThatReorderAFloatSumAreWrongOutput) {
  TemporaryFolder folder("mirtune-unroll-cli", "fp");
  auto run = mirtune(quick(folder, {(kInputs / "fp_sum.c").string(), "--knob", "vectorize", "--run",
                                    "--strategy", "exhaustive", "--json"}));
  auto json = nlohmann::json::parse(run.standardOutput, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run.standardError;
  const auto& results = json["loops"][0]["results"];
  ASSERT_EQ(results.size(), 16u);
  EXPECT_EQ(results[0]["status"], "ok");
  int wrong = 0, ok = 0;
  for (const auto& r : results) {
    if (r["status"] == "wrong_output") ++wrong;
    if (r["status"] == "ok") ++ok;
    // Width 1 with one interleave keeps the sequential order: its sum is the default's.
    if (r["factors"] == "1x1") {
      EXPECT_EQ(r["status"], "ok") << r.dump();
    }
  }
  EXPECT_GT(wrong, 0);
  EXPECT_GT(ok, 1);
  EXPECT_NE(json["loops"][0]["chosen"]["status"], "wrong_output");
}

TEST(UnrollCli, TrainedHeadPredictsEveryLoopAndApplyWritesCompilableSource) {
  TemporaryFolder folder("mirtune-unroll-cli", "train");
  // A tiny data set over the loops of loops.c, named as files, measured on six machines: unroll by 8 is the
  // best everywhere, so even a head trained on so few rows must rank it first.
  const std::string source = (kInputs / "loops.c").string();
  std::string csv =
      "platform,cpu_model,knob,suite,program,family,function,line,configuration,status,median_seconds,iqr_"
      "seconds\n";
  const std::vector<std::pair<std::string, int>> loops = {{"sum", 11}, {"nest", 17}, {"countdown", 25}};
  for (int machine = 0; machine < 6; ++machine) {
    for (const auto& [function, line] : loops) {
      for (const std::string token : {"default", "disable", "2", "4", "8", "16"}) {
        const double seconds = token == "8" ? 0.5 : token == "default" ? 1.0 : 1.2 + 0.01 * machine;
        csv += fmt::format("m{},cpu,unroll,file,{},{},{},{},{},ok,{},0\n", machine, source, function,
                           function, line, token, seconds);
      }
    }
  }
  const fs::path data = folder.path() / "data.csv";
  ASSERT_TRUE(writeFileAtomically(data, csv).ok());
  const fs::path model = folder.path() / "unroll-test";
  auto train =
      mirtune({"--db", folder.db(), "unroll", "train", "--data", data.string(), "--out", model.string()});
  ASSERT_EQ(train.exitCode, 0) << train.standardError;
  ASSERT_TRUE(fs::exists(model / "manifest.json"));
  ASSERT_TRUE(fs::exists(model / "unroll" / "head.json"));
  // The vectorize knob has no head in this folder.
  auto other =
      mirtune({"--db", folder.db(), "unroll", source, "--knob", "vectorize", "--heads", model.string()});
  EXPECT_NE(other.exitCode, 0);
  EXPECT_NE(other.standardError.find("--knob vectorize"), std::string::npos) << other.standardError;

  auto predict = mirtune({"--db", folder.db(), "unroll", source, "--heads", model.string(), "--json"});
  ASSERT_EQ(predict.exitCode, 0) << predict.standardError;
  auto json = nlohmann::json::parse(predict.standardOutput);
  // sum, nest, countdown: the macro's loop and the header's loop cannot take a pragma.
  ASSERT_EQ(json["loops"].size(), 3u);
  for (const auto& loop : json["loops"]) {
    EXPECT_EQ(loop["factors"], "8") << loop.dump();
    EXPECT_EQ(loop["pragma"], "clang loop unroll_count(8)") << loop.dump();
  }
  EXPECT_EQ(json["loops"][0]["line"], 11);
  EXPECT_EQ(predict.standardError.find("deprecated"), std::string::npos) << predict.standardError;

  // --model is the old name of --heads: the same prediction, and one warning on stderr.
  auto legacy = mirtune({"--db", folder.db(), "unroll", source, "--model", model.string(), "--json"});
  ASSERT_EQ(legacy.exitCode, 0) << legacy.standardError;
  EXPECT_EQ(legacy.standardOutput, predict.standardOutput);
  EXPECT_NE(legacy.standardError.find("--model is deprecated here; use --heads"), std::string::npos)
      << legacy.standardError;

  const fs::path out = folder.path() / "applied.c";
  auto apply = mirtune({"--db", folder.db(), "unroll", source, "--heads", model.string(), "--loop", "11",
                        "--apply", "-o", out.string()});
  ASSERT_EQ(apply.exitCode, 0) << apply.standardError;
  auto text = readFile(out);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("  #pragma clang loop unroll_count(8)\n  for (int i = 0; i < n; ++i) s += data[i];"),
            std::string::npos)
      << *text;
  SubprocessOptions clang;
  clang.argv = {"clang-14",       "-O3",        "-c", "-I",
                kInputs.string(), out.string(), "-o", (folder.path() / "applied.o").string()};
  auto compiled = runSubprocess(clang);
  ASSERT_TRUE(compiled.ok());
  EXPECT_TRUE(compiled->succeeded()) << compiled->standardError;
}

// Every file under a folder with its content, to see that a command left it as it was.
std::map<std::string, std::string> snapshot(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    auto text = readFile(entry.path());
    files[entry.path().string()] = text.ok() ? *text : std::string("(unreadable)");
  }
  return files;
}

TEST(UnrollCli, TrainWritesToTheUsersModelFolderByDefaultAndLeavesTheShippedHeadsAlone) {
  TemporaryFolder folder("mirtune-unroll-cli", "xdg");
  const std::string source = (kInputs / "loops.c").string();
  std::string csv =
      "platform,cpu_model,knob,suite,program,family,function,line,configuration,status,median_seconds,iqr_"
      "seconds\n";
  for (int machine = 0; machine < 4; ++machine) {
    for (const std::string token : {"default", "disable", "2", "4", "8", "16"}) {
      const double seconds = token == "4" ? 0.5 : 1.0 + 0.01 * machine;
      csv += fmt::format("m{},cpu,unroll,file,{},sum,sum,11,{},ok,{},0\n", machine, source, token, seconds);
    }
  }
  const fs::path data = folder.path() / "data.csv";
  ASSERT_TRUE(writeFileAtomically(data, csv).ok());
  // The source tree holds the shipped heads (tests/inputs is two levels below its root).
  const fs::path shipped = fs::path(MIRTUNE_TEST_INPUTS).parent_path().parent_path() / "tasks" / "unroll" / "models";
  ASSERT_TRUE(fs::exists(shipped / "unroll-1.0" / "manifest.json"));
  const auto before = snapshot(shipped);

  const fs::path xdg = folder.path() / "xdg";
  auto train = mirtune({"--db", folder.db(), "unroll", "train", "--data", data.string()}, 300,
                       {{"XDG_DATA_HOME", xdg.string()}});
  ASSERT_EQ(train.exitCode, 0) << train.standardError;
  const fs::path expected = xdg / "mirtune" / "models" / "unroll" / "unroll-1.0";
  EXPECT_EQ(train.standardOutput, expected.string() + "\n");
  EXPECT_TRUE(fs::exists(expected / "manifest.json"));
  EXPECT_TRUE(fs::exists(expected / "unroll" / "head.json"));
  EXPECT_EQ(snapshot(shipped), before);

  // The folder train printed is what --heads takes.
  auto predict = mirtune({"--db", folder.db(), "unroll", source, "--heads", expected.string(), "--json"});
  ASSERT_EQ(predict.exitCode, 0) << predict.standardError;
  auto json = nlohmann::json::parse(predict.standardOutput);
  ASSERT_FALSE(json["loops"].empty());
  EXPECT_EQ(json["loops"][0]["line"], 11);
}

TEST(UnrollCli, DefinesReachTheCompile) {
  TemporaryFolder folder("mirtune-unroll-cli", "define");
  const std::string source = (kInputs / "needs_define.c").string();
  auto without = mirtune({"--db", folder.db(), "unroll", source});
  EXPECT_NE(without.exitCode, 0);
  EXPECT_NE(without.standardError.find("build with -D N="), std::string::npos) << without.standardError;

  auto with = mirtune({"--db", folder.db(), "unroll", source, "-D", "N=64", "--json"});
  ASSERT_EQ(with.exitCode, 0) << with.standardError;
  auto json = nlohmann::json::parse(with.standardOutput);
  ASSERT_EQ(json["loops"].size(), 1u);
  EXPECT_EQ(json["loops"][0]["line"], 9);
  EXPECT_EQ(json["loops"][0]["function"], "total");
}

}  // namespace
}  // namespace mirtune
