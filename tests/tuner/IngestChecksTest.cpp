// What an exported folder brings back is checked before anything of it is stored: result lines with
// impossible times or statistics, configurations outside the space, a plan for other commands, paths that
// leave the folder and OpenCL results that disagree with their plan are refused, naming file and record, and
// the database stays empty.
#include "common/TemporaryFolder.h"
#include "database/Database.h"
#include "support/Files.h"
#include "support/Subprocess.h"
#include "tuner/IngestChecks.h"
#include "tuner/TuningSession.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

// A tiny session: configurations of one knob, each run is `echo` (nothing to build), so the runner measures
// three configurations in a fraction of a second.
struct ExportFixture {
  TemporaryFolder folder{"mirtune-ingest-check", "test"};
  SearchSpace space;
  fs::path pristine;

  ExportFixture() {
    EXPECT_TRUE(space.addParameter({"knob", {1, 2, 3}, 2, ""}).ok());
    pristine = folder.path() / "export";
    auto exported = exportTuningPlan(request("10"), {{{"knob", 2}}, {{"knob", 1}}, {{"knob", 3}}}, pristine);
    EXPECT_TRUE(exported.ok()) << (exported.ok() ? "" : exported.error().message());
    SubprocessOptions options;
    options.argv = {MIRTUNE_RUN_EXECUTABLE,
                    "process",
                    "--plan",
                    (pristine / "plan-1.json").string(),
                    "--results",
                    (pristine / "results-1.jsonl").string()};
    options.timeoutSeconds = 60;
    auto ran = runSubprocess(options);
    EXPECT_TRUE(ran.ok() && ran->succeeded()) << (ran.ok() ? ran->standardError : ran.error().message());
  }

  /// The request of the exported item; `size` is the program argument its runs pass.
  TuningRequest request(const std::string& size) {
    TuningRequest r;
    r.task = "test";
    r.command = "test";
    r.options = {{"size", size}};
    r.workload = {0, "content-sha", std::nullopt, "c", "echo.c", {}};
    r.files["note.txt"] = "exported beside the plan\n";
    r.space = &space;
    r.check = OutputCheck::kNone;
    r.settings.minTimeSeconds = 0;
    r.settings.minRepetitions = 2;
    r.settings.maxRepetitions = 2;
    r.settings.warmup = 0;
    r.settings.runTimeoutSeconds = 10;
    r.commands = [size](const Configuration& c) -> Expected<CandidateCommands> {
      CandidateCommands commands;
      commands.runArgv = {"/bin/echo", "size", size};
      commands.runEnvironment = {{"KNOB", c["knob"].dump()}};
      return commands;
    };
    return r;
  }

  /// A fresh copy of the measured folder to damage.
  fs::path copy(const std::string& name) {
    const fs::path target = folder.path() / name;
    fs::copy(pristine, target, fs::copy_options::recursive);
    return target;
  }

  /// The database of one case, and how many measurements and sessions it holds.
  struct Stored {
    std::size_t measurements = 0;
  };
  Expected<IngestResult> ingest(const fs::path& exportFolder, const std::string& size, Stored& stored) {
    auto database =
        Database::open((exportFolder.parent_path() / (exportFolder.filename().string() + ".db")).string());
    EXPECT_TRUE(database.ok());
    PlatformRecord platform;
    platform.fingerprint = "other-machine";
    auto platformId = database->upsertPlatform(platform);
    EXPECT_TRUE(platformId.ok());
    auto ingested = ingestTuningResults(*database, *platformId, request(size), exportFolder);
    auto all = database->listMeasurements();
    EXPECT_TRUE(all.ok());
    stored.measurements = all.ok() ? all->size() : 0;
    return ingested;
  }
};

std::vector<std::string> lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  return all;
}

void writeLines(const fs::path& file, const std::vector<std::string>& all, bool finalNewline = true) {
  std::string text;
  for (std::size_t i = 0; i < all.size(); ++i)
    text += all[i] + (i + 1 < all.size() || finalNewline ? "\n" : "");
  ASSERT_TRUE(writeFileAtomically(file, text).ok());
}

// Rewrites result line `index` (0-based) of a folder's results-1.jsonl.
void editResult(const fs::path& folder, std::size_t index, const std::function<void(nlohmann::json&)>& edit) {
  auto all = lines(folder / "results-1.jsonl");
  ASSERT_LT(index, all.size());
  nlohmann::json json = nlohmann::json::parse(all[index]);
  edit(json);
  all[index] = json.dump();
  writeLines(folder / "results-1.jsonl", all);
}

