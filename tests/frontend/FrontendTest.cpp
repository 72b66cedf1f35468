// Tests of the IR front end: every language, every bad input, canonical hashes, kernel detection.
#include "frontend/Frontend.h"
#include "support/Files.h"

#include <gtest/gtest.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <filesystem>
#include <fstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("mirtune-frontend-" + std::to_string(::getpid())) / name;
  fs::create_directories(dir);
  return dir;
}

void writeText(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

IrModule compileOk(const fs::path& path, const CompileOptions& options = {}) {
  auto module = compileFile(path, options);
  EXPECT_TRUE(module.ok()) << (module.ok() ? "" : module.error().message());
  if (!module.ok()) throw std::runtime_error("compile failed");
  return std::move(module).value();
}

TEST(Frontend, OpenClKernelsAreEntryPointsAndHelpersAreNot) {
  CompileOptions options;
  options.optimizationLevel = 0;  // keep the helper from being inlined away
  IrModule module = compileOk(kInputs / "two_kernels.cl", options);
  EXPECT_EQ(module.language(), Language::kOpenCl);
  EXPECT_EQ(module.kernelNames(), (std::vector<std::string>{"squares", "fill"}));
  EXPECT_EQ(module.functionCount(), 3u);
  EXPECT_GT(module.instructionCount(), 5u);
  EXPECT_NE(module.text().find("spir_kernel"), std::string::npos);
  EXPECT_EQ(module.text().find("optnone"), std::string::npos) << "-O0 IR must stay optimisable";
}

TEST(Frontend, COpenMpRegionsAreOutlined) {
  IrModule module = compileOk(kInputs / "omp_reduction.c");
  EXPECT_EQ(module.language(), Language::kC);
  EXPECT_EQ(module.kernelNames(), (std::vector<std::string>{".omp_outlined."}));
  EXPECT_NE(module.text().find("__kmpc_fork_call"), std::string::npos);
}

TEST(Frontend, CxxWithOpenMpCompiles) {
  IrModule module = compileOk(kInputs / "omp_sqrt.cpp");
  EXPECT_EQ(module.language(), Language::kCxx);
  EXPECT_EQ(module.kernelNames().size(), 1u);
  EXPECT_NE(module.text().find("i32 @main()"), std::string::npos);
}

TEST(Frontend, CudaDeviceCodeCompilesWithTheShim) {
  IrModule module = compileOk(kInputs / "vector_add.cu");
  EXPECT_EQ(module.language(), Language::kCuda);
  ASSERT_EQ(module.kernelNames().size(), 1u);
  EXPECT_NE(module.kernelNames()[0].find("add"), std::string::npos);
  std::string text = module.text();
  EXPECT_NE(text.find("nvptx64"), std::string::npos);
  EXPECT_NE(text.find("llvm.nvvm.read.ptx.sreg.tid.x"), std::string::npos);
  EXPECT_NE(text.find("llvm.nvvm.barrier0"), std::string::npos);
}

TEST(Frontend, KernelSourceNamesDemangleCudaKernels) {
  IrModule module = compileOk(kInputs / "vector_add.cu");
  ASSERT_EQ(module.kernelNames().size(), 1u);
  EXPECT_EQ(kernelSourceName(module.kernelNames()[0]), "add");
  EXPECT_EQ(kernelSourceName("_Z5saxpyPKfPffi"), "saxpy");
  EXPECT_EQ(kernelSourceName("_Z4tileILi4EEvPf"), "tile<4>");  // a template's return type is dropped
  EXPECT_EQ(kernelSourceName("_ZN2ns4stepEPi"), "ns::step");   // namespaces stay
  EXPECT_EQ(kernelSourceName("vector_add"), "vector_add");     // OpenCL names are not mangled
  EXPECT_EQ(kernelSourceName("_Znot_a_mangling"), "_Znot_a_mangling");
}

TEST(Frontend, LlvmTextPassesThrough) {
  IrModule module = compileOk(kInputs / "simple.ll");
  EXPECT_EQ(module.language(), Language::kLlvm);
  EXPECT_EQ(module.kernelNames(), (std::vector<std::string>{"scale"}));
  EXPECT_EQ(module.instructionCount(), 4u);
}

TEST(Frontend, LlvmBitcodePassesThroughWithTheSameHash) {
  IrModule fromText = compileOk(kInputs / "simple.ll");
  fs::path bitcode = scratch("bc") / "simple.bc";
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(bitcode.string(), ec);
    ASSERT_FALSE(ec);
    llvm::WriteBitcodeToFile(fromText.module(), out);
  }
  IrModule fromBitcode = compileOk(bitcode);
  EXPECT_EQ(fromBitcode.irSha256(), fromText.irSha256());
  EXPECT_EQ(fromBitcode.kernelNames(), fromText.kernelNames());
}

