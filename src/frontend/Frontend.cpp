// Clang 14 front end, linked in. The Clang driver turns a familiar command line into the one cc1 job it would
// run; that job is executed with EmitLLVMOnlyAction, in a fresh LLVMContext. Built-in headers (the CUDA shim,
// the OpenCL prelude) are served from an in-memory file system, so nothing is written to disk. The compile
// (and the parse of user IR) runs in a worker of a ForkServer: Clang crashes on some inputs (deep recursion
// in the parser), and a crash there must cost one file, not the process. A compiled module comes back as
// bitcode, read into a context of the caller's; IR the worker read without trouble is read again here.
#include "frontend/Frontend.h"

#include "frontend/ClangDriver.h"
#include "frontend/ForkServer.h"
#include "frontend/TrialRun.h"
#include "support/Files.h"
#include "support/Log.h"

#include <clang/Basic/Version.h>
#include <clang/CodeGen/CodeGenAction.h>
#include <clang/Frontend/CompilerInstance.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Attributes.h>
#include <llvm/IR/DebugInfo.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdlib>
#include <cstring>
#include <regex>

#include <unistd.h>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

// The stack a compile runs on: what the clang executable gives its cc1 job, so that mirtune accepts the
// nesting depth clang accepts, on any calling thread.
constexpr std::size_t kCompileStackBytes = 8u << 20;

// A log line produced where logging is not allowed (a compile worker must not take the log's lock, which some
// thread of the process it was copied from may have held); the caller logs it.
struct LogLine {
  LogLevel level;
  std::string text;
};

void replay(const std::vector<LogLine>& lines) {
  for (const LogLine& line : lines) {
    if (line.level == LogLevel::kInfo) logInfo("{}", line.text);
    if (line.level == LogLevel::kDebug) logDebug("{}", line.text);
  }
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

Expected<IrModule> parseIr(std::string_view content, const std::string& displayName,
                           std::vector<LogLine>& logs) {
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
    if (module)
      logs.push_back(
          {LogLevel::kInfo, fmt::format("{}: upgraded legacy untyped 'byval' attributes", displayName)});
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

// Runs the driver (clang + `driverArguments` + `inputPath`) and executes its single cc1 job in this process.
Expected<IrModule> compileWithClang(const std::string& inputPath, const std::string& displayName,
                                    Language language, const std::vector<std::string>& driverArguments,
                                    llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> fileSystem,
                                    std::vector<LogLine>& logs) {
  ClangDiagnostics diagnosticsSink(/*keepWarnings=*/true);
  // Warnings reach the debug log however the compile ends.
  struct KeepWarnings {
    ClangDiagnostics& sink;
    std::vector<LogLine>& logs;
    ~KeepWarnings() {
      for (const std::string& warning : sink.warnings()) logs.push_back({LogLevel::kDebug, warning});
    }
  } keepWarnings{diagnosticsSink, logs};

  auto compiler =
      createCompilerInstance(ClangJob{driverArguments, inputPath, displayName, fileSystem}, diagnosticsSink);
  if (!compiler) return compiler.error();

  auto context = std::make_unique<llvm::LLVMContext>();
  clang::EmitLLVMOnlyAction action(context.get());
  bool ok = (*compiler)->ExecuteAction(action);
  std::unique_ptr<llvm::Module> module = ok ? action.takeModule() : nullptr;
  if (!ok || !module || (*compiler)->getDiagnostics().hasErrorOccurred()) {
    return diagnosticsSink.compileError(displayName);
  }
  return IrModule(std::move(context), std::move(module), language, displayName);
}

Expected<Language> resolveLanguage(const std::string& displayName, const CompileOptions& options) {
  if (options.language) return *options.language;
  std::string extension = fs::path(displayName).extension().string();
  if (auto language = languageFromExtension(extension)) return *language;
  if (extension.empty()) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: no file extension to tell the language (expected {}; or pass --lang {})",
                     displayName, knownExtensions(), languageChoices());
  }
  return makeError(ErrorCode::kInvalidInput,
                   "{}: unknown file extension '{}' (expected {}; or pass --lang {})", displayName, extension,
                   knownExtensions(), languageChoices());
}

