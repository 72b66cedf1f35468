// tasks/common/KernelSources: the IR source option, -D values of OpenCL build options, and local kernels
// embedded once per distinct (source, defines, kernel) in the order they were given.
#include "embeddings/Encoder.h"
#include "tasks/common/KernelSources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {
namespace {

const std::filesystem::path kSuite = std::filesystem::path(MIRTUNE_TEST_INPUTS) / "devmap" / "suite";

TEST(KernelSources, IrSourceNamesRoundTrip) {
  EXPECT_EQ(*parseIrSource("source"), IrSource::kSource);
  EXPECT_EQ(*parseIrSource("dataset"), IrSource::kDataset);
  EXPECT_EQ(irSourceName(IrSource::kDataset), "dataset");
  auto unknown = parseIrSource("binary");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kUsage);
}

TEST(KernelSources, DefinesOfBuildOptions) {
  EXPECT_EQ(buildOptionDefines("-DTILE=16 -cl-fast-relaxed-math -D WIDTH=4 -DFAST -I include"),
            (std::vector<std::string>{"TILE=16", "WIDTH=4", "FAST"}));
  EXPECT_TRUE(buildOptionDefines("").empty());
}

TEST(KernelSources, LocalKernelsEmbedOncePerKernelInOrder) {
  auto encoder = Encoder::loadOrDefault("");
  ASSERT_TRUE(encoder.ok()) << encoder.error().message();
  LocalKernel add{kSuite / "vector_add.cl", "vector_add", "vector_add", {}, 1024};
  LocalKernel saxpy{kSuite / "saxpy.cl", "saxpy", "saxpy", {}, 1024};
  LocalKernel addAgain = add;
  addAgain.n = 4096;
  auto vectors = embedLocalKernels(*encoder, {add, saxpy, addAgain}, CompileOptions{}, nullptr, 1);
  ASSERT_TRUE(vectors.ok()) << vectors.error().message();
  ASSERT_EQ(vectors->size(), 3u);
  EXPECT_EQ((*vectors)[0], (*vectors)[2]);  // the same kernel at another size
  EXPECT_NE((*vectors)[0], (*vectors)[1]);

  LocalKernel missing{kSuite / "saxpy.cl", "no_such_kernel", "", {}, 1};
  auto failed = embedLocalKernels(*encoder, {missing}, CompileOptions{}, nullptr, 1);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(failed.error().message().find("saxpy.cl"), std::string::npos) << failed.error().message();
}

}  // namespace
}  // namespace mirtune
