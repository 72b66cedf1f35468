// Program representation cost per data-set kernel (single thread): median per file over repeats, then the
// median, p95 and maximum over files. Graph construction = buildProgramGraph on a normalised module; with a
// tokenizer also the whole representation step (normalise + graph + token sequence + node tokens) and the
// token-sequence lengths it produces.
#include "common/Statistics.h"
#include "frontend/Frontend.h"
#include "ir/GraphFormat.h"
#include "ir/Normaliser.h"
#include "ir/ProgramGraph.h"
#include "ir/Tokenizer.h"
#include "support/Files.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using mirtune::bench::median;
using mirtune::bench::percentile;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Summary {
  double median = 0, p95 = 0, max = 0;
};
Summary summarise(const std::vector<double>& values) {
  return {median(values), percentile(values, 95),
          values.empty() ? 0 : *std::max_element(values.begin(), values.end())};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Program graph construction benchmark (single thread)"};
  std::vector<std::string> folders;
  int repeats = 11;
  std::string output;
  std::string tokenizerDirectory;
  app.add_option("--tokenizer", tokenizerDirectory, "Also time tokens with this tokenizer (default: the shipped one, if any)");
  app.add_option("--ir", folders, "Folders with .ll files (default: $MIRTUNE_DATA/devmap/kernels_ir)");
  app.add_option("--repeats", repeats, "Builds per file; the file's time is their median")
      ->check(CLI::Range(1, 1000));
  app.add_option("-o,--output", output, "Also write per-file times as JSON here");
  CLI11_PARSE(app, argc, argv);
  if (folders.empty()) folders.push_back((mirtune::dataDirectory() / "devmap" / "kernels_ir").string());

  std::vector<fs::path> files;
  for (const std::string& folder : folders) {
    if (!fs::is_directory(folder)) {
      std::cerr << "bench_graph: " << folder << " is not a folder (set MIRTUNE_DATA or pass --ir)\n";
      return 1;
    }
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.is_regular_file() && entry.path().extension() == ".ll") files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  auto tokenizer = mirtune::Tokenizer::loadOrDefault(tokenizerDirectory);
  if (!tokenizer && !tokenizerDirectory.empty()) {
    std::cerr << "bench_graph: " << tokenizer.error().message() << "\n";
    return 1;
  }

  // cold: a fresh NormalisedModule per build, as in real use (its first texts pay for slot numbering);
  // warm: repeated builds on one NormalisedModule; json: serialising the graph.
  std::vector<double> cold, warm, normalise, json, instructions, nodes, representation, sequenceLengths;
  std::size_t truncated = 0;
  nlohmann::json perFile = nlohmann::json::array();
  for (const fs::path& file : files) {
    auto module = mirtune::compileFile(file);
    if (!module) {
      std::cerr << "bench_graph: " << module.error().message() << "\n";
      return 1;
    }
    std::vector<double> coldTimes, warmTimes, normaliseTimes, jsonTimes, representationTimes;
    std::size_t untruncatedLength = 0;
    std::size_t nodeCount = 0, edgeCount = 0;
    for (int r = 0; r < repeats; ++r) {
      auto start = Clock::now();
      auto normalised = mirtune::NormalisedModule::create(*module);
      normaliseTimes.push_back(millisecondsSince(start));
      if (!normalised) {
        std::cerr << "bench_graph: " << normalised.error().message() << "\n";
        return 1;
      }
      start = Clock::now();
      auto graph = mirtune::buildProgramGraph(*normalised);
      coldTimes.push_back(millisecondsSince(start));
      if (!graph) {
        std::cerr << "bench_graph: " << file << ": " << graph.error().message() << "\n";
        return 1;
      }
      start = Clock::now();
      auto again = mirtune::buildProgramGraph(*normalised);
      warmTimes.push_back(millisecondsSince(start));
      start = Clock::now();
      std::string text = mirtune::programGraphToJson(*graph);
      jsonTimes.push_back(millisecondsSince(start));
      nodeCount = graph->nodes.size();
      edgeCount = graph->edges.size();
      if (tokenizer) {
        start = Clock::now();
        auto fresh = mirtune::NormalisedModule::create(*module);
        auto freshGraph = mirtune::buildProgramGraph(*fresh);
        mirtune::TokenSequence sequence = tokenizer->encodeModule(*fresh);
        mirtune::tokenizeNodes(*freshGraph, *tokenizer);
        representationTimes.push_back(millisecondsSince(start));
        untruncatedLength = sequence.untruncatedLength;
      }
    }
    if (tokenizer) {
      representation.push_back(median(representationTimes));
      sequenceLengths.push_back(static_cast<double>(untruncatedLength));
      if (untruncatedLength > mirtune::kDefaultMaxSequenceLength) ++truncated;
    }
    cold.push_back(median(coldTimes));
    warm.push_back(median(warmTimes));
    normalise.push_back(median(normaliseTimes));
    json.push_back(median(jsonTimes));
    instructions.push_back(static_cast<double>(module->instructionCount()));
    nodes.push_back(static_cast<double>(nodeCount));
    perFile.push_back({{"file", file.filename().string()},
                       {"instructions", module->instructionCount()},
                       {"nodes", nodeCount},
                       {"edges", edgeCount},
                       {"build_ms", cold.back()},
                       {"build_warm_ms", warm.back()},
                       {"normalise_ms", normalise.back()},
                       {"json_ms", json.back()}});
  }

  auto line = [](const char* what, const std::vector<double>& values, const char* unit) {
    Summary s = summarise(values);
    std::cout << fmt::format("{:<28} median {:>9.3f}  p95 {:>9.3f}  max {:>9.3f} {}\n", what, s.median, s.p95,
                             s.max, unit);
  };
  std::cout << fmt::format("{} files, {} repeats each, single thread; per-file value = median over repeats\n",
                           files.size(), repeats);
  line("instructions per file", instructions, "");
  line("nodes per file", nodes, "");
  line("graph build (fresh module)", cold, "ms");
  line("graph build (repeated)", warm, "ms");
  line("normalise (for reference)", normalise, "ms");
  line("graph → JSON", json, "ms");
  if (tokenizer) {
    std::cout << fmt::format("tokenizer {} ({} pieces)\n", tokenizer->id(), tokenizer->vocabularySize());
    line("normalise+graph+tokens", representation, "ms");
    line("tokens per module", sequenceLengths, "");
    std::cout << fmt::format("modules over {} tokens (truncated): {} of {}\n", mirtune::kDefaultMaxSequenceLength,
                             truncated, files.size());
  }

  if (!output.empty()) {
    Summary s = summarise(cold);
    nlohmann::json report = {{"files", files.size()},
                             {"repeats", repeats},
                             {"build_ms", {{"median", s.median}, {"p95", s.p95}, {"max", s.max}}},
                             {"per_file", perFile}};
    if (auto written = mirtune::writeFileAtomically(output, report.dump(1) + "\n"); !written) {
      std::cerr << "bench_graph: " << written.error().message() << "\n";
      return 1;
    }
  }
  return 0;
}