// One compile as the worker sees it: everything it needs, nothing it would have to look up.
struct CompileRequest {
  enum class Kind : std::uint8_t { kClang, kIr };
  Kind kind = Kind::kClang;
  Language language = Language::kOpenCl;
  std::string_view displayName;
  /// Clang's input: a path on disk, or the in-memory file's name when inputIsInMemory.
  std::string_view inputPath;
  bool inputIsInMemory = false;
  /// The in-memory source, or the IR text or bitcode; empty for a source Clang reads from disk.
  std::string_view content;
  std::vector<std::string> driverArguments;
  /// The caller's working directory: relative paths (the input, -I folders) mean the same in the worker,
  /// whose own directory is the one the process had when the compile server started.
  std::string workingDirectory;
};

// The untrusted part: Clang or the IR reader, on whatever input the user gave.
Expected<IrModule> runCompile(const CompileRequest& request, std::vector<LogLine>& logs) {
  const std::string displayName(request.displayName);
  if (request.kind == CompileRequest::Kind::kIr) return parseIr(request.content, displayName, logs);
  const std::string inputPath(request.inputPath);
  auto fileSystem = request.inputIsInMemory ? clangFileSystem(inputPath, request.content) : clangFileSystem();
  return compileWithClang(inputPath, displayName, request.language, request.driverArguments, fileSystem,
                          logs);
}

// Record tags of a compile job's answer.
constexpr char kLogTag = 'L';
constexpr char kErrorTag = 'E';
constexpr char kModuleTag = 'M';
constexpr char kVettedTag = 'V';

// Every IR reader resets an intrinsic declaration's attributes to LLVM's defaults, which would drop what the
// optimiser inferred (e.g. mustprogress) and change the module's text. So the attributes of intrinsics that
// differ from the defaults travel beside the bitcode and are put back. Type attributes (byval(T) and kin) do
// not occur on intrinsic declarations; one that had them would keep the defaults.
void encodeIntrinsicAttributes(const llvm::Module& module, WireWriter& writer) {
  std::vector<const llvm::Function*> changed;
  for (const llvm::Function& function : module) {
    if (function.isIntrinsic() &&
        function.getAttributes() !=
            llvm::Intrinsic::getAttributes(module.getContext(), function.getIntrinsicID())) {
      changed.push_back(&function);
    }
  }
  writer.number(changed.size());
  for (const llvm::Function* function : changed) {
    const llvm::AttributeList attributes = function->getAttributes();
    std::vector<std::pair<unsigned, llvm::AttributeSet>> sets;
    bool typed = false;
    for (unsigned index : attributes.indexes()) {
      llvm::AttributeSet set = attributes.getAttributes(index);
      if (!set.hasAttributes()) continue;
      sets.emplace_back(index, set);
      for (const llvm::Attribute& attribute : set) typed = typed || attribute.isTypeAttribute();
    }
    writer.text(function->getName());
    if (typed) sets.clear();
    writer.number(sets.size());
    for (const auto& [index, set] : sets) {
      writer.number(index).number(set.getNumAttributes());
      for (const llvm::Attribute& attribute : set) {
        if (attribute.isStringAttribute()) {
          writer.byte('s').text(attribute.getKindAsString()).text(attribute.getValueAsString());
        } else {
          writer.byte(attribute.isIntAttribute() ? 'i' : 'e')
              .number(attribute.getKindAsEnum())
              .number(attribute.isIntAttribute() ? attribute.getValueAsInt() : 0);
        }
      }
    }
  }
}

