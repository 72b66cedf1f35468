// Fit times of every default candidate and of one full inner-CV selection on a random 600 x 260 problem.
#include "tasks/common/ModelSelection.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

using namespace mirtune::heads;

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  std::size_t rows = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 600;
  std::size_t cols = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 260;
  int folds = argc > 4 ? std::atoi(argv[4]) : 5;
  setTorchThreads(threads);
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  Dataset data;
  data.classes = 2;
  data.features = FeatureMatrix(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    double signal = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      data.features.at(r, c) = normal(random);
      if (c < 10) signal += data.features.at(r, c);
    }
    data.labels.push_back(signal + normal(random) > 0 ? 1 : 0);
  }
  std::vector<Candidate> grid = defaultGrid();
  if (argc > 5) {  // a JSON list of {"kind":..., "params":...} replaces the default grid
    grid.clear();
    for (const auto& item : nlohmann::json::parse(argv[5]))
      grid.push_back({item.at("kind"), item.value("params", nlohmann::json::object())});
  }
  bool selectionToo = argc <= 6 || std::atoi(argv[6]) != 0;
  for (Candidate& candidate : grid) {
    if (candidate.kind == "xgboost") candidate.params["nthread"] = threads;
    auto classifier = makeClassifier(candidate);
    auto start = std::chrono::steady_clock::now();
    auto fitted = (*classifier)->fit(data);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%-7s %-60s fit %zux%zu: %7.1f ms %s\n", candidate.kind.c_str(),
                 candidate.params.dump().c_str(), rows, cols, seconds * 1e3,
                 fitted ? "" : fitted.error().message().c_str());
  }
  if (!selectionToo) return 0;
  auto start = std::chrono::steady_clock::now();
  auto selection = selectByInnerCv(data, grid, folds, 1);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!selection) {
    std::fprintf(stderr, "selection failed: %s\n", selection.error().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "inner CV (%d folds, %zu candidates, %d threads): %.2f s total; best %s\n", folds,
               grid.size(), threads, seconds, selection->toJson()["best"].dump().c_str());
  for (const auto& result : selection->candidates) {
    std::fprintf(stderr, "  %-7s %-50s score %.3f  %.2f s\n", result.candidate.kind.c_str(),
                 result.candidate.params.dump().c_str(), result.meanScore, result.seconds);
  }
  return 0;
}
