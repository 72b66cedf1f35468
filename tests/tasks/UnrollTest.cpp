// Tests of the unroll task: spaces, pragma text and tokens, corpus families, the data CSV, a wrong output
// under one configuration caught by the tuner, and the family-grouped cross-validation on a learnable
// synthetic set.
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "tasks/unroll/UnrollData.h"
#include "tasks/unroll/UnrollModel.h"
#include "tasks/unroll/UnrollProgram.h"
#include "tasks/unroll/UnrollSpace.h"
#include "tuner/TuningSession.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace mirtune::unroll {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = fs::path(MIRTUNE_TEST_INPUTS) / "unroll";

TEST(UnrollSpace, KnobsHaveTheDocumentedSpacesWithTheCompilerDefaultFirst) {
  const SearchSpace unroll = makeUnrollSpace(Knob::kUnroll);
  EXPECT_EQ(unroll.size(), 6u);
  EXPECT_EQ(configurationToken(Knob::kUnroll, unroll.defaultConfiguration()), "default");
  const SearchSpace vectorize = makeUnrollSpace(Knob::kVectorize);
  EXPECT_EQ(vectorize.size(), 16u);  // 5 widths x 3 interleaves + the default
  EXPECT_FALSE(vectorize.contains({{"width", 4}, {"interleave", "default"}}));
  for (Knob knob : {Knob::kUnroll, Knob::kVectorize}) {
    std::set<std::string> tokens;
    for (const auto& c : makeUnrollSpace(knob).enumerate()) {
      const std::string token = configurationToken(knob, c);
      EXPECT_TRUE(tokens.insert(token).second) << token;
      auto back = parseConfigurationToken(knob, token);
      ASSERT_TRUE(back.ok()) << back.error().message();
      EXPECT_EQ(*back, c);
    }
  }
  EXPECT_FALSE(parseConfigurationToken(Knob::kUnroll, "3").ok());
  EXPECT_FALSE(parseConfigurationToken(Knob::kVectorize, "32x1").ok());
  EXPECT_FALSE(parseKnob("interleave").ok());
}

TEST(UnrollSpace, ConfigurationsBecomeTheirPragmas) {
  EXPECT_EQ(pragmaFor(Knob::kUnroll, {{"unroll", 8}}, 5).text, "clang loop unroll_count(8)");
  EXPECT_EQ(pragmaFor(Knob::kUnroll, {{"unroll", "disable"}}, 5).text, "clang loop unroll(disable)");
  EXPECT_EQ(pragmaFor(Knob::kUnroll, {{"unroll", "default"}}, 5).text, "");
  EXPECT_EQ(pragmaFor(Knob::kVectorize, {{"width", 4}, {"interleave", 2}}, 7).text,
            "clang loop vectorize_width(4) interleave_count(2)");
  EXPECT_EQ(pragmaFor(Knob::kVectorize, {{"width", 4}, {"interleave", 2}}, 7).line, 7);
  EXPECT_NE(configFeatures(Knob::kUnroll, {{"unroll", 8}}), configFeatures(Knob::kUnroll, {{"unroll", 2}}));
  EXPECT_EQ(configFeatures(Knob::kVectorize, {{"width", 8}, {"interleave", 1}}).size(),
            kVectorizeFeatures.size());
}

TEST(UnrollProgram, CorpusVariantsShareTheirKernelsFamily) {
  EXPECT_EQ(programFamily(Suite::kNeuroVectorizer, "s12nn_512_mul_3.c"), "s12");
  EXPECT_EQ(programFamily(Suite::kNeuroVectorizer, "s12_1024_add_0.c"), "s12");
  EXPECT_EQ(programFamily(Suite::kNeuroVectorizer, "s9n_64_sub_1.c"), "s9");
  EXPECT_NE(programFamily(Suite::kNeuroVectorizer, "s1_64_sub_1.c"),
            programFamily(Suite::kNeuroVectorizer, "s12_64_sub_1.c"));
  EXPECT_EQ(programFamily(Suite::kOpenMp, "2mm"), "openmp:2mm");
}

TEST(UnrollProgram, SamplesAreDeterministicAndDistinct) {
  std::vector<UnrollProgram> all(50);
  for (std::size_t i = 0; i < all.size(); ++i) all[i].name = "p" + std::to_string(100 + i);
  auto a = samplePrograms(all, 10, 3);
  auto b = samplePrograms(all, 10, 3);
  auto c = samplePrograms(all, 10, 4);
  ASSERT_EQ(a.size(), 10u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    names.insert(a[i].name);
  }
  EXPECT_EQ(names.size(), 10u);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) differs = differs || a[i].name != c[i].name;
  EXPECT_TRUE(differs);
  EXPECT_EQ(samplePrograms(all, 0, 1).size(), 50u);
}