bool restoreIntrinsicAttributes(llvm::Module& module, WireReader& reader) {
  llvm::LLVMContext& context = module.getContext();
  std::uint64_t functions = 0;
  if (!reader.number(functions)) return false;
  for (std::uint64_t f = 0; f < functions; ++f) {
    std::string name;
    std::uint64_t setCount = 0;
    if (!reader.text(name) || !reader.number(setCount)) return false;
    std::vector<std::pair<unsigned, llvm::AttributeSet>> sets;
    for (std::uint64_t s = 0; s < setCount; ++s) {
      std::uint64_t index = 0, count = 0;
      if (!reader.number(index) || !reader.number(count)) return false;
      std::vector<llvm::Attribute> attributes;
      for (std::uint64_t a = 0; a < count; ++a) {
        std::uint8_t form = 0;
        if (!reader.byte(form)) return false;
        if (form == 's') {
          std::string key, value;
          if (!reader.text(key) || !reader.text(value)) return false;
          attributes.push_back(llvm::Attribute::get(context, key, value));
        } else {
          std::uint64_t kind = 0, value = 0;
          if (!reader.number(kind) || !reader.number(value)) return false;
          attributes.push_back(
              llvm::Attribute::get(context, static_cast<llvm::Attribute::AttrKind>(kind), value));
        }
      }
      sets.emplace_back(static_cast<unsigned>(index), llvm::AttributeSet::get(context, attributes));
    }
    llvm::Function* function = module.getFunction(name);
    if (function == nullptr) return false;
    if (!sets.empty()) function->setAttributes(llvm::AttributeList::get(context, sets));
  }
  return true;
}

std::string encodeRequest(const CompileRequest& request) {
  WireWriter writer;
  writer.byte(static_cast<std::uint8_t>(request.kind))
      .byte(static_cast<std::uint8_t>(request.language))
      .text(request.displayName)
      .text(request.inputPath)
      .byte(request.inputIsInMemory ? 1 : 0)
      .text(request.content)
      .number(request.driverArguments.size());
  for (const std::string& argument : request.driverArguments) writer.text(argument);
  writer.text(request.workingDirectory);
  return writer.bytes();
}

// The request's strings point into `storage`.
bool decodeRequest(const std::string& bytes, CompileRequest& request, std::vector<std::string>& storage) {
  WireReader reader(bytes);
  std::uint8_t kind = 0, language = 0, inMemory = 0;
  std::uint64_t argumentCount = 0;
  storage.assign(3, {});
  if (!reader.byte(kind) || !reader.byte(language) || !reader.text(storage[0]) || !reader.text(storage[1]) ||
      !reader.byte(inMemory) || !reader.text(storage[2]) || !reader.number(argumentCount)) {
    return false;
  }
  request.kind = static_cast<CompileRequest::Kind>(kind);
  request.language = static_cast<Language>(language);
  request.displayName = storage[0];
  request.inputPath = storage[1];
  request.inputIsInMemory = inMemory != 0;
  request.content = storage[2];
  request.driverArguments.clear();
  for (std::uint64_t i = 0; i < argumentCount; ++i) {
    std::string argument;
    if (!reader.text(argument)) return false;
    request.driverArguments.push_back(std::move(argument));
  }
  return reader.text(request.workingDirectory) && reader.atEnd();
}

Expected<std::string> encodeModule(const IrModule& compiled, const std::string& displayName) {
  const llvm::Module& module = compiled.module();
  // A module with debug info is verified by the bitcode reader, and a broken one is a fatal error there; in
  // the worker that costs one file, in the caller it would end the process.
  if (llvm::getDebugMetadataVersionFromModule(module) == llvm::DEBUG_METADATA_VERSION) {
    std::string problems;
    llvm::raw_string_ostream stream(problems);
    if (llvm::verifyModule(module, &stream)) {
      stream.flush();
      return makeError(ErrorCode::kCompileError, "{}: the compiler produced an invalid module: {}",
                       displayName, problems.substr(0, problems.find('\n')));
    }
  }
  llvm::SmallVector<char, 0> bitcode;
  llvm::raw_svector_ostream stream(bitcode);
  // Use-list order is part of the module too: passes that walk users must see them as the compiler left them.
  llvm::WriteBitcodeToFile(module, stream, /*ShouldPreserveUseListOrder=*/true);
  WireWriter writer;
  writer.byte(static_cast<std::uint8_t>(compiled.language()))
      .text(module.getModuleIdentifier())
      .byte(module.getContext().shouldDiscardValueNames() ? 1 : 0)
      .text(llvm::StringRef(bitcode.data(), bitcode.size()));
  encodeIntrinsicAttributes(module, writer);
  return writer.bytes();
}

