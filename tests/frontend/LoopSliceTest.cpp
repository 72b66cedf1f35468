// Tests of loop slices: each innermost source loop is matched to its LLVM loop by line and extracted into a
// canonical module of its own; a header loop is skipped and a loop the optimiser removes falls back visibly.
#include "frontend/LoopPragmas.h"
#include "frontend/LoopSlice.h"

#include <gtest/gtest.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <filesystem>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kLoops = fs::path(MIRTUNE_TEST_INPUTS) / "unroll" / "loops.c";

const LoopSlice& sliceOf(const SourceLoopSlices& slices, const std::string& function) {
  auto it = std::find_if(slices.slices.begin(), slices.slices.end(),
                         [&](const LoopSlice& s) { return s.function == function; });
  if (it == slices.slices.end()) throw std::runtime_error("no slice in " + function);
  return *it;
}

std::size_t definedFunctions(const IrModule& module) {
  std::size_t n = 0;
  for (const llvm::Function& f : module.module()) n += f.isDeclaration() ? 0 : 1;
  return n;
}

SourceLoopSlices slicesOk() {
  auto slices = sliceSourceLoops(kLoops);
  EXPECT_TRUE(slices.ok()) << (slices.ok() ? "" : slices.error().message());
  return slices.ok() ? std::move(*slices) : SourceLoopSlices{};
}

TEST(LoopSlice, SimpleLoopIsMatchedByLineAndExtractedAlone) {
  auto slices = slicesOk();
  const LoopSlice& sum = sliceOf(slices, "sum");
  EXPECT_EQ(sum.line, 11);
  EXPECT_TRUE(sum.matched) << sum.note;
  EXPECT_EQ(sum.irFunction, "sum");
  ASSERT_NE(sum.loop.module().getFunction("loop_slice"), nullptr);
  EXPECT_EQ(definedFunctions(sum.loop), 1u);
  // Only the loop's blocks: the whole function has more code (entry, exit) than its loop.
  EXPECT_LT(sum.loop.instructionCount(), sum.enclosing.instructionCount() + 8);
  EXPECT_NE(sum.loop.module().getGlobalVariable("data"), nullptr);
  EXPECT_EQ(sum.loop.module().getGlobalVariable("other"), nullptr);
  // Canonical: no debug info and no loop metadata left over from how the slice was compiled.
  const std::string text = sum.loop.text();
  EXPECT_EQ(text.find("!dbg"), std::string::npos);
  EXPECT_EQ(text.find("DILocation"), std::string::npos);
  EXPECT_EQ(text.find("llvm.loop"), std::string::npos);
  EXPECT_NE(text.find("fadd"), std::string::npos);
}

TEST(LoopSlice, SlicesAreDeterministicAndDifferPerLoop) {
  auto first = slicesOk();
  auto second = slicesOk();
  ASSERT_EQ(first.slices.size(), second.slices.size());
  for (std::size_t i = 0; i < first.slices.size(); ++i) {
    EXPECT_EQ(first.slices[i].loop.irSha256(), second.slices[i].loop.irSha256());
  }
  EXPECT_NE(sliceOf(first, "sum").loop.irSha256(), sliceOf(first, "nest").loop.irSha256());
}

TEST(LoopSlice, NestedLoopSliceIsTheInnerLoopOnly) {
  auto slices = slicesOk();
  const LoopSlice& nest = sliceOf(slices, "nest");
  EXPECT_EQ(nest.line, 17);
  EXPECT_TRUE(nest.matched) << nest.note;
  // The slice is one loop: its function has no second back edge, so fewer blocks than the whole nest.
  const llvm::Function* slice = nest.loop.module().getFunction("loop_slice");
  ASSERT_NE(slice, nullptr);
  const llvm::Function* whole = nest.enclosing.module().getFunction("nest");
  ASSERT_NE(whole, nullptr);
  EXPECT_LT(slice->size(), whole->size());
}

TEST(LoopSlice, WhileAndMacroLoopsAreFound) {
  auto slices = slicesOk();
  const LoopSlice& countdown = sliceOf(slices, "countdown");
  EXPECT_EQ(countdown.line, 25);
  EXPECT_TRUE(countdown.matched) << countdown.note;
  const LoopSlice& fill = sliceOf(slices, "fill");
  EXPECT_EQ(fill.line, 32);
  // Clang gives a macro's loop the line of the macro use, where findInnermostLoops reports it.
  EXPECT_TRUE(fill.matched) << fill.note;
  EXPECT_EQ(fill.irFunction, "fill");
}

TEST(LoopSlice, HeaderLoopIsSkippedWithAMessage) {
  auto slices = slicesOk();
  ASSERT_EQ(slices.skipped.size(), 1u);
  EXPECT_NE(slices.skipped[0].find("loop_header.h"), std::string::npos) << slices.skipped[0];
  EXPECT_NE(slices.skipped[0].find("header"), std::string::npos);
  EXPECT_EQ(slices.slices.size(), 4u);
}

TEST(LoopSlice, UnknownLineFallsBackToTheFunctionAndUnknownNameIsAnError) {
  auto module = compileForLoopSlices(kLoops);
  ASSERT_TRUE(module.ok()) << module.error().message();
  auto fallback = sliceLoop(*module, "sum", 10);
  ASSERT_TRUE(fallback.ok()) << fallback.error().message();
  EXPECT_FALSE(fallback->matched);
  EXPECT_NE(fallback->note.find("enclosing function"), std::string::npos);
  EXPECT_NE(fallback->loop.module().getFunction("sum"), nullptr);
  auto missing = sliceLoop(*module, "no_such_function", 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("loops.c:3"), std::string::npos) << missing.error().message();
}

// The unroll task keeps an OpenMP app's loops that run in its (timed) parallel regions: their slices come
// from the outlined region, a set-up loop's from main.
TEST(LoopSlice, LoopInAParallelRegionIsSlicedFromTheOutlinedFunction) {
  CompileOptions options;
  options.extraArguments = {"-fopenmp"};
  auto module = compileForLoopSlices(fs::path(MIRTUNE_TEST_INPUTS) / "unroll" / "parallel_loops.c", options);
  ASSERT_TRUE(module.ok()) << module.error().message();
  auto setup = sliceLoop(*module, "main", 7);
  ASSERT_TRUE(setup.ok()) << setup.error().message();
  EXPECT_TRUE(setup->matched) << setup->note;
  EXPECT_EQ(setup->irFunction, "main");
  auto parallel = sliceLoop(*module, "main", 11);
  ASSERT_TRUE(parallel.ok()) << parallel.error().message();
  EXPECT_TRUE(parallel->matched) << parallel->note;
  EXPECT_NE(parallel->irFunction.find("omp_outlined"), std::string::npos) << parallel->irFunction;
}

}  // namespace
}  // namespace mirtune
