// Loop slices: match a source loop to its LLVM loop by debug line, extract the loop's blocks with
// CodeExtractor.
#include "frontend/LoopSlice.h"

#include "frontend/LoopPragmas.h"
#include "support/Log.h"

#include <fmt/format.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/DebugInfo.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/CodeExtractor.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSliceFunctionName = "loop_slice";

// A copy of the module in a fresh context (CloneModule cannot change contexts): a bitcode round trip.
Expected<std::pair<std::unique_ptr<llvm::LLVMContext>, std::unique_ptr<llvm::Module>>> copyModule(
    const IrModule& module) {
  llvm::SmallVector<char, 0> bitcode;
  llvm::raw_svector_ostream stream(bitcode);
  llvm::WriteBitcodeToFile(module.module(), stream);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto parsed = llvm::parseBitcodeFile(
      llvm::MemoryBufferRef(llvm::StringRef(bitcode.data(), bitcode.size()), "slice"), *context);
  if (!parsed) {
    return Error(ErrorCode::kInternal, fmt::format("{}: cannot copy the module: {}", module.sourcePath(),
                                                   llvm::toString(parsed.takeError())));
  }
  return std::make_pair(std::move(context), std::move(*parsed));
}

// Keeps the body of `keep` only: other functions become declarations, then whatever is no longer referenced
// goes.
void keepOnly(llvm::Module& module, const llvm::Function* keep) {
  for (llvm::Function& function : module.functions()) {
    if (&function != keep && !function.isDeclaration()) {
      function.deleteBody();
      function.setLinkage(llvm::GlobalValue::ExternalLinkage);
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (llvm::Function& function : llvm::make_early_inc_range(module.functions())) {
      if (&function != keep && function.use_empty()) {
        function.eraseFromParent();
        changed = true;
      }
    }
    for (llvm::GlobalVariable& global : llvm::make_early_inc_range(module.globals())) {
      global.removeDeadConstantUsers();
      if (global.use_empty()) {
        global.eraseFromParent();
        changed = true;
      }
    }
  }
}

// The source line of a loop: the start of its llvm.loop location range, else the header's first located
// instruction; 0 when the loop has no location in `fileName` (another file, e.g. an inlined header function).
int loopLine(const llvm::Loop& loop, const std::string& fileName) {
  llvm::DebugLoc start = loop.getStartLoc();
  if (!start) return 0;
  const auto* location = llvm::cast<llvm::DILocation>(start.get());
  if (!fileName.empty() && fs::path(location->getFilename().str()).filename().string() != fileName) return 0;
  return static_cast<int>(location->getLine());
}

bool sameFunctionName(const llvm::Function& function, const std::string& name) {
  if (function.getName() == name) return true;
  const std::size_t colon = name.rfind("::");
  const std::string last = colon == std::string::npos ? name : name.substr(colon + 2);
  if (const llvm::DISubprogram* subprogram = function.getSubprogram()) return subprogram->getName() == last;
  return false;
}

struct LoopLocation {
  std::string function;  // LLVM name
  std::size_t headerIndex = 0;
};

// The innermost loop (preferred) or any loop of `function` starting on `line`.
std::optional<LoopLocation> findLoop(llvm::Function& function, int line, const std::string& fileName) {
  llvm::DominatorTree tree(function);
  llvm::LoopInfo loops(tree);
  const llvm::Loop* found = nullptr;
  for (const llvm::Loop* loop : loops.getLoopsInPreorder()) {
    if (loopLine(*loop, fileName) != line) continue;
    if (!found || (loop->isInnermost() && !found->isInnermost())) found = loop;
  }
  if (!found) return std::nullopt;
  std::size_t index = 0;
  for (const llvm::BasicBlock& block : function) {
    if (&block == found->getHeader()) break;
    ++index;
  }
  return LoopLocation{function.getName().str(), index};
}

// The enclosing function alone, canonical.
Expected<IrModule> functionModule(const IrModule& module, const std::string& name) {
  auto copy = copyModule(module);
  if (!copy) return copy.error();
  llvm::Module& m = *copy->second;
  keepOnly(m, m.getFunction(name));
  canonicaliseModule(m);
  return IrModule(std::move(copy->first), std::move(copy->second), module.language(), module.sourcePath());
}

// The loop whose header is block `headerIndex` of `name`, extracted into kSliceFunctionName; an error message
// when CodeExtractor refuses the region.
Expected<IrModule> loopModule(const IrModule& module, const LoopLocation& where) {
  auto copy = copyModule(module);
  if (!copy) return copy.error();
  llvm::Module& m = *copy->second;
  llvm::StripDebugInfo(m);
  llvm::Function* function = m.getFunction(where.function);
  if (!function || function->size() <= where.headerIndex) {
    return Error(ErrorCode::kInternal, "the module copy lost the loop's function");
  }
  llvm::BasicBlock* header = &*std::next(function->begin(), static_cast<long>(where.headerIndex));
  llvm::DominatorTree tree(*function);
  llvm::LoopInfo loops(tree);
  llvm::Loop* loop = loops.getLoopFor(header);
  if (!loop || loop->getHeader() != header)
    return Error(ErrorCode::kInternal, "the module copy lost the loop");
  llvm::CodeExtractor extractor(tree, *loop, /*AggregateArgs=*/false, nullptr, nullptr, nullptr, "slice");
  if (!extractor.isEligible()) {
    return Error(ErrorCode::kInvalidInput, "its blocks cannot be moved into a function of their own");
  }
  llvm::CodeExtractorAnalysisCache cache(*function);
  llvm::Function* extracted = extractor.extractCodeRegion(cache);
  if (!extracted) return Error(ErrorCode::kInvalidInput, "extracting its blocks failed");
  extracted->setName(kSliceFunctionName);
  // Loop metadata here records how the slice was compiled (unroll disabled), not the program.
  for (llvm::BasicBlock& block : *extracted)
    block.getTerminator()->setMetadata(llvm::LLVMContext::MD_loop, nullptr);
  keepOnly(m, extracted);
  canonicaliseModule(m);
  return IrModule(std::move(copy->first), std::move(copy->second), module.language(), module.sourcePath());
}

}  // namespace

