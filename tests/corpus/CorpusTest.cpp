// Tests of mirtune_corpus and `mirtune corpus`: dedup, program ids, consistency, --jobs, resume, skips,
// threads.
#include "corpus/CorpusBuilder.h"
#include "corpus/Manifest.h"
#include "corpus/ProgramListing.h"
#include "frontend/Frontend.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include "common/RunMirtune.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;
const fs::path kCorpusInputs = kInputs / "corpus";

fs::path scratchRoot() {
  return fs::temp_directory_path() / ("mirtune-corpus-test-" + std::to_string(::getpid()));
}

fs::path scratch(const std::string& name) {
  fs::path dir = scratchRoot() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Removes this process's scratch folders after the last test.
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code error;
    fs::remove_all(scratchRoot(), error);
  }
};
const ::testing::Environment* const kScratchCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

// Options for a build from the hand-made kernels folder only; no data sets.
CorpusOptions kernelsOnly(const fs::path& out) {
  CorpusOptions options;
  options.outputDirectory = out;
  options.kernelsDirectory = kCorpusInputs;
  options.dataDirectory = out / "no-data";
  options.sources = {CorpusSource::kKernels};
  options.jobs = 2;
  return options;
}

bool csmithAvailable(std::string& why) {
  CorpusOptions options;
  if (csmithVersion(options).empty()) {
    why = "csmith is not installed (apt-get install csmith libcsmith-dev)";
    return false;
  }
  if (!fs::exists(options.csmithIncludeDirectory / "csmith.h")) {
    why = "csmith.h is not installed (apt-get install libcsmith-dev)";
    return false;
  }
  return true;
}

const CorpusSourceCounts& countsOf(const CorpusSummary& summary, std::string_view source) {
  for (const CorpusSourceCounts& counts : summary.sources) {
    if (counts.source == source) return counts;
  }
  ADD_FAILURE() << "no counts for source " << source;
  return summary.totals;
}

// Every module file under DIR/modules with its bytes.
std::map<std::string, std::string> moduleFiles(const fs::path& corpus) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(corpus / kCorpusModulesDirectory)) {
    if (!entry.is_regular_file()) continue;
    auto content = readFile(entry.path());
    files[entry.path().lexically_relative(corpus).generic_string()] = content ? *content : "?";
  }
  return files;
}

std::string fileText(const fs::path& path) {
  auto content = readFile(path);
  return content ? *content : std::string();
}

TEST(CorpusSources, NamesParseInBuildOrder) {
  auto parsed = parseCorpusSourceList({"csmith", "devmap-ll", "csmith"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (std::vector<CorpusSource>{CorpusSource::kDevmapLl, CorpusSource::kCsmith}));
  for (const CorpusSourceInfo& info : kCorpusSources) EXPECT_EQ(parseCorpusSource(info.name), info.source);
  auto unknown = parseCorpusSourceList({"devmap"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kUsage);
  EXPECT_NE(unknown.error().message().find("devmap-cl"), std::string::npos) << unknown.error().message();
}

TEST(CorpusCsv, QuotedFieldsKeepCommasQuotesAndNewlines) {
  auto rows = parseCsv("kernel,src\r\na,\"x, \"\"y\"\"\nz\"\n\nb,plain\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"kernel", "src"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"a", "x, \"y\"\nz"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"b", "plain"}));
}

TEST(CorpusStats, NearestRankPercentiles) {
  std::vector<std::size_t> counts;
  for (std::size_t i = 100; i >= 1; --i) counts.push_back(i);
  CorpusInstructionStats stats = corpusInstructionStats(counts);
  EXPECT_EQ(stats.min, 1u);
  EXPECT_EQ(stats.p10, 10u);
  EXPECT_EQ(stats.p50, 50u);
  EXPECT_EQ(stats.p99, 99u);
  EXPECT_EQ(stats.max, 100u);
  EXPECT_DOUBLE_EQ(stats.mean, 50.5);
  EXPECT_EQ(corpusInstructionStats({}).max, 0u);
}

