// Tuning session: the search loop (the default, then the planner's rounds) over a ProcessMeasurer, which builds,
// runs, checks and stores each round.
#include "tuner/TuningSession.h"

#include "database/CanonicalJson.h"
#include "support/Files.h"
#include "tuner/ProcessMeasurer.h"

#include <fmt/format.h>

#include <algorithm>

namespace mirtune {
namespace fs = std::filesystem;
namespace {

Expected<nlohmann::json> readJsonFile(const fs::path& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded())
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: not valid JSON", path.string()));
  return json;
}

}  // namespace

TuningSessionState findTuningSession(const Database& database, const TuningRequest& request) {
  TuningSessionState found;
  found.workDirectory = request.workDirectory.empty() ? fs::absolute(database.path()).parent_path() / "tuning" /
                                                            tuningSessionIdentity(request).substr(0, 16)
                                                      : fs::absolute(request.workDirectory);
  auto state = readJsonFile(found.workDirectory / "session.json");
  if (!state) return found;
  found.sessionId = state->value("session_id", std::int64_t{0});
  found.kind = state->value("ended", false) ? TuningSessionState::Kind::kFinished
                                            : TuningSessionState::Kind::kInterrupted;
  return found;
}

std::string tuningSessionIdentity(const TuningRequest& request) {
  const nlohmann::json identity = {
      {"task", request.task}, {"options", request.options}, {"workload", request.workload.contentSha256}};
  return canonicalJsonSha256(identity);
}

Expected<TuningResult> runTuningSession(Database& database, std::int64_t platformId,
                                        const std::string& platformFingerprint, const TuningRequest& request,
                                        const fs::path& runner) {
  if (!request.space || !request.commands || !request.planner) {
    return Error(ErrorCode::kInternal, "a tuning request needs a space, a command factory and a planner");
  }
  ProcessMeasurer measurer(request, {&database, platformId, platformFingerprint, runner});
  if (auto opened = measurer.open(); !opened) return opened.error();
  // Round 1 is the default alone; then the planner's rounds until it plans none. A resumed session takes the
  // rounds its interrupted run had planned as they were.
  for (int round = 1;; ++round) {
    auto saved = measurer.savedBatch();
    if (!saved) return saved.error();
    std::vector<Configuration> candidates;
    if (*saved) {
      candidates = std::move(**saved);
    } else {
      if (round == 1) {
        candidates = {request.space->defaultConfiguration()};
      } else {
        auto next = request.planner(measurer.results());
        if (!next) return next.error();
        candidates = std::move(*next);
      }
      // A configuration measured in an earlier round is not measured again.
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [&](const Configuration& c) { return measurer.hasMeasured(c); }),
                       candidates.end());
    }
    for (const auto& c : candidates) {
      if (auto valid = request.space->validate(c); !valid) return valid.error();
    }
    auto inputs = processInputs(request, candidates);
    if (!inputs) return inputs.error();
    auto measured = measurer.measure(*inputs);
    if (!measured) return measured.error();
    if (candidates.empty()) break;
  }
  return measurer.finish();
}

Status exportTuningPlan(const TuningRequest& request, const std::vector<Configuration>& candidates,
                        const fs::path& folder) {
  if (!request.space || !request.commands) {
    return Error(ErrorCode::kInternal, "a tuning request needs a space and a command factory");
  }
  if (candidates.empty() ||
      configurationHash(candidates.front()) != configurationHash(request.space->defaultConfiguration())) {
    return Error(ErrorCode::kInternal, "an exported plan measures the default configuration first");
  }
  for (const auto& c : candidates) {
    if (auto valid = request.space->validate(c); !valid) return valid.error();
  }
  auto inputs = processInputs(request, candidates);
  if (!inputs) return inputs.error();
  ProcessMeasurer measurer(request, {});
  return measurer.exportBatch(*inputs, folder);
}

Status checkTuningResults(const TuningRequest& request, const fs::path& folder) {
  ProcessMeasurer measurer(request, {});
  return measurer.checkExported(folder);
}

Expected<IngestResult> ingestTuningResults(Database& database, std::int64_t platformId,
                                           const TuningRequest& request, const fs::path& folder) {
  ProcessMeasurer measurer(request, {&database, platformId, "", ""});
  auto results = measurer.ingest({}, folder);
  if (!results) return results.error();
  IngestResult ingested;
  ingested.missing = measurer.missing();
  ingested.tuning.sessionId = measurer.sessionId();
  ingested.tuning.workDirectory = measurer.workDirectory();
  for (const auto& result : *results) ingested.tuning.results.push_back(std::get<TunedConfiguration>(result.detail));
  scoreTuningResult(ingested.tuning);
  return ingested;
}

}  // namespace mirtune
