// Front-end coverage of the published data sets; skipped when they are absent ($MIRTUNE_DATA).
#include "frontend/Frontend.h"
#include "support/Files.h"
#include "support/Subprocess.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> filesIn(const fs::path& folder, const std::string& extension) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.path().extension() == extension) files.push_back(entry.path());
  }
  return files;
}

TEST(DatasetFrontend, EveryPublishedIrFileParses) {
  fs::path data = dataDirectory();
  for (const char* sub : {"devmap/kernels_ir", "tcoarsening/kernels_ir"}) {
    if (!fs::is_directory(data / sub)) GTEST_SKIP() << "data set folder " << (data / sub) << " not found; set MIRTUNE_DATA";
  }
  std::size_t total = 0;
  for (const char* sub : {"devmap/kernels_ir", "tcoarsening/kernels_ir"}) {
    for (const fs::path& file : filesIn(data / sub, ".ll")) {
      ++total;
      auto module = compileFile(file);
      EXPECT_TRUE(module.ok()) << module.error().message();
      if (module.ok()) {
        EXPECT_FALSE(module->kernelNames().empty()) << file;
      }
    }
  }
  EXPECT_EQ(total, 686u);
}

TEST(DatasetFrontend, DevmapOpenClSourcesCompile) {
  fs::path archive = dataDirectory() / "devmap" / "kernels.tar.bz2";
  if (!fs::exists(archive)) GTEST_SKIP() << archive << " not found; set MIRTUNE_DATA";
  fs::path dir = fs::temp_directory_path() / ("mirtune-devmap-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  SubprocessOptions untar;
  untar.argv = {"tar", "-xjf", archive.string(), "-C", dir.string()};
  auto extracted = runSubprocess(untar);
  ASSERT_TRUE(extracted.ok() && extracted->succeeded()) << "cannot extract " << archive;
  std::size_t files = 0, compiled = 0;
  for (const fs::path& file : filesIn(dir, ".cl")) {
    ++files;
    auto module = compileFile(file);
    if (module.ok()) {
      ++compiled;
      EXPECT_FALSE(module->kernelNames().empty()) << file;
    } else {
      EXPECT_EQ(module.error().code(), ErrorCode::kCompileError) << module.error().message();
    }
  }
  fs::remove_all(dir);
  EXPECT_EQ(files, 256u);
  // 196 compile with clang 14 as they are; the OpenCL prelude adds 4 (experiments/RESULTS.md).
  EXPECT_GE(compiled, 200u);
}

}  // namespace
}  // namespace mirtune