TEST(CorpusBuild, DeduplicatesSharesProgramIdsAndStaysConsistentWithTheFiles) {
  fs::path out = scratch("small");
  auto summary = buildCorpus(kernelsOnly(out));
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  const CorpusSourceCounts& kernels = countsOf(*summary, "kernels");
  EXPECT_FALSE(kernels.skipped);
  EXPECT_EQ(kernels.programs, 6u);  // broken.cl, copy/saxpy.cl, loop.c, saxpy.cl, scale.cpp, vadd.cu
  EXPECT_EQ(kernels.attempted, 24u);
  EXPECT_EQ(kernels.compiled + kernels.failed, kernels.attempted);
  EXPECT_EQ(kernels.programsCompiled, 5u);

  // The broken source fails at every level, is named in the errors, and does not stop the build.
  EXPECT_EQ(kernels.failed, 4u);
  ASSERT_FALSE(kernels.errors.empty());
  EXPECT_NE(kernels.errors.front().find("broken.cl"), std::string::npos) << kernels.errors.front();

  // The copy of saxpy.cl gives the same four modules as the original: counted as duplicates, stored once.
  EXPECT_GE(kernels.duplicates, 4u);
  EXPECT_EQ(kernels.duplicatesOf.at("kernels"), kernels.duplicates);
  EXPECT_EQ(kernels.stored, kernels.compiled - kernels.duplicates);

  auto records = readCorpusManifest(out);
  ASSERT_TRUE(records.ok()) << records.error().message();
  EXPECT_EQ(records->size(), kernels.stored);
  EXPECT_EQ(summary->records, records->size());
  std::map<std::string, std::set<int>> levelsOfProgram;
  std::set<std::string> hashes;
  for (const CorpusRecord& record : *records) {
    EXPECT_TRUE(hashes.insert(record.irSha256).second) << "hash stored twice: " << record.irSha256;
    EXPECT_EQ(record.source, "kernels");
    EXPECT_EQ(record.file, corpusModuleFile(record.irSha256));
    EXPECT_EQ(record.program, "kernels:" + record.origin);
    ASSERT_TRUE(record.optLevel.has_value());
    levelsOfProgram[record.program].insert(*record.optLevel);
    EXPECT_GT(record.instructions, 0u);
    EXPECT_GT(record.functions, 0u);
    // The stored bitcode is the module the hash names.
    auto module = compileFile(out / record.file);
    ASSERT_TRUE(module.ok()) << module.error().message();
    EXPECT_EQ(module->irSha256(), record.irSha256) << record.file;
    EXPECT_EQ(module->instructionCount(), record.instructions) << record.file;
  }
  // copy/saxpy.cl sorts before saxpy.cl, so it keeps the records: the first in build order wins.
  EXPECT_EQ(levelsOfProgram.count("kernels:copy/saxpy.cl"), 1u);
  EXPECT_EQ(levelsOfProgram.count("kernels:saxpy.cl"), 0u);
  // -O variants of one source share its program id; -O0 always differs from the optimised levels.
  ASSERT_EQ(levelsOfProgram.count("kernels:loop.c"), 1u);
  EXPECT_TRUE(levelsOfProgram["kernels:loop.c"].count(0) && levelsOfProgram["kernels:loop.c"].count(1));
  EXPECT_EQ(levelsOfProgram.count("kernels:scale.cpp"), 1u);
  EXPECT_EQ(levelsOfProgram.count("kernels:vadd.cu"), 1u);
  EXPECT_EQ(levelsOfProgram.count("kernels:broken.cl"), 0u);

  // Nothing on disk besides the records' files, and summary.json agrees with the manifest.
  EXPECT_EQ(moduleFiles(out).size(), records->size());
  auto inspection = inspectCorpus(out);
  ASSERT_TRUE(inspection.ok()) << inspection.error().message();
  EXPECT_TRUE(inspection->problems.empty()) << inspection->problems.front();
  EXPECT_EQ(inspection->summary.totals.stored, records->size());
  EXPECT_EQ(inspection->moduleBytes, summary->moduleBytes);
  EXPECT_EQ(inspection->distinctPrograms, 4u);
  EXPECT_EQ(inspection->unlistedFiles, 0u);
  EXPECT_TRUE(verifyCorpusModules(out, *records, 2).empty());
}