Expected<IrModule> decodeModule(const std::string& bytes, const std::string& displayName) {
  WireReader reader(bytes);
  std::uint8_t language = 0, discardNames = 0;
  std::string identifier, bitcode;
  auto malformed = [&] {
    return makeError(ErrorCode::kInternal, "{}: the compile worker's module is malformed", displayName);
  };
  if (!reader.byte(language) || !reader.text(identifier) || !reader.byte(discardNames) ||
      !reader.text(bitcode)) {
    return malformed();
  }
  auto context = std::make_unique<llvm::LLVMContext>();
  auto parsed = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, identifier), *context);
  if (!parsed) {
    return makeError(ErrorCode::kInternal, "{}: cannot read the compiled module back: {}", displayName,
                     llvm::toString(parsed.takeError()));
  }
  std::unique_ptr<llvm::Module> module = std::move(*parsed);
  if (!restoreIntrinsicAttributes(*module, reader) || !reader.atEnd()) return malformed();
  // After reading: a context that discards names would have dropped the local names the bitcode carries.
  context->setDiscardValueNames(discardNames != 0);
  return IrModule(std::move(context), std::move(module), static_cast<Language>(language), displayName);
}

void answerError(const Error& error) {
  writeJobRecord(kErrorTag,
                 WireWriter().byte(static_cast<std::uint8_t>(error.code())).text(error.message()).bytes());
}

// Runs in a compile worker: one request in, log lines and an error or a module out.
void compileJob(const std::string& bytes) {
  CompileRequest request;
  std::vector<std::string> storage;
  if (!decodeRequest(bytes, request, storage)) {
    return answerError(Error(ErrorCode::kInternal, "the compile request is malformed"));
  }
  if (!request.workingDirectory.empty() && ::chdir(request.workingDirectory.c_str()) != 0) {
    return answerError(makeError(ErrorCode::kInternal, "{}: the compile worker cannot enter {}",
                                 request.displayName, request.workingDirectory));
  }
  std::vector<LogLine> logs;
  auto module = runCompile(request, logs);
  if (module && request.kind == CompileRequest::Kind::kIr) {
    writeJobRecord(kVettedTag, {});
    return;
  }
  for (const LogLine& line : logs) {
    writeJobRecord(kLogTag, WireWriter().byte(static_cast<std::uint8_t>(line.level)).text(line.text).bytes());
  }
  if (!module) return answerError(module.error());
  auto encoded = encodeModule(*module, std::string(request.displayName));
  if (!encoded) return answerError(encoded.error());
  writeJobRecord(kModuleTag, *encoded);
}

// Compiles a tiny kernel once in the compile server, so that workers start with LLVM's and Clang's lazily
// built state (targets, option tables, pass registry) already in place.
void warmUpCompiler() {
  constexpr std::string_view kSource = "kernel void warm_up(global int* a) { a[0] = 1; }\n";
  CompileRequest request;
  request.kind = CompileRequest::Kind::kClang;
  request.language = Language::kOpenCl;
  request.displayName = "warm_up.cl";
  request.inputPath = "/mirtune-builtin/warm_up.cl";
  request.inputIsInMemory = true;
  request.content = kSource;
  request.driverArguments = driverArguments(Language::kOpenCl, CompileOptions{});
  std::vector<LogLine> ignored;
  (void)runCompile(request, ignored);
}

