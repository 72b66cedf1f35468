// IrModule: one LLVM module with its own LLVMContext, plus what mirtune knows about where it came from.
#pragma once

#include "support/Error.h"

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

/// Removes, in place, everything that identifies the build rather than the program: debug info, llvm.ident,
/// llvm.commandline, the module identifier and source file name. It also applies the two changes every IR
/// reader makes, so a module hashes the same before and after a bitcode round trip: intrinsic declarations
/// get LLVM's own attributes (clang's pipeline adds some), and an old data layout gets its current spelling.
void canonicaliseModule(llvm::Module& module);

/// Owns an llvm::Module and the LLVMContext it lives in (one context per module, so modules can be built
/// and used on different threads). Move-only.
class IrModule {
 public:
  IrModule(std::unique_ptr<llvm::LLVMContext> context, std::unique_ptr<llvm::Module> module,
           Language language, std::string sourcePath);
  ~IrModule();
  IrModule(IrModule&&) noexcept;
  IrModule& operator=(IrModule&&) noexcept;

  llvm::Module& module() { return *module_; }
  const llvm::Module& module() const { return *module_; }
  Language language() const { return language_; }
  const std::string& sourcePath() const { return sourcePath_; }

  /// The module as LLVM text IR, exactly as compiled (metadata included).
  std::string text() const;
  /// Text IR of a canonicaliseModule() copy: the same code compiled anywhere, by anyone, or read back from
  /// bitcode, prints the same.
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

/// The name a kernel has in its source: CUDA kernels are C++ functions, mangled in IR ("_Z5saxpyPKfPffi" ->
/// "saxpy", "_Z4tileILi4EEvPf" -> "tile<4>"); other names are returned unchanged.
std::string kernelSourceName(const std::string& irName);

/// A copy of `module` (in its own context) that keeps only the kernel `kernel` and what it uses: the other
/// kernels and every function and global no longer referenced are removed. kNotFound when `kernel` is not one
/// of module.kernelNames().
Expected<IrModule> extractKernel(const IrModule& module, const std::string& kernel);
/// What extractKernels keeps besides the named entry points.
enum class ExtractScope {
  kOtherThanEntryPoints,  ///< every function except the other entry points (extractKernel's rule)
  kReachable,             ///< only the functions the kept entry points reference, transitively
};

/// The same for several entry points kept together; kReachable keeps only what they use (e.g. all outlined
/// OpenMP regions of a program without main and its sequential helpers).
Expected<IrModule> extractKernels(const IrModule& module, const std::vector<std::string>& keep,
                                  ExtractScope scope = ExtractScope::kOtherThanEntryPoints);

}  // namespace mirtune