// tests/inputs/corpus-data stands in for the data sets: two NPB input classes of one kernel as NCC-style .ll
// files, and a coarsening CSV with a multi-line source and a broken one.
TEST(CorpusBuild, StandInDataSetsShareProgramIdsAndVerify) {
  fs::path out = scratch("standin");
  CorpusOptions options;
  options.outputDirectory = out;
  options.dataDirectory = kInputs / "corpus-data";
  options.sources = {CorpusSource::kDevmapLl, CorpusSource::kTcoarseningLl, CorpusSource::kTcoarseningCl};
  options.jobs = 2;
  auto summary = buildCorpus(options);
  ASSERT_TRUE(summary.ok()) << summary.error().message();

  const CorpusSourceCounts& ir = countsOf(*summary, "devmap-ll");
  EXPECT_EQ(ir.programs, 2u);
  EXPECT_EQ(ir.attempted, 2u);
  EXPECT_EQ(ir.compiled, 2u);
  EXPECT_EQ(ir.duplicates, 1u);  // the classes differ only in the module name, which the hash leaves out
  EXPECT_EQ(ir.stored, 1u);
  const CorpusSourceCounts& missing = countsOf(*summary, "tcoarsening-ll");
  EXPECT_TRUE(missing.skipped);
  EXPECT_NE(missing.skipReason.find("kernels_ir"), std::string::npos) << missing.skipReason;
  const CorpusSourceCounts& csv = countsOf(*summary, "tcoarsening-cl");
  EXPECT_EQ(csv.programs, 2u);
  EXPECT_EQ(csv.programsCompiled, 1u);
  EXPECT_EQ(csv.attempted, 8u);
  EXPECT_EQ(csv.failed, 4u);
  ASSERT_EQ(csv.errors.size(), 1u);  // one message per failing program
  EXPECT_NE(csv.errors.front().find("missing_helper"), std::string::npos) << csv.errors.front();

  auto records = readCorpusManifest(out);
  ASSERT_TRUE(records.ok()) << records.error().message();
  ASSERT_FALSE(records->empty());
  const CorpusRecord& first = records->front();
  EXPECT_EQ(first.source, "devmap-ll");
  EXPECT_EQ(first.program, "devmap:npb-3.3-XX-scale");
  EXPECT_EQ(first.origin, "devmap/kernels_ir/npb-3.3-XX-scale_A.ll");
  EXPECT_EQ(first.language, "llvm");
  EXPECT_FALSE(first.optLevel.has_value());
  for (const CorpusRecord& record : *records) {
    if (record.source == "tcoarsening-cl") {
      EXPECT_EQ(record.program, "tcoarsening:good");
    }
  }
  // Reading the stored bitcode back upgrades the old data layout; the manifest's hash already has it.
  EXPECT_EQ(verifyCorpusModules(out, *records, 2), std::vector<std::string>{});
}

TEST(CorpusBuild, OutputDoesNotDependOnJobs) {
  std::string why;
  bool withCsmith = csmithAvailable(why);
  if (!withCsmith) std::cerr << "[ INFO     ] building without csmith programs: " << why << '\n';
  fs::path one = scratch("jobs1");
  fs::path three = scratch("jobs3");
  CorpusOptions options = kernelsOnly(one);
  if (withCsmith) {
    options.sources.push_back(CorpusSource::kCsmith);
    options.csmithPrograms = 4;
    options.csmithSeed = 11;
  }
  options.jobs = 1;
  auto first = buildCorpus(options);
  ASSERT_TRUE(first.ok()) << first.error().message();
  options.outputDirectory = three;
  options.jobs = 3;
  auto second = buildCorpus(options);
  ASSERT_TRUE(second.ok()) << second.error().message();

  EXPECT_EQ(fileText(one / kCorpusManifestFile), fileText(three / kCorpusManifestFile));
  EXPECT_EQ(moduleFiles(one), moduleFiles(three));
  EXPECT_EQ(corpusSummaryToJson(*first)["sources"], corpusSummaryToJson(*second)["sources"]);
  if (withCsmith) {
    const CorpusSourceCounts& csmith = countsOf(*first, "csmith");
    EXPECT_EQ(csmith.programs, 4u);
    EXPECT_GT(csmith.stored, 4u) << "four programs at four levels should give more than four modules";
  }
}

