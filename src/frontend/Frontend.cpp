// In-process Clang 14 front end. The Clang driver turns a familiar command line into the one cc1 job it
// would run; that job is executed here with EmitLLVMOnlyAction, in a fresh LLVMContext. Built-in headers
// (the CUDA shim, the OpenCL prelude) are served from an in-memory file system, so nothing is written to disk.
#include "frontend/Frontend.h"

#include "frontend/EmbeddedResources.h"
#include "support/Files.h"
#include "support/Log.h"

#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Basic/Version.h>
#include <clang/CodeGen/CodeGenAction.h>
#include <clang/Driver/Compilation.h>
#include <clang/Driver/Driver.h>
#include <clang/Driver/Job.h>
#include <clang/Driver/Tool.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Support/raw_ostream.h>

#include <regex>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBuiltinHeaderDirectory = "/mirtune-builtin";

// Collects the compiler's errors with their locations; warnings are only logged at debug level.
class CollectingDiagnostics : public clang::DiagnosticConsumer {
 public:
  void HandleDiagnostic(clang::DiagnosticsEngine::Level level, const clang::Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    llvm::SmallString<256> text;
    info.FormatDiagnostic(text);
    std::string location;
    if (info.getLocation().isValid() && info.hasSourceManager()) {
      clang::PresumedLoc presumed = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (presumed.isValid()) {
        location = fmt::format("{}:{}:{}: ", presumed.getFilename(), presumed.getLine(), presumed.getColumn());
      }
    }
    if (level >= clang::DiagnosticsEngine::Error) {
      errors_.push_back(location + text.str().str());
    } else if (level == clang::DiagnosticsEngine::Warning) {
      logDebug("{}warning: {}", location, text.str().str());
    }
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

Error compileErrorFrom(const std::string& displayName, const std::vector<std::string>& errors) {
  if (errors.empty()) return makeError(ErrorCode::kCompileError, "{}: compilation failed", displayName);
  std::string message = errors.front();
  // Errors without a location (driver errors) still need the file named.
  if (message.rfind(displayName, 0) != 0 && message.find(": ") == std::string::npos) {
    message = displayName + ": " + message;
  }
  if (errors.size() > 1) message += fmt::format(" (and {} more error{})", errors.size() - 1, errors.size() > 2 ? "s" : "");
  return Error(ErrorCode::kCompileError, message);
}

// Empty, whitespace-only and binary inputs are rejected before the compiler sees them.
Status checkTextInput(std::string_view content, const std::string& displayName, Language language) {
  if (content.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) {
    return makeError(ErrorCode::kInvalidInput, "{}: empty file (no {} code in it)", displayName,
                     languageDisplayName(language));
  }
  std::size_t nul = content.find('\0');
  if (nul != std::string_view::npos) {
    return makeError(ErrorCode::kInvalidInput, "{}: binary data (NUL byte at offset {}), not {} source text",
                     displayName, nul, languageDisplayName(language));
  }
  // Control characters other than whitespace are another sign of a binary file.
  std::size_t control = 0;
  std::size_t inspected = std::min<std::size_t>(content.size(), 1 << 16);
  for (std::size_t i = 0; i < inspected; ++i) {
    auto c = static_cast<unsigned char>(content[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') ++control;
  }
  if (control * 100 > inspected) {
    return makeError(ErrorCode::kInvalidInput, "{}: binary data ({} control bytes), not {} source text",
                     displayName, control, languageDisplayName(language));
  }
  return success();
}

bool isBitcode(std::string_view content) {
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    if (content.size() < magic.size()) return false;
    std::size_t i = 0;
    for (unsigned char byte : magic) {
      if (static_cast<unsigned char>(content[i++]) != byte) return false;
    }
    return true;
  };
  return starts({'B', 'C', 0xC0, 0xDE}) || starts({0xDE, 0xC0, 0x17, 0x0B});
}

// LLVM <= 10 wrote `T* byval` without the pointee type; LLVM 14 requires `byval(T)`. Upgrading the text
// keeps the published data sets' IR usable (rodinia lavaMD needs it).
std::string upgradeLegacyByval(const std::string& text) {
  static const std::regex kUntypedByval(R"(((?:%[-\w.$"]+|i\d+|float|double|half)\**)\* byval(?!\())");
  return std::regex_replace(text, kUntypedByval, "$1* byval($1)");
}

Expected<IrModule> parseIr(std::string_view content, const std::string& displayName) {
  auto context = std::make_unique<llvm::LLVMContext>();
  llvm::SMDiagnostic diagnostic;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(content.data(), content.size()), displayName,
                                                 /*RequiresNullTerminator=*/false);
  std::unique_ptr<llvm::Module> module = llvm::parseIR(buffer->getMemBufferRef(), diagnostic, *context);
  if (!module && !isBitcode(content) && content.find(" byval") != std::string_view::npos) {
    std::string upgraded = upgradeLegacyByval(std::string(content));
    // A fresh context: the failed parse already named the module's struct types in the old one.
    context = std::make_unique<llvm::LLVMContext>();
    llvm::SMDiagnostic retryDiagnostic;
    auto retryBuffer = llvm::MemoryBuffer::getMemBuffer(upgraded, displayName);
    module = llvm::parseIR(retryBuffer->getMemBufferRef(), retryDiagnostic, *context);
    if (module) logInfo("{}: upgraded legacy untyped 'byval' attributes", displayName);
  }
  if (!module) {
    if (diagnostic.getLineNo() > 0) {
      return makeError(ErrorCode::kInvalidInput, "{}:{}:{}: {}", displayName, diagnostic.getLineNo(),
                       diagnostic.getColumnNo() + 1, diagnostic.getMessage().str());
    }
    return makeError(ErrorCode::kInvalidInput, "{}: {}", displayName, diagnostic.getMessage().str());
  }
  std::string verifierOutput;
  llvm::raw_string_ostream verifierStream(verifierOutput);
  if (llvm::verifyModule(*module, &verifierStream)) {
    verifierStream.flush();
    std::string firstLine = verifierOutput.substr(0, verifierOutput.find('\n'));
    return makeError(ErrorCode::kInvalidInput, "{}: invalid LLVM IR: {}", displayName, firstLine);
  }
  return IrModule(std::move(context), std::move(module), Language::kLlvm, displayName);
}

llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> makeFileSystem(std::string_view inMemoryName,
                                                               std::string_view inMemoryContent) {
  auto overlay = llvm::makeIntrusiveRefCnt<llvm::vfs::OverlayFileSystem>(llvm::vfs::getRealFileSystem());
  auto memory = llvm::makeIntrusiveRefCnt<llvm::vfs::InMemoryFileSystem>();
  for (const EmbeddedResource& resource : embeddedResources()) {
    memory->addFile(fmt::format("{}/{}", kBuiltinHeaderDirectory, resource.name), 0,
                    llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(resource.content.data(), resource.content.size()),
                                                     resource.name));
  }
  if (!inMemoryName.empty()) {
    memory->addFile(llvm::StringRef(inMemoryName.data(), inMemoryName.size()), 0,
                    llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(inMemoryContent.data(), inMemoryContent.size()),
                                                         llvm::StringRef(inMemoryName.data(), inMemoryName.size())));
  }
  overlay->pushOverlay(memory);
  return overlay;
}

// Runs the driver for `inputPath` and executes its single cc1 job in this process.
Expected<IrModule> compileWithClang(const std::string& inputPath, const std::string& displayName, Language language,
                                    const CompileOptions& options,
                                    llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem) {
  CollectingDiagnostics diagnosticsSink;
  llvm::IntrusiveRefCntPtr<clang::DiagnosticOptions> diagnosticOptions = new clang::DiagnosticOptions();
  llvm::IntrusiveRefCntPtr<clang::DiagnosticIDs> diagnosticIds(new clang::DiagnosticIDs());
  clang::DiagnosticsEngine driverDiagnostics(diagnosticIds, &*diagnosticOptions, &diagnosticsSink,
                                             /*ShouldOwnClient=*/false);

  std::vector<std::string> arguments = {MIRTUNE_CLANG_EXECUTABLE};
  for (std::string& argument : driverArguments(language, options)) arguments.push_back(std::move(argument));
  arguments.push_back(inputPath);
  std::vector<const char*> argumentPointers;
  for (const std::string& argument : arguments) argumentPointers.push_back(argument.c_str());
  logDebug("clang {}", fmt::join(arguments.begin() + 1, arguments.end(), " "));

  clang::driver::Driver driver(MIRTUNE_CLANG_EXECUTABLE, llvm::sys::getDefaultTargetTriple(), driverDiagnostics,
                               "mirtune", fileSystem);
  driver.setCheckInputsExist(false);
  std::unique_ptr<clang::driver::Compilation> compilation(driver.BuildCompilation(argumentPointers));
  if (!compilation || driverDiagnostics.hasErrorOccurred()) return compileErrorFrom(displayName, diagnosticsSink.errors());
  const clang::driver::Command* cc1 = nullptr;
  for (const clang::driver::Command& job : compilation->getJobs()) {
    if (llvm::StringRef(job.getCreator().getName()) == "clang") {
      if (cc1 != nullptr) return makeError(ErrorCode::kInternal, "{}: driver planned more than one compile job", displayName);
      cc1 = &job;
    }
  }
  if (cc1 == nullptr) return makeError(ErrorCode::kInternal, "{}: driver planned no compile job", displayName);

  auto invocation = std::make_shared<clang::CompilerInvocation>();
  const llvm::opt::ArgStringList& cc1Arguments = cc1->getArguments();
  if (!clang::CompilerInvocation::CreateFromArgs(*invocation, cc1Arguments, driverDiagnostics) ||
      driverDiagnostics.hasErrorOccurred()) {
    return compileErrorFrom(displayName, diagnosticsSink.errors());
  }
  invocation->getFrontendOpts().DisableFree = false;
  // Our consumer reports errors; clang's own "N errors generated." line would only add noise.
  invocation->getDiagnosticOpts().ShowCarets = false;

  clang::CompilerInstance compiler;
  compiler.setInvocation(std::move(invocation));
  compiler.createDiagnostics(&diagnosticsSink, /*ShouldOwnClient=*/false);
  compiler.createFileManager(fileSystem);

  auto context = std::make_unique<llvm::LLVMContext>();
  clang::EmitLLVMOnlyAction action(context.get());
  bool ok = compiler.ExecuteAction(action);
  std::unique_ptr<llvm::Module> module = ok ? action.takeModule() : nullptr;
  if (!ok || !module || compiler.getDiagnostics().hasErrorOccurred()) {
    return compileErrorFrom(displayName, diagnosticsSink.errors());
  }
  return IrModule(std::move(context), std::move(module), language, displayName);
}