ForkServer& compileServer() {
  // Never destroyed: threads may still compile while static destructors run at exit; the server ends when
  // the process does (its control socket closes).
  static ForkServer* server = new ForkServer(compileJob, warmUpCompiler);
  return *server;
}

// IR that a worker parsed and verified is parsed again here. A bitcode copy would not do: reading bitcode
// upgrades old IR (data layouts, frame-pointer attributes) where the text parser keeps it as written, and the
// module must be the one this parser makes. The worker had the same input, code and stack, so this parse
// cannot crash where the worker's did not.
Expected<IrModule> parseVettedIr(const CompileRequest& request) {
  struct Parse {
    const CompileRequest* request;
    std::vector<LogLine> logs;
    std::optional<Expected<IrModule>> result;
  } parse{&request, {}, std::nullopt};
  bool ran = runOnStack(
      kCompileStackBytes,
      [](void* raw) {
        auto* call = static_cast<Parse*>(raw);
        call->result.emplace(
            parseIr(call->request->content, std::string(call->request->displayName), call->logs));
      },
      &parse);
  if (!ran || !parse.result) {
    return makeError(ErrorCode::kInternal, "{}: cannot start a thread to read the IR", request.displayName);
  }
  replay(parse.logs);
  return std::move(*parse.result);
}

// Runs a request in a compile worker (or, with MIRTUNE_COMPILE_IN_PROCESS=1, here) and turns how it ended
// into the module or an error naming the file.
Expected<IrModule> compile(const CompileRequest& request, const CompileOptions& options) {
  const std::string displayName(request.displayName);
  if (compileInProcess()) {
    std::vector<LogLine> logs;
    auto module = runCompile(request, logs);
    replay(logs);
    return module;
  }
  CompileRequest located = request;
  std::error_code noDirectory;
  located.workingDirectory = fs::current_path(noDirectory).string();
  JobLimits limits;
  limits.timeoutSeconds = options.timeoutSeconds;
  limits.memoryBytes = options.memoryLimitMiB << 20;
  limits.stackBytes = kCompileStackBytes;
  auto outcome = compileServer().run(encodeRequest(located), limits);
  if (!outcome) return outcome.error().withContext(displayName);
  const bool ir = request.kind == CompileRequest::Kind::kIr;
  const char* tool = ir ? "LLVM IR reader" : "compiler";
  // What brings the reader down is unusable input, like the IR it rejects with a message.
  const ErrorCode rejected = ir ? ErrorCode::kInvalidInput : ErrorCode::kCompileError;
  switch (outcome->end) {
    case JobEnd::kFinished:
      break;
    case JobEnd::kCrashed:
      return makeError(rejected, "{}: {} crashed: signal {} ({})", displayName, tool, outcome->signal,
                       ::strsignal(outcome->signal));
    case JobEnd::kTimedOut:
      return makeError(ErrorCode::kTimeout, "{}: {} timed out after {:g} s", displayName, tool,
                       options.timeoutSeconds);
    case JobEnd::kOutOfMemory:
      return makeError(rejected, "{}: {} ran out of memory (limit {} MiB)", displayName, tool,
                       options.memoryLimitMiB);
    case JobEnd::kFatalError:
      return makeError(rejected, "{}: {} failed: {}", displayName, tool, outcome->detail);
    case JobEnd::kFailed:
      return makeError(ErrorCode::kInternal, "{}: the compile worker failed: {}", displayName,
                       outcome->detail);
  }
  std::vector<LogLine> logs;
  std::optional<Expected<IrModule>> result;
  bool vetted = false;
  for (const JobRecord& record : outcome->records) {
    WireReader reader(record.bytes);
    std::uint8_t number = 0;
    std::string text;
    if (record.tag == kLogTag && reader.byte(number) && reader.text(text)) {
      logs.push_back({static_cast<LogLevel>(number), std::move(text)});
    } else if (record.tag == kErrorTag && reader.byte(number) && reader.text(text)) {
      result.emplace(Error(static_cast<ErrorCode>(number), std::move(text)));
    } else if (record.tag == kModuleTag) {
      result.emplace(decodeModule(record.bytes, displayName));
    } else if (record.tag == kVettedTag) {
      vetted = true;
    }
  }
  if (vetted && request.kind == CompileRequest::Kind::kIr) return parseVettedIr(request);
  replay(logs);
  if (!result) return makeError(ErrorCode::kInternal, "{}: the compile worker gave no result", displayName);
  return std::move(*result);
}