TEST(CorpusBuild, SecondBuildReusesFilesAndCache) {
  std::string why;
  bool withCsmith = csmithAvailable(why);
  fs::path out = scratch("resume");
  CorpusOptions options = kernelsOnly(out);
  if (withCsmith) {
    options.sources.push_back(CorpusSource::kCsmith);
    options.csmithPrograms = 2;
  }
  auto first = buildCorpus(options);
  ASSERT_TRUE(first.ok()) << first.error().message();
  std::string manifest = fileText(out / kCorpusManifestFile);
  auto files = moduleFiles(out);
  EXPECT_EQ(first->totals.newFiles, first->totals.stored);
  EXPECT_EQ(first->totals.cached, 0u);

  auto second = buildCorpus(options);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->totals.newFiles, 0u);
  EXPECT_EQ(fileText(out / kCorpusManifestFile), manifest);
  EXPECT_EQ(moduleFiles(out), files);
  // csmith programs are answered from the cache; the project's kernels are always compiled again.
  EXPECT_EQ(countsOf(*second, "kernels").cached, 0u);
  if (withCsmith) {
    EXPECT_EQ(countsOf(*second, "csmith").cached, countsOf(*second, "csmith").attempted);
  }

  // A deleted module file is written again even though the cache knows the unit.
  auto records = readCorpusManifest(out);
  ASSERT_TRUE(records.ok() && !records->empty());
  fs::remove(out / records->back().file);
  options.useCache = false;
  auto third = buildCorpus(options);
  ASSERT_TRUE(third.ok()) << third.error().message();
  EXPECT_EQ(third->totals.cached, 0u);
  EXPECT_EQ(third->totals.newFiles, 1u);
  EXPECT_EQ(fileText(out / kCorpusManifestFile), manifest);
  EXPECT_EQ(moduleFiles(out), files);
}

// A build of one source adds it to a corpus: the other sources' records stay, the manifest is the one a build of
// all of them at once writes, and nothing on disk is left without a record.
TEST(CorpusBuild, ABuildOfOneSourceKeepsTheOtherSourcesRecords) {
  std::string why;
  if (!csmithAvailable(why)) GTEST_SKIP() << why;
  fs::path together = scratch("together");
  fs::path apart = scratch("apart");
  CorpusOptions options = kernelsOnly(together);
  options.sources = {CorpusSource::kKernels, CorpusSource::kCsmith};
  options.csmithPrograms = 2;
  ASSERT_TRUE(buildCorpus(options).ok());

  options.outputDirectory = apart;
  options.sources = {CorpusSource::kCsmith};
  ASSERT_TRUE(buildCorpus(options).ok());
  options.sources = {CorpusSource::kKernels};
  auto kernels = buildCorpus(options);
  ASSERT_TRUE(kernels.ok()) << kernels.error().message();
  EXPECT_GT(kernels->keptRecords, 0u);
  EXPECT_EQ(fileText(apart / kCorpusManifestFile), fileText(together / kCorpusManifestFile));
  auto inspection = inspectCorpus(apart);
  ASSERT_TRUE(inspection.ok());
  EXPECT_TRUE(inspection->problems.empty());
  EXPECT_EQ(inspection->unlistedFiles, 0u);
  // Building the same source again replaces only its own records.
  ASSERT_TRUE(buildCorpus(options).ok());
  EXPECT_EQ(fileText(apart / kCorpusManifestFile), fileText(together / kCorpusManifestFile));

  // An unreadable manifest stops the build, naming it, and is left as it was.
  writeFileAtomically(apart / kCorpusManifestFile, "{not json\n");
  auto refused = buildCorpus(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find(kCorpusManifestFile), std::string::npos) << refused.error().message();
  EXPECT_EQ(fileText(apart / kCorpusManifestFile), "{not json\n");
}

TEST(CorpusBuild, MissingDataSetsAreSkippedWithTheirPath) {
  fs::path out = scratch("nodata");
  CorpusOptions options = kernelsOnly(out);
  options.sources = {CorpusSource::kDevmapCl, CorpusSource::kDevmapLl, CorpusSource::kTcoarseningLl,
                     CorpusSource::kTcoarseningCl, CorpusSource::kNeurovectorizer};
  auto summary = buildCorpus(options);
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  ASSERT_EQ(summary->sources.size(), 5u);
  for (const CorpusSourceCounts& counts : summary->sources) {
    EXPECT_TRUE(counts.skipped) << counts.source;
    EXPECT_NE(counts.skipReason.find((out / "no-data").string()), std::string::npos) << counts.skipReason;
    EXPECT_EQ(counts.attempted, 0u);
  }
  EXPECT_EQ(summary->records, 0u);
  EXPECT_EQ(fileText(out / kCorpusManifestFile), "");
  auto inspection = inspectCorpus(out);
  ASSERT_TRUE(inspection.ok()) << inspection.error().message();
  EXPECT_TRUE(inspection->problems.empty());
}

