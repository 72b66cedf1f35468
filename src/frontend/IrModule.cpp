// IrModule: text forms, canonical hash and simple counts of a compiled module.
#include "frontend/IrModule.h"

#include "support/Sha256.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Demangle/Demangle.h>
#include <llvm/IR/AutoUpgrade.h>
#include <llvm/IR/CallingConv.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfo.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace mirtune {

IrModule::IrModule(std::unique_ptr<llvm::LLVMContext> context, std::unique_ptr<llvm::Module> module,
                   Language language, std::string sourcePath)
    : context_(std::move(context)),
      module_(std::move(module)),
      language_(language),
      sourcePath_(std::move(sourcePath)) {}

// The module must die before its context; members are destroyed in reverse order, so reset explicitly.
IrModule::~IrModule() {
  module_.reset();
}
IrModule::IrModule(IrModule&&) noexcept = default;
IrModule& IrModule::operator=(IrModule&& other) noexcept {
  if (this != &other) {
    module_.reset();
    context_ = std::move(other.context_);
    module_ = std::move(other.module_);
    language_ = other.language_;
    sourcePath_ = std::move(other.sourcePath_);
    irSha256_ = std::move(other.irSha256_);
  }
  return *this;
}

std::string IrModule::text() const {
  std::string out;
  llvm::raw_string_ostream stream(out);
  module_->print(stream, nullptr);
  stream.flush();
  return out;
}

namespace {

// Named metadata that identifies the compiler or the build, not the program.
constexpr const char* kIdentifyingNamedMetadata[] = {"llvm.ident", "llvm.commandline", "llvm.dbg.cu"};

}  // namespace

void canonicaliseModule(llvm::Module& module) {
  std::string layout = llvm::UpgradeDataLayoutString(module.getDataLayoutStr(), module.getTargetTriple());
  if (layout != module.getDataLayoutStr()) module.setDataLayout(layout);
  for (llvm::Function& function : module) {
    if (function.isIntrinsic()) {
      function.setAttributes(llvm::Intrinsic::getAttributes(module.getContext(), function.getIntrinsicID()));
    }
  }
  llvm::StripDebugInfo(module);
  for (const char* name : kIdentifyingNamedMetadata) {
    if (llvm::NamedMDNode* node = module.getNamedMetadata(name)) module.eraseNamedMetadata(node);
  }
  module.setModuleIdentifier("");
  module.setSourceFileName("");
}

std::string IrModule::canonicalText() const {
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(*module_);
  canonicaliseModule(*copy);
  std::string out;
  llvm::raw_string_ostream stream(out);
  copy->print(stream, nullptr);
  stream.flush();
  return out;
}

const std::string& IrModule::irSha256() const {
  if (irSha256_.empty()) irSha256_ = sha256Hex(canonicalText());
  return irSha256_;
}

std::size_t IrModule::functionCount() const {
  std::size_t count = 0;
  for (const llvm::Function& function : *module_) {
    if (!function.isDeclaration()) ++count;
  }
  return count;
}

std::size_t IrModule::instructionCount() const {
  std::size_t count = 0;
  for (const llvm::Function& function : *module_) count += function.getInstructionCount();
  return count;
}

namespace {

// Functions listed in a named metadata node whose operands start with the function (old SPIR
// `opencl.kernels`, NVVM `nvvm.annotations` with the "kernel" tag).
std::set<const llvm::Function*> functionsInNamedMetadata(const llvm::Module& module, llvm::StringRef nodeName,
                                                         llvm::StringRef requiredTag) {
  std::set<const llvm::Function*> found;
  const llvm::NamedMDNode* node = module.getNamedMetadata(nodeName);
  if (node == nullptr) return found;
  for (const llvm::MDNode* entry : node->operands()) {
    if (entry->getNumOperands() == 0) continue;
    auto* value = llvm::dyn_cast_or_null<llvm::ValueAsMetadata>(entry->getOperand(0).get());
    if (value == nullptr) continue;
    auto* function = llvm::dyn_cast<llvm::Function>(value->getValue()->stripPointerCasts());
    if (function == nullptr) continue;
    if (!requiredTag.empty()) {
      bool tagged = false;
      for (unsigned i = 1; i + 1 < entry->getNumOperands(); ++i) {
        auto* tag = llvm::dyn_cast_or_null<llvm::MDString>(entry->getOperand(i).get());
        if (tag != nullptr && tag->getString() == requiredTag) tagged = true;
      }
      if (!tagged) continue;
    }
    found.insert(function);
  }
  return found;
}

bool isOutlinedOpenMpRegion(llvm::StringRef name) {
  return (name.startswith(".omp_outlined.") && !name.contains("_debug__")) ||
         name.startswith(".omp_task_entry.");
}

}  // namespace

std::string kernelSourceName(const std::string& irName) {
  if (irName.rfind("_Z", 0) != 0) return irName;
  const std::string demangled = llvm::demangle(irName);
  if (demangled == irName) return irName;
  // Up to the parameter list, without a template's return type: "void tile<4>(float*)" -> "tile<4>".
  int depth = 0;
  std::size_t start = 0, end = demangled.size();
  for (std::size_t i = 0; i < demangled.size(); ++i) {
    const char c = demangled[i];
    if (c == '<') ++depth;
    if (c == '>') --depth;
    if (depth != 0) continue;
    if (c == ' ') start = i + 1;
    if (c == '(') {
      end = i;
      break;
    }
  }
  return start < end ? demangled.substr(start, end - start) : irName;
}