// The line number of the first run line, as the checks name it.
std::size_t firstRunLine(const fs::path& folder) {
  auto all = lines(folder / "results-1.jsonl");
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (nlohmann::json::parse(all[i])["kind"] == "run") return i;
  }
  return all.size();
}

void expectRefused(const Expected<IngestResult>& ingested, const ExportFixture::Stored& stored,
                   const std::vector<std::string>& mentions) {
  ASSERT_FALSE(ingested.ok());
  EXPECT_EQ(ingested.error().code(), ErrorCode::kInvalidInput) << ingested.error().message();
  for (const std::string& text : mentions)
    EXPECT_NE(ingested.error().message().find(text), std::string::npos) << ingested.error().message();
  EXPECT_EQ(stored.measurements, 0u);
}

TEST(IngestChecks, AnUntouchedExportIsStoredWhole) {
  ExportFixture f;
  ExportFixture::Stored stored;
  auto ingested = f.ingest(f.copy("untouched"), "10", stored);
  ASSERT_TRUE(ingested.ok()) << ingested.error().message();
  EXPECT_EQ(ingested->missing, 0u);
  EXPECT_EQ(stored.measurements, 3u);
  for (const auto& result : ingested->tuning.results) EXPECT_EQ(result.status, MeasureStatus::kOk);
}

TEST(IngestChecks, MediansThatAreNotTheTimesMedianAreRefused) {
  ExportFixture f;
  for (double median : {-5.0, 0.0, 1e308}) {
    const fs::path folder = f.copy(fmt::format("median-{}", median));
    const std::size_t line = firstRunLine(folder);
    editResult(folder, line, [&](nlohmann::json& json) { json["median"] = median; });
    ExportFixture::Stored stored;
    expectRefused(f.ingest(folder, "10", stored), stored,
                  {fmt::format("results-1.jsonl:{}", line + 1), "'median'"});
  }
}

TEST(IngestChecks, TimesThatNoRunCanTakeAreRefused) {
  ExportFixture f;
  for (double time : {-5.0, 0.0, 1e308}) {
    const fs::path folder = f.copy(fmt::format("time-{}", time));
    const std::size_t line = firstRunLine(folder);
    editResult(folder, line, [&](nlohmann::json& json) {
      json["times"] = {time, time};
      json["median"] = json["min"] = json["max"] = time;
      json["iqr"] = 0;
    });
    ExportFixture::Stored stored;
    expectRefused(f.ingest(folder, "10", stored), stored,
                  {fmt::format("results-1.jsonl:{}", line + 1), "'times'"});
  }
}

TEST(IngestChecks, NonFiniteNumbersAreRefusedEvenOnTheLastLine) {
  ExportFixture f;
  // JSON has no NaN: a writer that prints one writes a line that does not parse; an overflowing literal
  // parses as infinity.
  for (const std::string& literal : {std::string("NaN"), std::string("1e999")}) {
    const fs::path folder = f.copy("non-finite-" + literal);
    auto all = lines(folder / "results-1.jsonl");
    nlohmann::json json = nlohmann::json::parse(all.back());
    ASSERT_EQ(json["kind"], "run");
    json["median"] = 12345.5;
    std::string text = json.dump();
    text.replace(text.find("12345.5"), 7, literal);
    all.back() = text;
    writeLines(folder / "results-1.jsonl", all);
    ExportFixture::Stored stored;
    expectRefused(f.ingest(folder, "10", stored), stored, {fmt::format("results-1.jsonl:{}", all.size())});
  }
}

TEST(IngestChecks, ALastLineWithoutItsNewlineIsAKilledWriterNotDamage) {
  ExportFixture f;
  const fs::path folder = f.copy("unfinished");
  auto all = lines(folder / "results-1.jsonl");
  all.back() = all.back().substr(0, all.back().size() / 2);
  writeLines(folder / "results-1.jsonl", all, false);
  ExportFixture::Stored stored;
  auto ingested = f.ingest(folder, "10", stored);
  ASSERT_TRUE(ingested.ok()) << ingested.error().message();
  EXPECT_EQ(ingested->missing, 1u);
  EXPECT_EQ(stored.measurements, 2u);
}