Expected<Language> resolveLanguage(const std::string& displayName, const CompileOptions& options) {
  if (options.language) return *options.language;
  std::string extension = fs::path(displayName).extension().string();
  if (auto language = languageFromExtension(extension)) return *language;
  if (extension.empty()) {
    return makeError(ErrorCode::kInvalidInput, "{}: no file extension to tell the language (expected {}; or pass --lang {})",
                     displayName, knownExtensions(), languageChoices());
  }
  return makeError(ErrorCode::kInvalidInput, "{}: unknown file extension '{}' (expected {}; or pass --lang {})",
                   displayName, extension, knownExtensions(), languageChoices());
}

Expected<IrModule> compileContent(std::string_view content, const std::string& displayName,
                                  const std::string& clangInputPath, bool inputIsInMemory,
                                  const CompileOptions& options) {
  auto language = resolveLanguage(displayName, options);
  if (!language) return language.error();
  if (*language == Language::kLlvm && isBitcode(content)) return parseIr(content, displayName);
  if (*language == Language::kLlvm && fs::path(displayName).extension() == ".bc" && !content.empty()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not LLVM bitcode (no bitcode magic number)", displayName);
  }
  if (auto status = checkTextInput(content, displayName, *language); !status) return status.error();
  if (*language == Language::kLlvm) return parseIr(content, displayName);
  auto fileSystem = inputIsInMemory ? makeFileSystem(clangInputPath, content) : makeFileSystem({}, {});
  return compileWithClang(clangInputPath, displayName, *language, options, fileSystem);
}

}  // namespace

