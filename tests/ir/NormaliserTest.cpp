// Tests of the normaliser: constant rules, canonical names, independence from paths and chosen names.
#include "frontend/Frontend.h"
#include "ir/Normaliser.h"
#include "support/Files.h"

#include <gtest/gtest.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

#include <filesystem>
#include <fstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;
const fs::path kInputs = MIRTUNE_TEST_INPUTS;

IrModule compile(const fs::path& path, int level = 1) {
  CompileOptions options;
  options.optimizationLevel = level;
  auto module = compileFile(path, options);
  if (!module) throw std::runtime_error(module.error().message());
  return std::move(module).value();
}

NormalisedModule normalise(const IrModule& module) {
  auto normalised = NormalisedModule::create(module);
  if (!normalised) throw std::runtime_error(normalised.error().message());
  return std::move(normalised).value();
}

TEST(ConstantRules, Integers) {
  EXPECT_EQ(bucketInteger(0), "0");
  EXPECT_EQ(bucketInteger(256), "256");
  EXPECT_EQ(bucketInteger(-256), "-256");
  EXPECT_EQ(bucketInteger(257), "~2^8");
  EXPECT_EQ(bucketInteger(1024), "2^10");
  EXPECT_EQ(bucketInteger(65535), "2^16-1");
  EXPECT_EQ(bucketInteger(123456789), "~2^26");
  EXPECT_EQ(bucketInteger(-4096), "-2^12");
  EXPECT_EQ(bucketInteger(std::numeric_limits<long long>::min()), "-2^63");
}