TEST(CorpusBuild, MissingCsmithIsSkippedWithAnInstallHint) {
  fs::path out = scratch("nocsmith");
  CorpusOptions options = kernelsOnly(out);
  options.sources = {CorpusSource::kCsmith};
  options.csmithExecutable = (out / "no-such-csmith").string();
  auto summary = buildCorpus(options);
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  const CorpusSourceCounts& csmith = countsOf(*summary, "csmith");
  EXPECT_TRUE(csmith.skipped);
  EXPECT_NE(csmith.skipReason.find("apt-get install csmith"), std::string::npos) << csmith.skipReason;
}

TEST(CorpusBuild, BadOptionsAreUsageErrors) {
  CorpusOptions options = kernelsOnly(scratch("bad"));
  options.optimizationLevels = {0, 4};
  auto summary = buildCorpus(options);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code(), ErrorCode::kUsage);
  options.optimizationLevels = {2, 2};
  EXPECT_FALSE(buildCorpus(options).ok());
  options.optimizationLevels = {2};
  options.outputDirectory.clear();
  EXPECT_FALSE(buildCorpus(options).ok());
}

TEST(CorpusCsmith, SeedsGiveTheSameProgramEveryTime) {
  std::string why;
  if (!csmithAvailable(why)) GTEST_SKIP() << why;
  CorpusOptions options;
  auto first = generateCsmithProgram(options, 7);
  auto again = generateCsmithProgram(options, 7);
  auto other = generateCsmithProgram(options, 8);
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_NE(*first, *other);
  CompileOptions compile;
  compile.includeDirectories = {options.csmithIncludeDirectory.string()};
  auto module = compileSource(*first, "/mirtune-corpus/csmith/seed-7.c", compile);
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_GT(module->instructionCount(), 10u);
}

// Listing the data sets needs them; each part skips with the folder it misses.
TEST(CorpusDatasets, ProgramIdsJoinTheFormsOfOneKernel) {
  fs::path data = dataDirectory();
  if (!fs::is_directory(data / "devmap" / "kernels_ir"))
    GTEST_SKIP() << data / "devmap"
                 << " not found; set MIRTUNE_DATA";
  CorpusOptions options;
  ProgramListing ir = listCorpusPrograms(CorpusSource::kDevmapLl, options, data, {});
  ASSERT_FALSE(ir.skipReason) << *ir.skipReason;
  EXPECT_EQ(ir.programs.size(), 669u);
  std::map<std::string, std::string> programOfOrigin;
  for (const CorpusProgram& program : ir.programs) {
    EXPECT_TRUE(program.takeAsIs);
    programOfOrigin[program.origin] = program.program;
  }
  // NPB's input classes are one kernel; the names match the OpenCL sources'.
  EXPECT_EQ(programOfOrigin["devmap/kernels_ir/npb-3.3-BT-add_A.ll"], "devmap:npb-3.3-BT-add");
  EXPECT_EQ(programOfOrigin["devmap/kernels_ir/npb-3.3-BT-add_S.ll"], "devmap:npb-3.3-BT-add");
  ProgramListing sources = listCorpusPrograms(CorpusSource::kDevmapCl, options, data, {});
  if (sources.skipReason) GTEST_SKIP() << *sources.skipReason;
  EXPECT_EQ(sources.programs.size(), 256u);
  std::set<std::string> sourcePrograms;
  for (const CorpusProgram& program : sources.programs) sourcePrograms.insert(program.program);
  for (const auto& [origin, program] : programOfOrigin) {
    EXPECT_EQ(sourcePrograms.count(program), 1u) << origin << " → " << program << " has no OpenCL source";
  }
}