TEST(Frontend, LegacyUntypedByvalIsUpgraded) {
  IrModule module = compileOk(kInputs / "legacy_byval.ll");
  EXPECT_NE(module.text().find("byval(%struct.pair)"), std::string::npos);
}

TEST(Frontend, DefinesAndIncludeFoldersReachThePreprocessor) {
  auto without = compileFile(kInputs / "uses_define.cl");
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.error().message().find("WIDTH"), std::string::npos);
  CompileOptions options;
  options.defines = {"WIDTH=16"};
  IrModule with = compileOk(kInputs / "uses_define.cl", options);
  EXPECT_EQ(with.kernelNames(), (std::vector<std::string>{"row_sum"}));

  EXPECT_FALSE(compileFile(kInputs / "uses_include.cl").ok());
  CompileOptions include;
  include.includeDirectories = {(kInputs / "include").string()};
  IrModule included = compileOk(kInputs / "uses_include.cl", include);
  EXPECT_NE(included.text().find("3.000000e+00"), std::string::npos);
}

TEST(Frontend, OpenClStandardIsSelectable) {
  auto cl12 = compileFile(kInputs / "cl20_generic.cl");
  EXPECT_FALSE(cl12.ok()) << "generic address space needs CL2.0";
  CompileOptions options;
  options.openClStandard = "CL2.0";
  compileOk(kInputs / "cl20_generic.cl", options);
  options.openClStandard = "CL3.0";
  compileOk(kInputs / "saxpy.cl", options);
}

TEST(Frontend, OpenClPreludeMapsLibclcNamesAndCanBeTurnedOff) {
  IrModule module = compileOk(kInputs / "clc_names.cl");
  EXPECT_EQ(module.kernelNames(), (std::vector<std::string>{"magnitude"}));
  CompileOptions bare;
  bare.openClCompatPrelude = false;
  EXPECT_FALSE(compileFile(kInputs / "clc_names.cl", bare).ok());
}

TEST(Frontend, LanguageOverrideBeatsTheExtension) {
  fs::path file = scratch("lang") / "kernel.txt";
  fs::copy_file(kInputs / "saxpy.cl", file, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(compileFile(file).ok());
  CompileOptions options;
  options.language = Language::kOpenCl;
  EXPECT_EQ(compileOk(file, options).kernelNames(), (std::vector<std::string>{"saxpy"}));
}

TEST(Frontend, InMemorySourceCompiles) {
  auto module = compileSource("__kernel void k(__global int* a) { a[get_global_id(0)] = 1; }", "memory.cl");
  ASSERT_TRUE(module.ok()) << module.error().message();
  EXPECT_EQ(module->kernelNames(), (std::vector<std::string>{"k"}));
  auto broken = compileSource("__kernel void k(__global int* a) {\n  a[0] = missing;\n}\n", "memory.cl");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("memory.cl:2:10"), std::string::npos) << broken.error().message();
}

// ---- bad input: one clear message naming the file, the right error kind, never a crash ----

void expectError(const Expected<IrModule>& result, ErrorCode code, const std::string& fragment) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), code) << result.error().message();
  EXPECT_NE(result.error().message().find(fragment), std::string::npos) << result.error().message();
  EXPECT_EQ(result.error().message().find('\n'), std::string::npos)
      << "one line: " << result.error().message();
}

TEST(FrontendBadInput, MissingFile) {
  expectError(compileFile("/no/such/dir/kernel.cl"), ErrorCode::kNotFound, "/no/such/dir/kernel.cl");
}

TEST(FrontendBadInput, EmptyAndWhitespaceOnlyFiles) {
  fs::path dir = scratch("empty");
  writeText(dir / "empty.cl", "");
  writeText(dir / "blank.c", "  \n\t\n");
  expectError(compileFile(dir / "empty.cl"), ErrorCode::kInvalidInput, "empty.cl: empty file");
  expectError(compileFile(dir / "blank.c"), ErrorCode::kInvalidInput, "blank.c: empty file");
  writeText(dir / "empty.ll", "");
  expectError(compileFile(dir / "empty.ll"), ErrorCode::kInvalidInput, "empty.ll: empty file");
}