TEST(ConstantRules, Floats) {
  EXPECT_EQ(bucketFloat(1.0), "1.0");
  EXPECT_EQ(bucketFloat(0.5), "0.5");
  EXPECT_EQ(bucketFloat(100.0), "100.0");
  EXPECT_EQ(bucketFloat(static_cast<float>(0.1)), "0.1");  // written as 0.1f, stored inexactly
  EXPECT_EQ(bucketFloat(3.14159265), "~1e0");
  EXPECT_EQ(bucketFloat(-0.0123456), "-~1e-2");
  EXPECT_EQ(bucketFloat(6.02e23), "~1e23");
  EXPECT_EQ(bucketFloat(0.0), "0.0");
  EXPECT_EQ(bucketFloat(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(bucketFloat(std::nan("")), "nan");
}

TEST(ConstantRules, Lines) {
  EXPECT_EQ(normaliseIrLine("  %5 = add nsw i32 %4, 100000   ; a comment"), "%5 = add nsw i32 %4, ~2^16");
  EXPECT_EQ(normaliseIrLine("  %3 = alloca [1024 x float], align 16"), "%3 = alloca [2^10 x float], align 16");
  EXPECT_EQ(normaliseIrLine("  %9 = fmul float %8, 0x3FB99999A0000000"), "%9 = fmul float %8, 0.1");
  EXPECT_EQ(normaliseIrLine("  %2 = fadd double %1, -2.718281828e+00"), "%2 = fadd double %1, -~1e0");
  EXPECT_EQ(normaliseIrLine("@gv1 = private constant [6 x i8] c\"hi \\22x\\22\\00\", align 1"),
            "@gv1 = private constant [6 x i8] c\"<str>\", align 1");
  EXPECT_EQ(normaliseIrLine("300:                                  ; preds = %12"), "300:");
  EXPECT_EQ(normaliseIrLine("  store i32 7, i32 addrspace(3)* %6, align 1024"),
            "store i32 7, i32 addrspace(3)* %6, align 1024");
  EXPECT_EQ(normaliseIrLine("  %7 = load x86_fp80, x86_fp80* %6"), "%7 = load x86_fp80, x86_fp80* %6");
  EXPECT_EQ(normaliseIrLine("  %1 = add i128 %0, 1234567890123456789012345678901234567890"),
            "%1 = add i128 %0, ~2^127");
}

TEST(Normaliser, ProgrammerChosenNamesDoNotMatter) {
  // -O0 keeps the struct type that -O1 would scalarise away. The messages differ but have the same length.
  IrModule a = compile(kInputs / "ir" / "renamed_a.c", 0);
  IrModule b = compile(kInputs / "ir" / "renamed_b.c", 0);
  EXPECT_NE(a.irSha256(), b.irSha256()) << "the raw IR differs (names, message)";
  std::string textA = normalise(a).text();
  std::string textB = normalise(b).text();
  EXPECT_EQ(textA, textB);
  EXPECT_NE(textA.find("%struct.0 = type { float, float }"), std::string::npos) << textA;
  EXPECT_NE(textA.find("c\"<str>\""), std::string::npos);
  EXPECT_EQ(textA.find("particle"), std::string::npos);
  EXPECT_EQ(textA.find("swarm"), std::string::npos);
}

TEST(Normaliser, MetadataAttributesAndTargetAreDropped) {
  IrModule module = compile(kInputs / "saxpy.cl", 2);
  std::string text = normalise(module).text();
  EXPECT_EQ(text.find('!'), std::string::npos) << text;
  EXPECT_EQ(text.find('#'), std::string::npos) << text;
  EXPECT_EQ(text.find("dso_local"), std::string::npos);
  EXPECT_EQ(text.find("noundef"), std::string::npos);
  EXPECT_EQ(text.find("target"), std::string::npos);
  EXPECT_NE(text.find("define spir_kernel void @fn0("), std::string::npos) << text;
  EXPECT_NE(text.find("@_Z13get_global_idj"), std::string::npos) << "builtin names carry meaning";
}

TEST(Normaliser, SourceModuleIsLeftUntouched) {
  IrModule module = compile(kInputs / "ir" / "renamed_a.c", 0);
  std::string before = module.text();
  NormalisedModule normalised = normalise(module);
  EXPECT_FALSE(normalised.text().empty());
  EXPECT_EQ(module.text(), before);
  EXPECT_NE(module.text().find("%struct.particle"), std::string::npos);
}

TEST(Normaliser, SameTextFromAnotherDirectoryAndAcrossRuns) {
  fs::path copy = fs::temp_directory_path() / ("mirtune-norm-" + std::to_string(::getpid())) / "x" / "saxpy.cl";
  fs::create_directories(copy.parent_path());
  fs::copy_file(kInputs / "saxpy.cl", copy, fs::copy_options::overwrite_existing);
  std::string here = normalise(compile(kInputs / "saxpy.cl")).text();
  EXPECT_EQ(normalise(compile(copy)).text(), here);
  EXPECT_EQ(normalise(compile(kInputs / "saxpy.cl")).text(), here);
  fs::remove_all(copy.parent_path().parent_path());
}

TEST(Normaliser, FunctionTextsInIrOrderAndNodeTexts) {
  CompileOptions options;
  options.optimizationLevel = 0;
  auto module = compileFile(kInputs / "two_kernels.cl", options);
  ASSERT_TRUE(module.ok());
  NormalisedModule normalised = normalise(*module);
  auto functions = normalised.functionTexts();
  ASSERT_EQ(functions.size(), 3u);
  EXPECT_EQ(functions[0].name, "@fn0");
  EXPECT_EQ(functions[2].name, "@fn2");
  EXPECT_EQ(functions[0].text.rfind("define spir_func float @fn0(float %0) {\n", 0), 0u) << functions[0].text;
  const llvm::Function& square = *normalised.module().getFunction("fn0");
  const llvm::Instruction& multiply =
      *std::find_if(square.getEntryBlock().begin(), square.getEntryBlock().end(),
                    [](const llvm::Instruction& i) { return i.getOpcode() == llvm::Instruction::FMul; });
  EXPECT_EQ(normalised.instructionText(multiply), "%5 = fmul float %3, %4");
  EXPECT_EQ(normalised.instructionNodeText(multiply), "fmul float %v, %v");
  EXPECT_EQ(normalised.typeText(multiply.getOperand(0)->getType()), "float");
  const llvm::Function& squares = *normalised.module().getFunction("fn1");
  std::size_t calls = 0;
  for (const llvm::Instruction& instruction : squares.getEntryBlock()) {
    if (const auto* call = llvm::dyn_cast<llvm::CallInst>(&instruction)) {
      if (call->getCalledFunction()->getName() == "_Z13get_global_idj") {
        ++calls;
        EXPECT_EQ(normalised.constantText(*llvm::cast<llvm::Constant>(call->getArgOperand(0))), "i32 0");
        EXPECT_EQ(normalised.instructionNodeText(instruction), "call spir_func i64 @_Z13get_global_idj(i32 0)");
      }
    }
  }
  EXPECT_EQ(calls, 1u);
}

TEST(Normaliser, LabelsStayExactInLargeFunctions) {
  std::string ir = "define i32 @f(i32 %x) {\nentry:\n  br label %b0\n";
  for (int i = 0; i < 400; ++i) {
    ir += fmt::format("b{}:\n  %v{} = add i32 %x, {}\n  br label %b{}\n", i, i, i * 1000, i + 1);
  }
  ir += "b400:\n  ret i32 %v399\n}\n";
  auto module = compileSource(ir, "large.ll");
  ASSERT_TRUE(module.ok()) << module.error().message();
  std::string text = normalise(*module).text();
  EXPECT_NE(text.find("\n802:\nret i32 %801"), std::string::npos) << "block labels above 256 are kept";
  EXPECT_NE(text.find("br label %802"), std::string::npos);
  EXPECT_NE(text.find("add i32 %0, ~2^18"), std::string::npos);
}

TEST(Normaliser, EmptyAndDeclarationOnlyModules) {
  auto empty = compileSource("; nothing here\n", "empty.ll");
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_EQ(normalise(*empty).text(), "");
  auto declarations = compileSource("declare float @sqrtf(float)\n@g = external global i32\n", "decl.ll");
  ASSERT_TRUE(declarations.ok());
  NormalisedModule normalised = normalise(*declarations);
  EXPECT_TRUE(normalised.functionTexts().empty());
  EXPECT_EQ(normalised.text(), "@gv0 = external global i32\n");
}

TEST(Normaliser, EveryDatasetIrFileNormalises) {
  fs::path folder = dataDirectory() / "devmap" / "kernels_ir";
  if (!fs::is_directory(folder)) GTEST_SKIP() << folder << " not found; set MIRTUNE_DATA";
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(folder)) {
    auto module = compileFile(entry.path());
    ASSERT_TRUE(module.ok()) << module.error().message();
    auto normalised = NormalisedModule::create(*module);
    ASSERT_TRUE(normalised.ok()) << entry.path();
    std::string text = normalised->text();
    EXPECT_NE(text.find("define "), std::string::npos) << entry.path();
    EXPECT_EQ(text.find('!'), std::string::npos) << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 669u);
}

}  // namespace
}  // namespace mirtune