TEST(IngestChecks, RepetitionCountsAndStatisticsMustAgree) {
  ExportFixture f;
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      {"'repetitions'", [](nlohmann::json& json) { json["repetitions"] = 7; }},
      {"'iqr'", [](nlohmann::json& json) { json["iqr"] = 3.0; }},
      {"max_repetitions",
       [](nlohmann::json& json) {
         json["times"] = {0.1, 0.1, 0.1};
         json["repetitions"] = 3;
         json["median"] = json["min"] = json["max"] = 0.1;
         json["iqr"] = 0;
       }},
      {"'wall_seconds'", [](nlohmann::json& json) { json["wall_seconds"] = -1; }},
      {"not a run of the plan", [](nlohmann::json& json) { json["id"] = "r1-9-ffffffff"; }},
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const fs::path folder = f.copy(fmt::format("statistics-{}", i));
    editResult(folder, firstRunLine(folder), edits[i].second);
    ExportFixture::Stored stored;
    expectRefused(f.ingest(folder, "10", stored), stored, {"results-1.jsonl", edits[i].first});
  }
}

TEST(IngestChecks, ConfigurationsOutsideTheSpaceAreRefused) {
  ExportFixture f;
  for (const nlohmann::json& knob :
       {nlohmann::json(1000000000000), nlohmann::json("'; DROP TABLE measurements; --")}) {
    const fs::path folder = f.copy(fmt::format("space-{}", knob.is_string() ? "text" : "huge"));
    auto candidates = nlohmann::json::parse(*readFile(folder / "candidates-1.json"));
    candidates[1]["knob"] = knob;
    ASSERT_TRUE(writeFileAtomically(folder / "candidates-1.json", candidates.dump()).ok());
    ExportFixture::Stored stored;
    expectRefused(f.ingest(folder, "10", stored), stored, {"candidates-1.json", "configuration 1"});
  }
}

TEST(IngestChecks, APlanForOtherArgumentsIsRefused) {
  ExportFixture f;
  ExportFixture::Stored stored;
  // The folder measured size 10; stored as size 20 its times would describe the wrong program.
  expectRefused(f.ingest(f.copy("other-size"), "20", stored), stored, {"plan-1.json", "size 10", "size 20"});
}

TEST(IngestChecks, AFileEditedAfterTheExportIsRefused) {
  ExportFixture f;
  const fs::path folder = f.copy("edited-file");
  ASSERT_TRUE(writeFileAtomically(folder / "note.txt", "something else\n").ok());
  ExportFixture::Stored stored;
  expectRefused(f.ingest(folder, "10", stored), stored, {"note.txt"});
}

TEST(IngestChecks, AResultsFileLinkedFromOutsideIsRefused) {
  ExportFixture f;
  const fs::path folder = f.copy("linked");
  const fs::path outside = f.folder.path() / "outside.jsonl";
  fs::rename(folder / "results-1.jsonl", outside);
  fs::create_symlink(outside, folder / "results-1.jsonl");
  ExportFixture::Stored stored;
  expectRefused(f.ingest(folder, "10", stored), stored, {"results-1.jsonl", "symbolic link"});
}

TEST(PathInsideFolder, StaysInsideOrNamesTheFieldAndValue) {
  TemporaryFolder folder("mirtune-inside", "paths");
  const fs::path base = folder.path() / "base";
  fs::create_directories(base / "item");
  fs::create_directories(folder.path() / "elsewhere");
  fs::create_directory_symlink(folder.path() / "elsewhere", base / "escape");
  const fs::path index = base / "collection.json";

  auto inside = pathInsideFolder(base, "item/result.json", index, "items[0].file");
  ASSERT_TRUE(inside.ok()) << inside.error().message();
  EXPECT_EQ(*inside, base / "item" / "result.json");
  for (const std::string& name :
       {std::string("../elsewhere"), std::string("/etc/passwd"), std::string("item/../../elsewhere"),
        std::string("escape/result.json"), std::string("")}) {
    auto refused = pathInsideFolder(base, name, index, "items[0].folder");
    ASSERT_FALSE(refused.ok()) << name;
    EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(refused.error().message().find(index.string()), std::string::npos) << refused.error().message();
    EXPECT_NE(refused.error().message().find("items[0].folder \"" + name + "\""), std::string::npos)
        << refused.error().message();
  }
}

// An OpenCL plan with one input and one output buffer, and the result.json its run leaves.
struct OpenClFixture {
  TemporaryFolder folder{"mirtune-ingest-opencl", "test"};
  runner::RunPlan plan;
  nlohmann::json result;
  OpenClDevice device;