TEST(CorpusDatasets, SmallBuildFromEveryDataSet) {
  fs::path data = dataDirectory();
  for (const char* folder : {"devmap", "tcoarsening", "neurovectorizer"}) {
    if (!fs::is_directory(data / folder)) GTEST_SKIP() << data / folder << " not found; set MIRTUNE_DATA";
  }
  fs::path out = scratch("datasets");
  CorpusOptions options;
  options.outputDirectory = out;
  options.dataDirectory = data;
  options.sources = {CorpusSource::kDevmapCl, CorpusSource::kDevmapLl, CorpusSource::kTcoarseningLl,
                     CorpusSource::kTcoarseningCl, CorpusSource::kNeurovectorizer};
  options.limitPerSource = 2;
  options.jobs = 2;
  auto summary = buildCorpus(options);
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  for (const CorpusSourceCounts& counts : summary->sources) {
    EXPECT_FALSE(counts.skipped) << counts.source << ": " << counts.skipReason;
    EXPECT_EQ(counts.programs, 2u) << counts.source;
    EXPECT_EQ(counts.compiled + counts.failed, counts.attempted) << counts.source;
    // The first two coarsening sources (binarySearch, blackscholes) lost helper functions to CLgen's
    // normaliser.
    if (counts.source != "tcoarsening-cl") {
      EXPECT_GT(counts.stored, 0u) << counts.source;
    }
  }
  EXPECT_EQ(countsOf(*summary, "devmap-ll").attempted, 2u);
  EXPECT_EQ(countsOf(*summary, "neurovectorizer").attempted, 8u);
  auto records = readCorpusManifest(out);
  ASSERT_TRUE(records.ok());
  for (const CorpusRecord& record : *records) {
    bool isIr = record.source == "devmap-ll" || record.source == "tcoarsening-ll";
    EXPECT_EQ(record.optLevel.has_value(), !isIr) << record.origin;
    EXPECT_EQ(record.language == "llvm", isIr) << record.origin;
    if (record.source == "neurovectorizer") {
      EXPECT_EQ(record.origin.rfind("neurovectorizer/training_data.tar.gz:training_data/", 0), 0u)
          << record.origin;
    }
  }
  auto inspection = inspectCorpus(out);
  ASSERT_TRUE(inspection.ok());
  EXPECT_TRUE(inspection->problems.empty());
}

// LS-CAT kernels compile as CUDA device code with the headers beside them; a limit takes kernels from many
// origin repositories, not the first ones by name.
TEST(CorpusDatasets, LsCatKernelsAreCudaDeviceModulesSpreadOverRepositories) {
  fs::path data = dataDirectory();
  if (!fs::is_regular_file(data / "ls-cat" / "ls-cat-kernels.tar.xz"))
    GTEST_SKIP() << data / "ls-cat" << " not found; set MIRTUNE_DATA";
  fs::path out = scratch("ls-cat");
  CorpusOptions options;
  options.outputDirectory = out;
  options.dataDirectory = data;
  options.sources = {CorpusSource::kLsCat};
  options.limitPerSource = 8;
  options.optimizationLevels = {0, 2};
  options.jobs = 2;
  ProgramListing listing = listCorpusPrograms(CorpusSource::kLsCat, options, data, {});
  ASSERT_FALSE(listing.skipReason) << *listing.skipReason;
  ASSERT_EQ(listing.programs.size(), 8u);
  std::set<std::string> repositories;
  for (const CorpusProgram& program : listing.programs) {
    EXPECT_EQ(program.language, Language::kCuda);
    EXPECT_EQ(program.program.rfind("ls-cat:", 0), 0u) << program.program;
    EXPECT_EQ(program.file.extension(), ".cu");
    EXPECT_NE(program.file.filename(), "main.cu");
    repositories.insert(program.program.substr(7, program.program.find('/') - 7));
  }
  EXPECT_GE(repositories.size(), 6u) << "the limit should spread over repositories";
  auto summary = buildCorpus(options);
  ASSERT_TRUE(summary.ok()) << summary.error().message();
  const CorpusSourceCounts& counts = countsOf(*summary, "ls-cat");
  EXPECT_FALSE(counts.skipped) << counts.skipReason;
  EXPECT_EQ(counts.attempted, 16u);
  EXPECT_GT(counts.stored, 0u);
  auto records = readCorpusManifest(out);
  ASSERT_TRUE(records.ok());
  for (const CorpusRecord& record : *records) {
    EXPECT_EQ(record.source, "ls-cat");
    EXPECT_EQ(record.language, "cuda");
    auto module = compileFile(out / record.file);
    ASSERT_TRUE(module.ok()) << record.file;
    EXPECT_NE(module->text().find("target triple = \"nvptx"), std::string::npos) << record.origin;
  }
}