TEST(UnrollProgram, CorpusListReadsTheRuntimesAndSkipsMissingFiles) {
  TemporaryFolder folder("mirtune-unroll", "corpus");
  std::ofstream(folder.path() / "s1_64_add_0.c") << "int main(void) { return 0; }\n";
  std::ofstream(folder.path() / "runtimes.csv") << "file,o3_runtime\ns1_64_add_0.c,150\nmissing.c,40\n";
  auto programs = neuroVectorizerPrograms(folder.path(), folder.path() / "runtimes.csv");
  ASSERT_TRUE(programs.ok()) << programs.error().message();
  ASSERT_EQ(programs->size(), 1u);
  EXPECT_NEAR((*programs)[0].iterationScale, kTargetRunSeconds * 1000 / 150, 1e-12);
  std::ofstream(folder.path() / "bad.csv") << "file,o3_runtime\ns1_64_add_0.c,fast\n";
  auto bad = neuroVectorizerPrograms(folder.path(), folder.path() / "bad.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("bad.csv:2"), std::string::npos) << bad.error().message();
}

LoopSample sampleWith(const std::string& program, const std::string& family, int line, Knob knob,
                      const std::vector<std::pair<std::string, double>>& times) {
  LoopSample s;
  s.platform = "abc";
  s.cpuModel = "cpu, with comma";
  s.knob = knob;
  s.suite = "neurovectorizer";
  s.program = program;
  s.family = family;
  s.function = "kernel";
  s.line = line;
  for (const auto& [token, seconds] : times) {
    LoopMeasurement m;
    m.configuration = *parseConfigurationToken(knob, token);
    if (seconds > 0) {
      m.median = seconds;
      m.iqr = seconds / 100;
    } else {
      m.status = MeasureStatus::kWrongOutput;
    }
    s.measurements.push_back(m);
  }
  return s;
}

TEST(UnrollData, CsvRoundTripsAndBadRowsNameTheLine) {
  std::vector<LoopSample> samples = {
      sampleWith("s1_64_add_0.c", "s1", 12, Knob::kUnroll, {{"default", 0.5}, {"4", 0.25}, {"disable", -1}}),
      sampleWith("s2_64_add_0.c", "s2", 9, Knob::kVectorize, {{"default", 0.5}, {"8x2", 0.4}})};
  TemporaryFolder folder("mirtune-unroll", "csv");
  const fs::path path = folder.path() / "data.csv";
  ASSERT_TRUE(writeFileAtomically(path, unrollDataToCsv(samples)).ok());
  auto read = readUnrollData(path);
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].cpuModel, "cpu, with comma");
  EXPECT_EQ((*read)[0].measurements.size(), 3u);
  EXPECT_EQ((*read)[0].measurements[2].status, MeasureStatus::kWrongOutput);
  EXPECT_EQ(*(*read)[0].bestMedian(), 0.25);
  EXPECT_EQ(*(*read)[0].defaultMedian(), 0.5);
  EXPECT_EQ((*read)[1].knob, Knob::kVectorize);
  EXPECT_EQ((*read)[1].measurements[1].configuration, (nlohmann::json{{"width", 8}, {"interleave", 2}}));

  auto text = readFile(path);
  std::string broken = *text + "abc,cpu,unroll,neurovectorizer,x.c,s9,k,3,7,ok,0.1,0\n";
  ASSERT_TRUE(writeFileAtomically(path, broken).ok());
  auto bad = readUnrollData(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("data.csv:7"), std::string::npos) << bad.error().message();
  EXPECT_NE(bad.error().message().find("'7'"), std::string::npos) << bad.error().message();
}

// The tuner flags a configuration whose build makes the program print something else.
TEST(UnrollSession, WrongOutputUnderOneConfigurationIsRecorded) {
  TemporaryFolder folder("mirtune-unroll", "wrong");
  auto database = Database::open(folder.db());
  ASSERT_TRUE(database.ok());
  PlatformRecord platform;
  platform.fingerprint = "unroll-test";
  platform.cpuModel = "test cpu";
  const std::int64_t platformId = *database->upsertPlatform(platform);
  UnrollProgram program;
  program.name = "tiny_loop.c";
  program.source = kInputs / "tiny_loop.c";
  program.arguments = {"20"};
  auto variants = loopVariants(program, Knob::kUnroll, 12, {{"4", {"-DCHECKSUM_SEED=1"}}});
  ASSERT_TRUE(variants.ok()) << variants.error().message();
  EXPECT_EQ(variants->files.size(), 6u);
  EXPECT_NE(variants->files.at("loop-4.c").find("#pragma clang loop unroll_count(4)\n"), std::string::npos);
  EXPECT_EQ(variants->files.at("loop-default.c").find("#pragma"), std::string::npos);
  const SearchSpace space = makeUnrollSpace(Knob::kUnroll);
  TuningRequest request;
  request.task = "unroll";
  request.command = "test";
  request.workload = {0, "tiny", std::nullopt, "c", program.source.string(), {}};
  request.files = variants->files;
  request.commands = variants->commands;
  request.space = &space;
  request.showProgress = false;
  request.settings.minTimeSeconds = 0.001;
  request.settings.minRepetitions = 1;
  request.settings.maxRepetitions = 1;
  request.settings.warmup = 0;
  request.workDirectory = folder.path() / "work";
  request.planner = [](const std::vector<TunedConfiguration>& done) -> Expected<std::vector<Configuration>> {
    if (done.size() > 1) return std::vector<Configuration>{};
    return std::vector<Configuration>{{{"unroll", 2}}, {{"unroll", 4}}};
  };
  auto result = runTuningSession(*database, platformId, "unroll-test", request, MIRTUNE_RUN_EXECUTABLE);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->results.size(), 3u);
  EXPECT_EQ(result->results[0].status, MeasureStatus::kOk) << result->results[0].message;
  EXPECT_EQ(result->results[1].status, MeasureStatus::kOk) << result->results[1].message;
  EXPECT_EQ(result->results[2].configuration, (nlohmann::json{{"unroll", 4}}));
  EXPECT_EQ(result->results[2].status, MeasureStatus::kWrongOutput) << result->results[2].message;
}