std::vector<std::string> IrModule::kernelNames() const {
  std::set<const llvm::Function*> listed = functionsInNamedMetadata(*module_, "opencl.kernels", "");
  std::set<const llvm::Function*> nvvm = functionsInNamedMetadata(*module_, "nvvm.annotations", "kernel");
  listed.insert(nvvm.begin(), nvvm.end());
  std::vector<std::string> names;
  for (const llvm::Function& function : *module_) {
    if (function.isDeclaration()) continue;
    unsigned callingConvention = function.getCallingConv();
    bool isKernel = callingConvention == llvm::CallingConv::SPIR_KERNEL ||
                    callingConvention == llvm::CallingConv::PTX_Kernel ||
                    callingConvention == llvm::CallingConv::AMDGPU_KERNEL ||
                    function.hasMetadata("kernel_arg_addr_space") || listed.count(&function) > 0 ||
                    isOutlinedOpenMpRegion(function.getName());
    if (isKernel) names.push_back(function.getName().str());
  }
  return names;
}

namespace {

// Functions a set of roots references directly or through constant expressions (bitcasts), transitively.
std::set<const llvm::Function*> reachableFunctions(const std::vector<const llvm::Function*>& roots) {
  std::set<const llvm::Function*> seen(roots.begin(), roots.end());
  std::vector<const llvm::Function*> work(roots.begin(), roots.end());
  auto visit = [&](const llvm::Value* value, auto& self) -> void {
    if (const auto* function = llvm::dyn_cast<llvm::Function>(value)) {
      if (seen.insert(function).second) work.push_back(function);
    } else if (const auto* expression = llvm::dyn_cast<llvm::ConstantExpr>(value)) {
      for (const llvm::Use& operand : expression->operands()) self(operand.get(), self);
    }
  };
  while (!work.empty()) {
    const llvm::Function* function = work.back();
    work.pop_back();
    for (const llvm::BasicBlock& block : *function) {
      for (const llvm::Instruction& instruction : block) {
        for (const llvm::Use& operand : instruction.operands()) visit(operand.get(), visit);
      }
    }
  }
  return seen;
}

}  // namespace

Expected<IrModule> extractKernel(const IrModule& module, const std::string& kernel) {
  return extractKernels(module, {kernel});
}

Expected<IrModule> extractKernels(const IrModule& module, const std::vector<std::string>& keep,
                                  ExtractScope scope) {
  std::vector<std::string> kernels = module.kernelNames();
  for (const std::string& kernel : keep) {
    if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end()) {
      return makeError(ErrorCode::kNotFound, "{}: no kernel named '{}' (kernels: {})", module.sourcePath(),
                       kernel,
                       kernels.empty() ? std::string("none") : fmt::format("{}", fmt::join(kernels, ", ")));
    }
  }
  auto kept = [&](llvm::StringRef name) {
    return std::find(keep.begin(), keep.end(), name.str()) != keep.end();
  };
  // A bitcode round trip moves the module into a fresh context (CloneModule cannot change contexts).
  llvm::SmallVector<char, 0> bitcode;
  llvm::raw_svector_ostream stream(bitcode);
  llvm::WriteBitcodeToFile(module.module(), stream);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto parsed = llvm::parseBitcodeFile(
      llvm::MemoryBufferRef(llvm::StringRef(bitcode.data(), bitcode.size()), "extract"), *context);
  if (!parsed) {
    return makeError(ErrorCode::kInternal, "{}: cannot copy the module: {}", module.sourcePath(),
                     llvm::toString(parsed.takeError()));
  }
  std::unique_ptr<llvm::Module> copy = std::move(*parsed);
  for (const std::string& other : kernels) {
    if (kept(other)) continue;
    if (llvm::Function* function = copy->getFunction(other)) function->deleteBody();
  }
  if (scope == ExtractScope::kReachable) {
    std::vector<const llvm::Function*> roots;
    for (const std::string& name : keep) roots.push_back(copy->getFunction(name));
    const auto reachable = reachableFunctions(roots);
    for (llvm::Function& function : copy->functions()) {
      if (!function.isDeclaration() && !reachable.count(&function)) {
        function.deleteBody();
        function.setLinkage(llvm::GlobalValue::ExternalLinkage);
      }
    }
  }
  // Remove what is now unreferenced, repeatedly: dropping a body can orphan its callees and globals. Named
  // metadata (opencl.kernels, nvvm.annotations) pointing at removed kernels is dropped with them.
  for (const char* name : {"opencl.kernels", "nvvm.annotations"}) {
    if (llvm::NamedMDNode* node = copy->getNamedMetadata(name)) copy->eraseNamedMetadata(node);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (llvm::Function& function : llvm::make_early_inc_range(copy->functions())) {
      if (!kept(function.getName()) && function.use_empty() &&
          (function.isDeclaration() || function.hasLocalLinkage() ||
           std::find(kernels.begin(), kernels.end(), function.getName().str()) != kernels.end())) {
        function.eraseFromParent();
        changed = true;
      }
    }
    for (llvm::GlobalVariable& global : llvm::make_early_inc_range(copy->globals())) {
      global.removeDeadConstantUsers();
      if (global.use_empty() && global.hasLocalLinkage()) {
        global.eraseFromParent();
        changed = true;
      }
    }
  }
  return IrModule(std::move(context), std::move(copy), module.language(), module.sourcePath());
}

}  // namespace mirtune