TEST(FrontendBadInput, BinaryJunk) {
  fs::path dir = scratch("junk");
  std::string junk;
  for (int i = 0; i < 512; ++i) junk.push_back(static_cast<char>((i * 131 + 7) % 256));
  for (const char* name : {"junk.cl", "junk.c", "junk.cu", "junk.ll", "junk.bc"}) {
    writeText(dir / name, junk);
    auto result = compileFile(dir / name);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput) << result.error().message();
    EXPECT_NE(result.error().message().find(name), std::string::npos) << result.error().message();
  }
  // Text without NUL bytes but full of control characters is junk too.
  std::string controls(400, '\x01');
  writeText(dir / "controls.cl", controls);
  expectError(compileFile(dir / "controls.cl"), ErrorCode::kInvalidInput, "binary data");
}

TEST(FrontendBadInput, UnknownExtension) {
  fs::path dir = scratch("ext");
  writeText(dir / "kernel.f90", "program x\nend program\n");
  writeText(dir / "noextension", "int x;\n");
  expectError(compileFile(dir / "kernel.f90"), ErrorCode::kInvalidInput, "unknown file extension '.f90'");
  expectError(compileFile(dir / "noextension"), ErrorCode::kInvalidInput, "--lang");
}

TEST(FrontendBadInput, CompileErrorsCarryLineColumnAndClangsDiagnostic) {
  expectError(compileFile(kInputs / "undeclared.cl"), ErrorCode::kCompileError,
              "undeclared.cl:2:10: use of undeclared identifier 'b'");
  expectError(compileFile(kInputs / "syntax_error.c"), ErrorCode::kCompileError, "syntax_error.c:1:");
}

TEST(FrontendBadInput, InvalidLlvmIr) {
  expectError(compileFile(kInputs / "broken_ssa.ll"), ErrorCode::kInvalidInput, "broken_ssa.ll:2:");
  fs::path dir = scratch("ir");
  writeText(dir / "words.ll", "this is not IR\n");
  expectError(compileFile(dir / "words.ll"), ErrorCode::kInvalidInput, "words.ll:1:1");
}

TEST(FrontendBadInput, BadOptimisationLevelIsAUsageError) {
  CompileOptions options;
  options.optimizationLevel = 5;
  expectError(compileFile(kInputs / "saxpy.cl", options), ErrorCode::kUsage, "0..3");
}

// ---- canonical hash ----

TEST(CanonicalHash, SameCodeFromAnotherDirectoryHashesTheSame) {
  for (const char* name : {"saxpy.cl", "omp_reduction.c", "vector_add.cu", "omp_sqrt.cpp"}) {
    IrModule here = compileOk(kInputs / name);
    fs::path elsewhere = scratch(std::string("copy-") + name) / "deeper" / name;
    fs::create_directories(elsewhere.parent_path());
    fs::copy_file(kInputs / name, elsewhere, fs::copy_options::overwrite_existing);
    IrModule there = compileOk(elsewhere);
    EXPECT_EQ(here.irSha256(), there.irSha256()) << name;
    EXPECT_EQ(here.irSha256().size(), 64u);
    EXPECT_EQ(there.canonicalText().find(elsewhere.parent_path().string()), std::string::npos) << name;
  }
}

TEST(CanonicalHash, CompilingTwiceIsDeterministic) {
  IrModule first = compileOk(kInputs / "two_kernels.cl");
  IrModule second = compileOk(kInputs / "two_kernels.cl");
  EXPECT_EQ(first.text(), second.text());
  EXPECT_EQ(first.irSha256(), second.irSha256());
}

TEST(CanonicalHash, DebugInfoAndIdentDoNotChangeTheHash) {
  IrModule plain = compileOk(kInputs / "omp_reduction.c");
  CompileOptions debug;
  debug.extraArguments = {"-g"};
  IrModule withDebug = compileOk(kInputs / "omp_reduction.c", debug);
  EXPECT_NE(withDebug.text().find("!DICompileUnit"), std::string::npos);
  EXPECT_EQ(withDebug.canonicalText().find("!DICompileUnit"), std::string::npos);
  EXPECT_EQ(plain.canonicalText().find("llvm.ident"), std::string::npos);
  EXPECT_EQ(plain.canonicalText().find("source_filename"), std::string::npos);
}

TEST(CanonicalHash, DifferentCodeOrLevelHashesDifferently) {
  CompileOptions o0;
  o0.optimizationLevel = 0;
  EXPECT_NE(compileOk(kInputs / "saxpy.cl").irSha256(), compileOk(kInputs / "saxpy.cl", o0).irSha256());
  EXPECT_NE(compileOk(kInputs / "saxpy.cl").irSha256(), compileOk(kInputs / "two_kernels.cl").irSha256());
}

}  // namespace
}  // namespace mirtune