Expected<IrModule> compileForLoopSlices(const fs::path& source, CompileOptions options) {
  for (const char* flag :
       {"-gline-tables-only", "-fno-unroll-loops", "-fno-vectorize", "-fno-slp-vectorize"}) {
    options.extraArguments.emplace_back(flag);
  }
  return compileFile(source, options);
}

Expected<LoopSlice> sliceLoop(const IrModule& module, const std::string& function, int line) {
  const std::string fileName = fs::path(module.sourcePath()).filename().string();
  llvm::Module& m = const_cast<llvm::Module&>(module.module());  // analyses only read the IR
  llvm::Function* named = nullptr;
  for (llvm::Function& candidate : m) {
    if (!candidate.isDeclaration() && sameFunctionName(candidate, function)) {
      named = &candidate;
      break;
    }
  }
  std::optional<LoopLocation> where;
  if (named) where = findLoop(*named, line, fileName);
  // The function may have been inlined into a caller (and dropped): its loop then lives there.
  for (llvm::Function& candidate : m) {
    if (where) break;
    if (!candidate.isDeclaration() && &candidate != named) where = findLoop(candidate, line, fileName);
  }
  if (!named && !where) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("{}:{}: no function '{}' and no loop on this line in the IR",
                             module.sourcePath(), line, function));
  }
  const std::string irFunction = where ? where->function : named->getName().str();
  auto enclosing = functionModule(module, irFunction);
  if (!enclosing) return enclosing.error();
  std::string note;
  if (where) {
    auto loop = loopModule(module, *where);
    if (loop) return LoopSlice{function, line, true, "", irFunction, std::move(*loop), std::move(*enclosing)};
    note = fmt::format("the loop was found but {}: using its enclosing function", loop.error().message());
  } else {
    note = "no LLVM loop carries this line (folded or fully unrolled): using its enclosing function";
  }
  auto fallback = functionModule(module, irFunction);
  if (!fallback) return fallback.error();
  return LoopSlice{function, line, false, note, irFunction, std::move(*fallback), std::move(*enclosing)};
}

Expected<SourceLoopSlices> sliceSourceLoops(const fs::path& source, const CompileOptions& options) {
  auto sites = findInnermostLoops(source, options.extraArguments);
  if (!sites) return sites.error();
  auto module = compileForLoopSlices(source, options);
  if (!module) return module.error();
  SourceLoopSlices result;
  for (const LoopSite& site : *sites) {
    if (site.inHeader) {
      result.skipped.push_back(fmt::format("{}:{}: loop in a header: skipped", site.file, site.line));
      continue;
    }
    auto slice = sliceLoop(*module, site.function, site.line);
    if (!slice) {
      result.skipped.push_back(slice.error().message());
      continue;
    }
    if (!slice->matched) logInfo("{}:{}: {}", source.string(), site.line, slice->note);
    result.slices.push_back(std::move(*slice));
  }
  return result;
}

}  // namespace mirtune
