// The OpenMP task without running programs: the space and its environment, the data-set CSV round trip and
// the completeness rule, the top-k measuring order, and leave-one-app-out evaluation on synthetic
// measurements.
#include "tasks/omp/OmpData.h"
#include "tasks/omp/OmpModel.h"
#include "tasks/omp/OmpSpace.h"

#include "common/TemporaryFolder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace mirtune::omp {
namespace {

TEST(OmpSpace, FullAndSmallSpacesAndTheirDefault) {
  EXPECT_EQ(threadCounts(2, SpaceSize::kFull), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(threadCounts(16, SpaceSize::kFull), (std::vector<int>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(threadCounts(16, SpaceSize::kSmall), (std::vector<int>{1, 8, 16, 32}));
  EXPECT_EQ(makeOmpSpace(2, SpaceSize::kFull).size(), 54u);
  EXPECT_EQ(makeOmpSpace(16, SpaceSize::kSmall).size(), 24u);
  const Configuration def = makeOmpSpace(16, SpaceSize::kSmall).defaultConfiguration();
  EXPECT_EQ(def, (Configuration{{"threads", 16}, {"schedule", "static"}, {"chunk", "default"}}));
  // Both variables always set: libgomp and libomp have different defaults.
  const auto env = ompEnvironment({{"threads", 3}, {"schedule", "guided"}, {"chunk", 64}});
  EXPECT_EQ(env.at("OMP_NUM_THREADS"), "3");
  EXPECT_EQ(env.at("OMP_SCHEDULE"), "guided,64");
  EXPECT_EQ(ompEnvironment(def).at("OMP_SCHEDULE"), "static");
}

// One app at one size on a 2-core machine with the whole small space (18 configurations) measured; `seconds`
// gives each configuration's median.
OmpSample sampleOf(const std::string& app, const std::string& size,
                   const std::function<double(const Configuration&)>& seconds) {
  OmpSample sample;
  sample.platform = "0123456789ab";
  sample.cpuModel = "test cpu";
  sample.cores = 2;
  sample.app = app;
  sample.size = size;
  sample.arguments = {size == "small" ? "100" : "1000"};
  for (const auto& configuration : makeOmpSpace(2, SpaceSize::kSmall).enumerate()) {
    sample.measurements.push_back({configuration, MeasureStatus::kOk, seconds(configuration), 0.001});
  }
  return sample;
}

TEST(OmpData, CsvRoundTripAndPartialSamplesAreDropped) {
  std::vector<OmpSample> samples = {
      sampleOf("gemm", "small", [](const Configuration& c) { return 1.0 / c.at("threads").get<int>(); }),
      sampleOf("bfs", "large", [](const Configuration&) { return 0.5; })};
  samples[1].measurements[3].status = MeasureStatus::kRunTimeout;
  samples[1].measurements[3].median.reset();
  TemporaryFolder folder("mirtune-omp-test", "csv");
  const auto path = folder.path() / "data.csv";
  std::ofstream(path) << ompDataToCsv(samples);
  auto read = readOmpData(path);
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].app, "gemm");
  EXPECT_EQ((*read)[0].measurements.size(), 18u);  // threads {1, 2, 4} x 3 schedules x 2 chunks
  EXPECT_EQ((*read)[0].arguments, samples[0].arguments);
  EXPECT_NEAR(*(*read)[0].bestMedian(), 1.0 / 4, 1e-12);
  EXPECT_EQ((*read)[1].measurements[3].status, MeasureStatus::kRunTimeout);
  EXPECT_FALSE((*read)[1].measurements[3].median);

  // A sample cut short (fewer configurations than its platform's others) is not complete.
  auto partial = *read;
  partial[1].measurements.resize(10);
  std::vector<std::string> dropped;
  auto complete = completeSamples(partial, dropped);
  ASSERT_EQ(complete.size(), 1u);
  EXPECT_EQ(complete[0].app, "gemm");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_NE(dropped[0].find("bfs"), std::string::npos);

  // Bad rows are named with file and line.
  const auto bad = folder.path() / "bad.csv";
  std::string text = ompDataToCsv(samples);
  text += "not,enough,columns\n";
  std::ofstream(bad) << text;
  auto failed = readOmpData(bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("bad.csv"), std::string::npos) << failed.error().message();
}

TEST(OmpModel, TopKSkipsTheDefaultAndCoversThreadScheduleChoicesFirst) {
  const Configuration def = {{"threads", 2}, {"schedule", "static"}, {"chunk", "default"}};
  std::vector<RankedConfiguration> ranked = {
      {def, 0.9f},
      {{{"threads", 2}, {"schedule", "static"}, {"chunk", 16}}, 0.8f},
      {{{"threads", 2}, {"schedule", "static"}, {"chunk", 1}}, 0.7f},
      {{{"threads", 1}, {"schedule", "dynamic"}, {"chunk", 16}}, 0.6f},
      {{{"threads", 4}, {"schedule", "guided"}, {"chunk", 16}}, 0.5f},
  };
  auto plain = topKOrder(ranked, def, false);
  ASSERT_EQ(plain.size(), 4u);
  EXPECT_EQ(plain[0].configuration, ranked[1].configuration);
  EXPECT_EQ(plain[1].configuration, ranked[2].configuration);
  auto diverse = topKOrder(ranked, def, true);
  ASSERT_EQ(diverse.size(), 4u);
  // One configuration per (threads, schedule) first, in score order; the second static chunk comes last.
  EXPECT_EQ(diverse[0].configuration, ranked[1].configuration);
  EXPECT_EQ(diverse[1].configuration, ranked[3].configuration);
  EXPECT_EQ(diverse[2].configuration, ranked[4].configuration);
  EXPECT_EQ(diverse[3].configuration, ranked[2].configuration);
}

TEST(OmpModel, LeaveOneAppOutLearnsWhichAppsWantOneThread) {
  // Ten apps: "serial-like" apps are fastest on one thread (their embedding says so), the others on all cores
  // with dynamic scheduling. The default (2 threads, static) is best for neither.
  std::vector<OmpSample> samples;
  std::map<std::string, std::vector<float>> embeddings;
  for (int a = 0; a < 10; ++a) {
    const bool serial = a % 2 == 0;
    const std::string app = "app" + std::to_string(a);
    embeddings[app] = {serial ? 1.0f : -1.0f, static_cast<float>(a) * 0.1f, 0.3f};
    for (const std::string size : {"small", "large"}) {
      const double scale = size == "small" ? 1.0 : 4.0;
      samples.push_back(sampleOf(app, size, [&](const Configuration& c) {
        const int threads = c.at("threads").get<int>();
        const bool dynamic = c.at("schedule") == "dynamic";
        double t =
            serial ? (threads == 1 ? 0.5 : 1.0 + 0.1 * threads) : (threads == 2 && dynamic ? 0.4 : 1.0);
        if (c.at("chunk") == 16) t *= 1.01;
        return t * scale;
      }));
    }
  }
  OmpEvalOptions options;
  options.randomDraws = 200;
  auto result = evaluateLeaveOneAppOut(samples, embeddings, options);
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_EQ(result->samples.size(), samples.size());
  for (const auto& r : result->samples) {
    EXPECT_LE(r.predictSpeedup, r.oracleSpeedup + 1e-12) << r.app;
    EXPECT_GE(r.topkSpeedup, r.predictSpeedup - 1e-12) << r.app;
    EXPECT_LE(r.topkSpeedup, r.oracleSpeedup + 1e-12) << r.app;
  }
  const auto& s = result->summary;
  EXPECT_GT(s.percentPredict, 95.0);
  EXPECT_GT(s.percentPredict, s.percentRandom1);
  EXPECT_GT(s.percentTopk, s.percentRandomK);
  EXPECT_GE(s.percentTopk, s.percentPredict);

  EXPECT_FALSE(evaluateLeaveOneAppOut({samples[0], samples[1]}, embeddings, options).ok());
}

}  // namespace
}  // namespace mirtune::omp