  OpenClFixture() {
    plan.source = "k.cl";
    plan.kernel = "k";
    plan.globalSize = {1024};
    plan.localSize = {64};
    plan.minRepetitions = 2;
    plan.maxRepetitions = 4;
    plan.outputDirectory = "outputs";
    runner::ArgSpec in;
    in.name = "a";
    in.elements = 1024;
    runner::ArgSpec out = in;
    out.name = "b";
    out.role = runner::ArgRole::kOut;
    plan.args = {in, out};
    result = {
        {"schema", "mirtune-run-opencl/1"},
        {"kernel", "k"},
        {"global_size", {1024}},
        {"local_size", {64}},
        {"warmup", plan.warmup},
        {"status", "ok"},
        {"message", ""},
        {"repetitions", 3},
        {"kernel_seconds", {0.001, 0.002, 0.003}},
        {"total_seconds", {0.004, 0.005, 0.006}},
        {"median_kernel_s", 0.002},
        {"iqr_kernel_s", 0.001},
        {"median_total_s", 0.005},
        {"iqr_total_s", 0.001},
        {"outputs",
         {{{"arg", 1}, {"name", "b"}, {"type", "float"}, {"elements", 1024}, {"file", "outputs/1_b.npy"}}}}};
  }

  Expected<DeviceRunResult> read(const nlohmann::json& json) {
    const fs::path file = folder.path() / "f1.device-0-0" / "result.json";
    fs::create_directories(file.parent_path());
    EXPECT_TRUE(writeFileAtomically(file, json.dump()).ok());
    return readCheckedOpenClResult(file, plan, device);
  }
};

TEST(OpenClResultCheck, AResultThatFitsItsPlanIsRead) {
  OpenClFixture f;
  auto read = f.read(f.result);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->status, MeasureStatus::kOk);
  EXPECT_EQ(read->kernelSeconds.size(), 3u);
  EXPECT_EQ(read->outputFiles.at(1), f.folder.path() / "f1.device-0-0" / "outputs" / "1_b.npy");
}

TEST(OpenClResultCheck, AMissingResultIsAFailedRun) {
  OpenClFixture f;
  auto read = readCheckedOpenClResult(f.folder.path() / "nowhere" / "result.json", f.plan, f.device);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(read->status, MeasureStatus::kRunFailed);
}

TEST(OpenClResultCheck, DamageIsRefusedNamingTheFileAndField) {
  OpenClFixture f;
  const std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>> edits = {
      {"outputs[0].file", [](nlohmann::json& json) { json["outputs"][0]["file"] = "/etc/passwd"; }},
      {"outputs[0].file", [](nlohmann::json& json) { json["outputs"][0]["file"] = "../../secret.npy"; }},
      {"outputs[0].elements", [](nlohmann::json& json) { json["outputs"][0]["elements"] = 4096; }},
      {"outputs[0].arg", [](nlohmann::json& json) { json["outputs"][0]["arg"] = 0; }},
      {"'global_size'", [](nlohmann::json& json) { json["global_size"] = {2048}; }},
      {"'kernel'", [](nlohmann::json& json) { json["kernel"] = "other"; }},
      {"'median_kernel_s'", [](nlohmann::json& json) { json["median_kernel_s"] = -5; }},
      {"'median_total_s'", [](nlohmann::json& json) { json["median_total_s"] = 1e308; }},
      {"'kernel_seconds'", [](nlohmann::json& json) { json["kernel_seconds"][0] = 0; }},
      {"'repetitions'", [](nlohmann::json& json) { json["repetitions"] = 9; }},
      {"outside the plan's",
       [](nlohmann::json& json) {
         json["kernel_seconds"] = {0.002};
         json["total_seconds"] = {0.005};
         json["repetitions"] = 1;
         json["iqr_kernel_s"] = json["iqr_total_s"] = 0;
       }},
      {"'status'", [](nlohmann::json& json) { json["status"] = "fine"; }},
      {"lacks argument 1", [](nlohmann::json& json) { json["outputs"] = nlohmann::json::array(); }},
  };
  for (const auto& [field, edit] : edits) {
    nlohmann::json damaged = f.result;
    edit(damaged);
    auto read = f.read(damaged);
    ASSERT_FALSE(read.ok()) << field;
    EXPECT_EQ(read.error().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(read.error().message().find("result.json"), std::string::npos) << read.error().message();
    EXPECT_NE(read.error().message().find(field), std::string::npos) << read.error().message();
  }
}

}  // namespace
}  // namespace mirtune
