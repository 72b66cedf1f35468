// IrModule: one LLVM module with its own LLVMContext, plus what mirtune knows about where it came from.
#pragma once

#include "frontend/Language.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace mirtune {

/// Owns an llvm::Module and the LLVMContext it lives in (one context per module, so modules can be built
/// and used on different threads). Move-only.
class IrModule {
 public:
  IrModule(std::unique_ptr<llvm::LLVMContext> context, std::unique_ptr<llvm::Module> module, Language language,
           std::string sourcePath);
  ~IrModule();
  IrModule(IrModule&&) noexcept;
  IrModule& operator=(IrModule&&) noexcept;

  llvm::Module& module() { return *module_; }
  const llvm::Module& module() const { return *module_; }
  Language language() const { return language_; }
  const std::string& sourcePath() const { return sourcePath_; }

  /// The module as LLVM text IR, exactly as compiled (metadata included).
  std::string text() const;
  /// Text IR with debug info, the module identifier, source file name, llvm.ident and
  /// llvm.commandline removed: the same code compiled anywhere, by anyone, prints the same.
  std::string canonicalText() const;
  /// SHA-256 (hex) of canonicalText(); computed once.
  const std::string& irSha256() const;

  /// Defined (non-declaration) functions.
  std::size_t functionCount() const;
  /// Instructions over all defined functions.
  std::size_t instructionCount() const;
  /// Entry points: OpenCL kernels, CUDA __global__ functions, or outlined OpenMP parallel regions,
  /// in module order.
  std::vector<std::string> kernelNames() const;

 private:
  std::unique_ptr<llvm::LLVMContext> context_;
  std::unique_ptr<llvm::Module> module_;
  Language language_;
  std::string sourcePath_;
  mutable std::string irSha256_;
};

}  // namespace mirtune
