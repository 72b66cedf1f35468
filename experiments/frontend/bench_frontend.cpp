// Front-end coverage and speed over the data sets: which OpenCL sources compile in-process, which .ll files
// parse, and the in-process compile time per kernel (median of repeated compiles).
#include "common/Statistics.h"
#include "frontend/Frontend.h"
#include "support/Error.h"
#include "support/Progress.h"
#include "support/Subprocess.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using mirtune::CompileOptions;
using mirtune::bench::median;

namespace {

std::vector<fs::path> filesWithExtension(const fs::path& folder, const std::string& extension) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == extension) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}


}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Front-end coverage and compile-time benchmark"};
  std::string openClFolder;
  std::vector<std::string> irFolders;
  std::string output;
  int repeats = 5;
  bool compareSubprocess = false;
  bool noPrelude = false;
  app.add_option("--opencl", openClFolder, "Folder with .cl sources (searched recursively)");
  app.add_option("--ir", irFolders, "Folders with .ll files (repeatable)");
  app.add_option("--repeats", repeats, "Compiles per kernel for the timing (median)")->check(CLI::Range(1, 1000));
  app.add_flag("--compare-subprocess", compareSubprocess, "Also time one clang-14 subprocess per kernel");
  app.add_flag("--no-cl-prelude", noPrelude, "Compile without mirtune's OpenCL prelude");
  app.add_option("-o,--output", output, "Write per-file results as JSON here");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json report;
  report["clang_version"] = mirtune::clangVersion();
  CompileOptions options;
  options.openClCompatPrelude = !noPrelude;

  if (!openClFolder.empty()) {
    auto files = filesWithExtension(openClFolder, ".cl");
    std::size_t compiled = 0;
    std::vector<double> medians;
    std::vector<double> subprocessTimes;
    nlohmann::json perFile = nlohmann::json::array();
    mirtune::ProgressLine progress("opencl", files.size());
    for (const fs::path& file : files) {
      std::vector<double> times;
      std::string error;
      for (int r = 0; r < repeats; ++r) {
        auto start = std::chrono::steady_clock::now();
        auto module = mirtune::compileFile(file, options);
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        if (!module) {
          error = module.error().message();
          break;
        }
      }
      nlohmann::json row = {{"file", file.filename().string()}, {"ok", error.empty()}};
      if (error.empty()) {
        ++compiled;
        double m = median(times);
        medians.push_back(m);
        row["median_ms"] = m;
        if (compareSubprocess) {
          std::vector<std::string> command = {"clang-14"};
          for (auto& a : mirtune::driverArguments(mirtune::Language::kOpenCl, options)) {
            if (a.rfind("/mirtune-builtin/", 0) == 0 || a == "-include") continue;  // prelude is in-memory only
            command.push_back(a);
          }
          command.insert(command.end(), {"-o", "/dev/null", file.string()});
          mirtune::SubprocessOptions subprocess;
          subprocess.argv = command;
          auto start = std::chrono::steady_clock::now();
          auto result = mirtune::runSubprocess(subprocess);
          double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          if (result && result->succeeded()) {
            subprocessTimes.push_back(ms);
            row["subprocess_ms"] = ms;
          }
        }
      } else {
        row["error"] = error;
      }
      perFile.push_back(row);
      progress.advance();
    }
    progress.finish();
    report["opencl"] = {{"files", files.size()},
                        {"compiled", compiled},
                        {"failed", files.size() - compiled},
                        {"median_compile_ms", median(medians)},
                        {"repeats", repeats},
                        {"per_file", perFile}};
    if (compareSubprocess) report["opencl"]["median_subprocess_ms"] = median(subprocessTimes);
    std::cout << fmt::format("OpenCL sources: {} of {} compile in-process; median compile time {:.2f} ms per kernel "
                             "(median of {} compiles each)\n",
                             compiled, files.size(), median(medians), repeats);
    if (compareSubprocess) {
      std::cout << fmt::format("clang-14 subprocess, same arguments: median {:.2f} ms per kernel\n",
                               median(subprocessTimes));
    }
  }

  for (const std::string& folder : irFolders) {
    auto files = filesWithExtension(folder, ".ll");
    std::size_t parsed = 0;
    std::vector<double> times;
    nlohmann::json failures = nlohmann::json::array();
    mirtune::ProgressLine progress("llvm", files.size());
    for (const fs::path& file : files) {
      auto start = std::chrono::steady_clock::now();
      auto module = mirtune::compileFile(file, options);
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (module) {
        ++parsed;
      } else {
        failures.push_back({{"file", file.filename().string()}, {"error", module.error().message()}});
      }
      progress.advance();
    }
    progress.finish();
    report["ir"][folder] = {
        {"files", files.size()}, {"parsed", parsed}, {"median_parse_ms", median(times)}, {"failures", failures}};
    std::cout << fmt::format("LLVM IR in {}: {} of {} parse and verify; median {:.2f} ms per file\n", folder, parsed,
                             files.size(), median(times));
  }

  if (!output.empty()) {
    std::ofstream out(output);
    out << report.dump(1) << "\n";
  }
  return 0;
}
