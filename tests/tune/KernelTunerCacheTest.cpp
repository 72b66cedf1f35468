// Kernel Tuner cache files: reading the toy cache, an unfinished file, refusals of bad files,
// write/append/read back.
#include "tasks/tune/KernelTunerCache.h"

#include "support/Files.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>

namespace mirtune::tune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TUNE_SEARCH_INPUTS;

fs::path scratchFile(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mirtune-ktcache-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

TEST(KernelTunerCache, ReadsEveryRecordWithTimesAndFailures) {
  auto cache = readKernelTunerCache(kInputs / "toy-cache.json");
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  EXPECT_EQ(cache->deviceName, "Test GPU");
  EXPECT_EQ(cache->kernelName, "toy_kernel");
  EXPECT_EQ(cache->parameterNames, (std::vector<std::string>{"block", "unroll", "layout"}));
  ASSERT_EQ(cache->records.size(), 16u);
  const CacheRecord& first = cache->records.front();
  EXPECT_EQ(cache->key(first.configuration), "1,0,row");
  EXPECT_FALSE(first.time.has_value());
  EXPECT_EQ(first.failure, "RuntimeFailedConfig");
  const CacheRecord& second = cache->records[1];
  EXPECT_EQ(cache->key(second.configuration), "1,0,col");
  ASSERT_TRUE(second.time.has_value());
  EXPECT_DOUBLE_EQ(*second.time, 11.5);
  EXPECT_EQ(second.times.size(), 3u);
  EXPECT_DOUBLE_EQ(second.compileTime, 11.0);
  std::size_t timed = 0;
  for (const auto& record : cache->records) timed += record.time ? 1 : 0;
  EXPECT_EQ(timed, 14u);
  EXPECT_EQ(cache->validSpace().size(), 14u);
}

TEST(KernelTunerCache, KeysFollowPythonsSpelling) {
  KernelTunerCache cache;
  cache.parameterNames = {"a", "b", "c", "d"};
  Configuration configuration = {{"a", 4}, {"b", true}, {"c", "tex"}, {"d", 0.5}};
  EXPECT_EQ(cache.key(configuration), "4,True,tex,0.5");
}

TEST(KernelTunerCache, ReadsAnUnfinishedFileUpToItsLastCompleteRecord) {
  auto cache = readKernelTunerCache(kInputs / "toy-unfinished.json");
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  ASSERT_EQ(cache->records.size(), 9u);
  EXPECT_EQ(cache->key(cache->records.back().configuration), "4,0,row");
  // Only the header written so far: no records yet.
  auto text = readFile(kInputs / "toy-unfinished.json");
  ASSERT_TRUE(text.ok());
  const fs::path headerOnly = scratchFile("header-only.json");
  ASSERT_TRUE(writeFileAtomically(headerOnly, text->substr(0, text->find("\"cache\": {") + 10)).ok());
  auto empty = readKernelTunerCache(headerOnly);
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_TRUE(empty->records.empty());
  EXPECT_EQ(empty->parameterNames.size(), 3u);
}

void expectRefused(const std::string& file, const std::string& mention) {
  auto cache = readKernelTunerCache(kInputs / file);
  ASSERT_FALSE(cache.ok()) << file << " was accepted";
  EXPECT_EQ(cache.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(cache.error().message().find(file), std::string::npos) << cache.error().message();
  EXPECT_NE(cache.error().message().find(mention), std::string::npos) << cache.error().message();
}

TEST(KernelTunerCache, RefusesBadFilesNamingTheFileAndTheKey) {
  expectRefused("bad-key-mismatch.json", "record \"2,1,row\": the key does not match");
  expectRefused("bad-time-type.json", "record \"4,0,col\": \"time\" is [1,2]");
  expectRefused("bad-unknown-parameter.json", "record \"2,0,row\": unknown parameter \"threads\"");
  expectRefused("bad-value-not-in-tune-params.json", "record \"3,1,col\": parameter \"block\" = 3");
  expectRefused("not-json.json", "not JSON");
  auto missing = readKernelTunerCache(kInputs / "no-such-cache.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST(KernelTunerCache, WritesValidJsonThatReadsBackTheSame) {
  auto cache = readKernelTunerCache(kInputs / "toy-cache.json");
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  const fs::path file = scratchFile("round-trip.json");
  ASSERT_TRUE(writeKernelTunerCache(*cache, file).ok());
  auto text = readFile(file);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(nlohmann::json::accept(*text)) << "not strict JSON:\n" << *text;
  auto back = readKernelTunerCache(file);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->deviceName, cache->deviceName);
  EXPECT_EQ(back->problemSize, cache->problemSize);
  EXPECT_EQ(back->parameterNames, cache->parameterNames);
  EXPECT_EQ(back->parameterValues, cache->parameterValues);
  ASSERT_EQ(back->records.size(), cache->records.size());
  for (std::size_t i = 0; i < cache->records.size(); ++i) {
    EXPECT_EQ(back->records[i].configuration, cache->records[i].configuration);
    EXPECT_EQ(back->records[i].time, cache->records[i].time);
    EXPECT_EQ(back->records[i].times, cache->records[i].times);
    EXPECT_EQ(back->records[i].failure, cache->records[i].failure);
    EXPECT_DOUBLE_EQ(back->records[i].benchmarkTime, cache->records[i].benchmarkTime);
  }
}

TEST(KernelTunerCache, AppendsNewRecordsInOrderAndKeepsTheOldOnes) {
  auto cache = readKernelTunerCache(kInputs / "toy-cache.json");
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  const fs::path file = scratchFile("append.json");
  KernelTunerCache firstPart = *cache;
  firstPart.records.assign(cache->records.begin() + 10, cache->records.end());
  ASSERT_TRUE(writeKernelTunerCache(firstPart, file).ok());
  // A later write carries every record: the file keeps its six and gains the other ten after them.
  ASSERT_TRUE(writeKernelTunerCache(*cache, file).ok());
  auto back = readKernelTunerCache(file);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->records.size(), 16u);
  for (std::size_t i = 0; i < 6; ++i)
    EXPECT_EQ(back->records[i].configuration, cache->records[10 + i].configuration) << i;
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_EQ(back->records[6 + i].configuration, cache->records[i].configuration) << i;

  KernelTunerCache other = *cache;
  other.parameterNames = {"block", "layout", "unroll"};
  auto refused = writeKernelTunerCache(other, file);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("tune_params_keys"), std::string::npos)
      << refused.error().message();
}

}  // namespace
}  // namespace mirtune::tune