TEST(UnrollSession, LoopThatCannotTakeAPragmaIsRefusedWithItsLine) {
  UnrollProgram program;
  program.source = kInputs / "tiny_loop.c";
  auto variants = loopVariants(program, Knob::kUnroll, 3);
  ASSERT_FALSE(variants.ok());
  EXPECT_NE(variants.error().message().find("tiny_loop.c:3"), std::string::npos)
      << variants.error().message();
}

// A synthetic set where the first embedding value decides the best unroll count (8 when positive, disable
// otherwise): a head trained on the other families must find it in held-out families.
TEST(UnrollEval, GroupedFoldsKeepFamiliesApartAndLearnALearnableRule) {
  std::vector<LoopSample> samples;
  std::map<std::string, LoopEmbedding> embeddings;
  for (int family = 0; family < 10; ++family) {
    for (int variant = 0; variant < 8; ++variant) {
      const bool likesUnroll = (variant + family) % 2 == 0;
      const std::string program = "f" + std::to_string(family) + "_" + std::to_string(variant) + ".c";
      const double base = 1.0 + 0.1 * variant;
      samples.push_back(sampleWith(program, "f" + std::to_string(family), 10, Knob::kUnroll,
                                   {{"default", base},
                                    {"disable", likesUnroll ? base * 1.3 : base * 0.6},
                                    {"2", base * 0.95},
                                    {"4", base * 0.9},
                                    {"8", likesUnroll ? base * 0.5 : base * 1.2},
                                    {"16", base * 1.1}}));
      std::vector<float> loop(6, 0.0f);
      loop[0] = likesUnroll ? 1.0f : -1.0f;
      loop[1] = static_cast<float>(variant);
      loop[2] = static_cast<float>(family % 3);
      embeddings[loopKey("neurovectorizer", program, 10)] = {loop, {0.5f, static_cast<float>(family)}};
    }
  }
  UnrollEvalOptions options;
  options.randomDraws = 200;
  options.groupByFamily = true;
  auto result = evaluateGroupedFolds(samples, embeddings, options);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->loops.size(), samples.size());
  ASSERT_EQ(result->foldFamilies.size(), 5u);
  std::set<std::string> seen;
  for (const auto& fold : result->foldFamilies) {
    EXPECT_EQ(fold.size(), 2u);
    for (const auto& family : fold) EXPECT_TRUE(seen.insert(family).second) << family << " in two folds";
  }
  for (const auto& loop : result->loops) {
    const auto& fold = result->foldFamilies[loop.fold];
    EXPECT_NE(std::find(fold.begin(), fold.end(), loop.family), fold.end());
    EXPECT_LE(loop.predictKeepSpeedup, loop.oracleSpeedup + 1e-12);
  }
  const auto& s = result->summary;
  EXPECT_GT(s.percentPredict, 95.0);
  EXPECT_GT(s.meanPredict, 1.0);
  EXPECT_GT(s.meanPredict, s.meanRandom1);
  // No single count suits both halves: the best fixed one loses to per-loop predictions.
  ASSERT_EQ(result->foldFixed.size(), 5u);
  EXPECT_GT(s.meanPredict, s.meanFixed);
  EXPECT_GT(s.meanFixed, 1.0);
  EXPECT_NEAR(s.meanOracle, (1 / 0.5 + 1 / 0.6) / 2, 1e-9);

  options.folds = 11;
  EXPECT_FALSE(evaluateGroupedFolds(samples, embeddings, options).ok());

  // Folds of single programs (the default): 80 programs dealt into the folds, a family spread over several.
  options.folds = 5;
  options.groupByFamily = UnrollEvalOptions{}.groupByFamily;
  ASSERT_FALSE(options.groupByFamily);
  auto byProgram = evaluateGroupedFolds(samples, embeddings, options);
  ASSERT_TRUE(byProgram.ok()) << byProgram.error().message();
  std::size_t programs = 0;
  for (const auto& fold : byProgram->foldFamilies) programs += fold.size();
  EXPECT_EQ(programs, samples.size());
  for (const auto& loop : byProgram->loops) {
    const auto& fold = byProgram->foldFamilies[loop.fold];
    EXPECT_NE(std::find(fold.begin(), fold.end(), "neurovectorizer/" + loop.program), fold.end())
        << loop.program;
  }
}

}  // namespace
}  // namespace mirtune::unroll