// The corpus compiles on several threads; each module has its own LLVMContext, and the hashes must not
// change.
TEST(CorpusFrontend, CompilesOnSeveralThreadsGiveTheSequentialResults) {
  std::vector<fs::path> files;
  for (const char* name : {"saxpy.cl", "loop.c", "scale.cpp", "vadd.cu", "broken.cl"})
    files.push_back(kCorpusInputs / name);
  for (const char* name : {"two_kernels.cl", "omp_reduction.c", "simple.ll"}) files.push_back(kInputs / name);
  struct Job {
    fs::path file;
    int level;
  };
  std::vector<Job> jobs;
  for (const fs::path& file : files) {
    for (int level = 0; level <= 3; ++level) jobs.push_back({file, level});
  }
  auto hashOf = [](const Job& job) {
    CompileOptions options;
    options.optimizationLevel = job.level;
    auto module = compileFile(job.file, options);
    return module.ok() ? module->irSha256() : "error: " + module.error().message();
  };
  std::vector<std::string> expected;
  for (const Job& job : jobs) expected.push_back(hashOf(job));

  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::vector<std::vector<std::string>> seen(kThreads, std::vector<std::string>(jobs.size() * kRounds));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks the jobs from a different start, so different compilations overlap.
      for (std::size_t k = 0; k < jobs.size() * kRounds; ++k) {
        std::size_t j = (k + static_cast<std::size_t>(t) * 7) % jobs.size();
        seen[t][k] = hashOf(jobs[j]) == expected[j]
                         ? ""
                         : jobs[j].file.string() + " -O" + std::to_string(jobs[j].level);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (const std::string& mismatch : seen[t]) EXPECT_EQ(mismatch, "") << "thread " << t;
  }
}

SubprocessResult mirtune(const std::vector<std::string>& arguments) { return runMirtune(arguments); }

TEST(CorpusCli, BuildThenInfo) {
  fs::path out = scratch("cli");
  auto build =
      mirtune({"corpus", "build", "--out", out.string(), "--sources", "kernels,devmap-ll", "--kernels",
               kCorpusInputs.string(), "--data", (out / "no-data").string(), "--jobs", "2", "--json", "-q"});
  ASSERT_EQ(build.exitCode, 0) << build.standardError;
  auto summary = nlohmann::json::parse(build.standardOutput);
  ASSERT_EQ(summary["sources"].size(), 2u);
  EXPECT_EQ(summary["sources"][0]["source"], "devmap-ll");
  EXPECT_EQ(summary["sources"][0]["skipped"], true);
  EXPECT_EQ(summary["sources"][1]["source"], "kernels");
  EXPECT_EQ(summary["sources"][1]["failed"], 4);
  EXPECT_EQ(summary["options"]["jobs"], 2);

  auto info = mirtune({"corpus", "info", out.string(), "--json", "--verify"});
  ASSERT_EQ(info.exitCode, 0) << info.standardError;
  auto inspection = nlohmann::json::parse(info.standardOutput);
  EXPECT_EQ(inspection["problems"].size(), 0u);
  EXPECT_EQ(inspection["manifest_records_per_source"]["kernels"], summary["sources"][1]["stored"]);

  auto text = mirtune({"corpus", "info", out.string()});
  ASSERT_EQ(text.exitCode, 0) << text.standardError;
  EXPECT_NE(text.standardOutput.find("kernels"), std::string::npos);
  EXPECT_NE(text.standardOutput.find("skipped"), std::string::npos);

  // A manifest that lost a line no longer agrees with the summary: exit 1, and the message says why.
  std::string manifest = fileText(out / kCorpusManifestFile);
  ASSERT_TRUE(writeFileAtomically(out / kCorpusManifestFile, manifest.substr(manifest.find('\n') + 1)).ok());
  auto broken = mirtune({"corpus", "info", out.string()});
  EXPECT_EQ(broken.exitCode, 1);
  EXPECT_NE(broken.standardError.find("records"), std::string::npos) << broken.standardError;

  EXPECT_EQ(mirtune({"corpus", "build", "--out", out.string(), "--sources", "nonsense"}).exitCode, 2);
  EXPECT_EQ(mirtune({"corpus", "info", (out / "absent").string()}).exitCode, 1);
}

}  // namespace
}  // namespace mirtune