Expected<IrModule> compileContent(std::string_view content, const std::string& displayName,
                                  const std::string& clangInputPath, bool inputIsInMemory,
                                  const CompileOptions& options) {
  auto language = resolveLanguage(displayName, options);
  if (!language) return language.error();
  CompileRequest request;
  request.language = *language;
  request.displayName = displayName;
  if (*language == Language::kLlvm && isBitcode(content)) {
    request.kind = CompileRequest::Kind::kIr;
    request.content = content;
    return compile(request, options);
  }
  if (*language == Language::kLlvm && fs::path(displayName).extension() == ".bc" && !content.empty()) {
    return makeError(ErrorCode::kInvalidInput, "{}: not LLVM bitcode (no bitcode magic number)", displayName);
  }
  if (auto status = checkTextInput(content, displayName, *language); !status) return status.error();
  if (*language == Language::kLlvm) {
    request.kind = CompileRequest::Kind::kIr;
    request.content = content;
    return compile(request, options);
  }
  request.kind = CompileRequest::Kind::kClang;
  request.inputPath = clangInputPath;
  request.inputIsInMemory = inputIsInMemory;
  if (inputIsInMemory) request.content = content;
  request.driverArguments = driverArguments(*language, options);
  logDebug("clang {} {}", fmt::join(request.driverArguments, " "), clangInputPath);
  return compile(request, options);
}

}  // namespace

std::vector<std::string> driverArguments(Language language, const CompileOptions& options) {
  std::vector<std::string> arguments = {"-c",
                                        "-emit-llvm",
                                        fmt::format("-O{}", options.optimizationLevel),
                                        "-resource-dir",
                                        MIRTUNE_CLANG_RESOURCE_DIR,
                                        "-w",
                                        // Typo correction compares an unknown name with every known one: a
                                        // 1 MB undeclared identifier took Clang minutes. mirtune never shows
                                        // the "did you mean" hints, so it is off.
                                        "-fno-spell-checking"};
  // Passes may run on -O0 IR later; optnone would make them skip it.
  if (options.optimizationLevel == 0) arguments.insert(arguments.end(), {"-Xclang", "-disable-O0-optnone"});
  switch (language) {
    case Language::kOpenCl:
      arguments.insert(arguments.end(),
                       {"-x", "cl", "-target", "spir64-unknown-unknown", "-cl-std=" + options.openClStandard,
                        "-Xclang", "-finclude-default-header", "-Xclang", "-fdeclare-opencl-builtins"});
      if (options.openClCompatPrelude) {
        arguments.insert(arguments.end(),
                         {"-include", fmt::format("{}/opencl_compat.h", kBuiltinHeaderDirectory)});
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
                       {"-x", "cuda", "--cuda-gpu-arch=" + options.cudaArchitecture, "--cuda-device-only",
                        "-nocudainc", "-nocudalib", "--cuda-path=/nonexistent", "-include",
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

Expected<IrModule> compileSource(std::string_view source, const std::string& name,
                                 const CompileOptions& options) {
  if (options.optimizationLevel < 0 || options.optimizationLevel > 3) {
    return makeError(ErrorCode::kUsage, "optimisation level must be 0..3, got {}", options.optimizationLevel);
  }
  fs::path virtualPath = fs::path(name).is_absolute() ? fs::path(name) : fs::current_path() / name;
  return compileContent(source, name, virtualPath.lexically_normal().string(), /*inputIsInMemory=*/true,
                        options);
}

std::string clangVersion() {
  return clang::getClangFullVersion();
}

}  // namespace mirtune