std::vector<std::string> driverArguments(Language language, const CompileOptions& options) {
  std::vector<std::string> arguments = {"-c", "-emit-llvm", fmt::format("-O{}", options.optimizationLevel),
                                        "-resource-dir", MIRTUNE_CLANG_RESOURCE_DIR, "-w"};
  // Passes may run on -O0 IR later; optnone would make them skip it.
  if (options.optimizationLevel == 0) arguments.insert(arguments.end(), {"-Xclang", "-disable-O0-optnone"});
  switch (language) {
    case Language::kOpenCl:
      arguments.insert(arguments.end(), {"-x", "cl", "-target", "spir64-unknown-unknown", "-cl-std=" + options.openClStandard,
                                         "-Xclang", "-finclude-default-header", "-Xclang", "-fdeclare-opencl-builtins"});
      if (options.openClCompatPrelude) {
        arguments.insert(arguments.end(), {"-include", fmt::format("{}/opencl_compat.h", kBuiltinHeaderDirectory)});
      }
      break;
    case Language::kC:
      arguments.insert(arguments.end(), {"-x", "c", "-fopenmp"});
      break;
    case Language::kCxx:
      arguments.insert(arguments.end(), {"-x", "c++", "-std=c++17", "-fopenmp"});
      break;
    case Language::kCuda:
      arguments.insert(arguments.end(),
                       {"-x", "cuda", "--cuda-gpu-arch=" + options.cudaArchitecture, "--cuda-device-only", "-nocudainc",
                        "-nocudalib", "--cuda-path=/nonexistent", "-include",
                        fmt::format("{}/cuda_shim.h", kBuiltinHeaderDirectory)});
      break;
    case Language::kLlvm:
      break;
  }
  for (const std::string& define : options.defines) arguments.push_back("-D" + define);
  for (const std::string& folder : options.includeDirectories) arguments.push_back("-I" + folder);
  arguments.insert(arguments.end(), options.extraArguments.begin(), options.extraArguments.end());
  return arguments;
}

Expected<IrModule> compileFile(const fs::path& path, const CompileOptions& options) {
  if (options.optimizationLevel < 0 || options.optimizationLevel > 3) {
    return makeError(ErrorCode::kUsage, "optimisation level must be 0..3, got {}", options.optimizationLevel);
  }
  auto content = readFile(path);
  if (!content) return content.error();
  return compileContent(*content, path.string(), path.string(), /*inputIsInMemory=*/false, options);
}

Expected<IrModule> compileSource(std::string_view source, const std::string& name, const CompileOptions& options) {
  if (options.optimizationLevel < 0 || options.optimizationLevel > 3) {
    return makeError(ErrorCode::kUsage, "optimisation level must be 0..3, got {}", options.optimizationLevel);
  }
  fs::path virtualPath = fs::path(name).is_absolute() ? fs::path(name) : fs::current_path() / name;
  return compileContent(source, name, virtualPath.lexically_normal().string(), /*inputIsInMemory=*/true, options);
}

std::string clangVersion() { return clang::getClangFullVersion(); }

}  // namespace mirtune
