// Normalised IR. The source module is copied into a fresh LLVMContext through in-memory bitcode (struct types
// belong to the context, so renaming them in a same-context clone would rename the caller's types too), the
// copy is canonicalised in place, and texts come from LLVM's own printer followed by one linear scan per line
// that applies the constant and string rules.
#include "ir/Normaliser.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfo.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/InstrTypes.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/ModuleSlotTracker.h>
#include <llvm/IR/TypeFinder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace mirtune {

// ---------------------------------------------------------------------------------------------------------
// Constant rules
// ---------------------------------------------------------------------------------------------------------

namespace {

__extension__ typedef unsigned __int128 Wide;  // constants of i128 and wider still get a bucket

int floorLog2(Wide value) {
  int k = -1;
  while (value != 0) {
    value >>= 1;
    ++k;
  }
  return k;
}

std::string bucketMagnitude(Wide magnitude) {
  if (magnitude <= static_cast<Wide>(kMaxExactInteger)) {
    return std::to_string(static_cast<unsigned long long>(magnitude));
  }
  int k = floorLog2(magnitude);
  if ((magnitude & (magnitude - 1)) == 0) return fmt::format("2^{}", k);
  if (((magnitude + 1) & magnitude) == 0) return fmt::format("2^{}-1", k + 1);
  return fmt::format("~2^{}", k);
}

// Parses a run of decimal digits (at most 38) into a 128-bit magnitude; false if longer.
bool parseDigits(std::string_view digits, Wide& out) {
  if (digits.empty() || digits.size() > 38) return false;
  out = 0;
  for (char c : digits) out = out * 10 + static_cast<unsigned>(c - '0');
  return true;
}

bool isIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$' || c == '%' || c == '@' ||
         c == '#' || c == '!' || c == '"';
}

}  // namespace

std::string bucketInteger(long long value) {
  Wide magnitude = value < 0 ? static_cast<Wide>(-(value + 1)) + 1 : static_cast<Wide>(value);
  std::string text = bucketMagnitude(magnitude);
  return value < 0 ? "-" + text : text;
}

std::string bucketFloat(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Keep a constant whose 4-significant-digit decimal form is exact, at double or at float precision
  // (0.1f is stored as 0.100000001490116…, but it was written as 0.1).
  std::string shortForm = fmt::format("{:.4g}", value);
  double reparsed = std::strtod(shortForm.c_str(), nullptr);
  bool exact = reparsed == value || static_cast<float>(reparsed) == static_cast<float>(value);
  if (exact && std::fabs(value) >= 1e-4 && std::fabs(value) < 1e6) {
    if (shortForm.find_first_of(".e") == std::string::npos) shortForm += ".0";
    return shortForm;
  }
  int k = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  return fmt::format("{}~1e{}", value < 0 ? "-" : "", k);
}

namespace {

// LLVM prints a float constant that has no short exact decimal form as the hex of its double value.
std::string bucketHexFloat(std::string_view hex) {
  if (hex.size() == 18) {  // "0x" + 16 hex digits: an IEEE double
    std::uint64_t bits = std::strtoull(std::string(hex.substr(2)).c_str(), nullptr, 16);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return bucketFloat(value);
  }
  return "~fp";  // x86_fp80 (0xK…), fp128 (0xL…), ppc (0xM…), half (0xH…), bfloat (0xR…)
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string normaliseIrLine(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  std::size_t i = 0;
  std::size_t n = line.size();
  // Leading indentation carries nothing.
  while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
  bool lineStart = true;
  while (i < n) {
    char c = line[i];
    if (c == ';') break;  // a comment ("; preds = …")
    if (c == '"') {       // a quoted name: copy as is
      std::size_t end = line.find('"', i + 1);
      end = end == std::string_view::npos ? n : end + 1;
      out.append(line.substr(i, end - i));
      i = end;
      lineStart = false;
      continue;
    }
    if (c == 'c' && i + 1 < n && line[i + 1] == '"' && (i == 0 || !isIdentifierChar(line[i - 1]))) {
      std::size_t end = line.find('"', i + 2);
      end = end == std::string_view::npos ? n : end + 1;
      out += "c\"<str>\"";
      i = end;
      lineStart = false;
      continue;
    }
    bool boundary = i == 0 || !isIdentifierChar(line[i - 1]);
    bool negative = c == '-' && i + 1 < n && std::isdigit(static_cast<unsigned char>(line[i + 1]));
    if (boundary && (std::isdigit(static_cast<unsigned char>(c)) || negative)) {
      std::size_t start = negative ? i + 1 : i;
      if (line.compare(start, 2, "0x") == 0) {
        std::size_t end = start + 2;
        while (end < n && std::isalnum(static_cast<unsigned char>(line[end]))) ++end;
        std::string bucket = bucketHexFloat(line.substr(start, end - start));
        if (negative) bucket = bucket[0] == '-' ? bucket.substr(1) : "-" + bucket;
        out += bucket;
        i = end;
        lineStart = false;
        continue;
      }
      std::size_t end = start;
      while (end < n && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
      bool isFloat = end < n && (line[end] == '.' || line[end] == 'e');
      if (isFloat) {
        std::size_t floatEnd = end;
        while (floatEnd < n && (std::isdigit(static_cast<unsigned char>(line[floatEnd])) || line[floatEnd] == '.' ||
                                line[floatEnd] == 'e' || line[floatEnd] == '+' || line[floatEnd] == '-')) {
          ++floatEnd;
        }
        out += bucketFloat(std::strtod(std::string(line.substr(i, floatEnd - i)).c_str(), nullptr));
        i = floatEnd;
        lineStart = false;
        continue;
      }
      std::string_view digits = line.substr(start, end - start);
      // Block labels ("300:"), alignments and address spaces are not constants.
      bool keep = (lineStart && end < n && line[end] == ':') || endsWith(out, "align ") || endsWith(out, "addrspace(");
      Wide magnitude = 0;
      if (keep) {
        out.append(line.substr(i, end - i));
      } else if (parseDigits(digits, magnitude)) {
        if (negative) out += '-';
        out += bucketMagnitude(magnitude);
      } else {
        out += negative ? "-~2^127" : "~2^127";
      }
      i = end;
      lineStart = false;
      continue;
    }
    if (c == ' ' && !out.empty() && out.back() == ' ') {
      ++i;
      continue;
    }
    out += c;
    if (c != ' ') lineStart = false;
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// NormalisedModule
// ---------------------------------------------------------------------------------------------------------

struct NormalisedModule::State {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::ModuleSlotTracker> slots;
  const llvm::Function* slotFunction = nullptr;

  ~State() {
    slots.reset();
    module.reset();
  }

  // Slot numbers of local values come from the function being printed; switching functions re-incorporates.
  llvm::ModuleSlotTracker& slotsFor(const llvm::Function* function) {
    if (function != nullptr && function != slotFunction) {
      slots->incorporateFunction(*function);
      slotFunction = function;
    }
    return *slots;
  }
};

namespace {

Expected<std::unique_ptr<llvm::Module>> copyIntoContext(const llvm::Module& source, llvm::LLVMContext& context) {
  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream stream(buffer);
  llvm::WriteBitcodeToFile(source, stream);
  auto parsed = llvm::parseBitcodeFile(llvm::MemoryBufferRef(llvm::StringRef(buffer.data(), buffer.size()), "copy"),
                                       context);
  if (!parsed) {
    std::string message = llvm::toString(parsed.takeError());
    return makeError(ErrorCode::kInternal, "cannot copy module: {}", message);
  }
  return std::move(*parsed);
}

void dropMetadataAndAttributes(llvm::Module& module) {
  llvm::StripDebugInfo(module);
  while (!module.named_metadata_empty()) module.eraseNamedMetadata(&*module.named_metadata_begin());
  llvm::SmallVector<std::pair<unsigned, llvm::MDNode*>, 8> attachments;
  for (llvm::GlobalVariable& global : module.globals()) {
    global.clearMetadata();
    global.setDSOLocal(false);
    global.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::None);
    global.setSection("");
    global.setComdat(nullptr);
  }
  for (llvm::Function& function : module) {
    function.clearMetadata();
    function.setAttributes(llvm::AttributeList());
    function.setDSOLocal(false);
    function.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::None);
    function.setSection("");
    function.setComdat(nullptr);
    if (function.hasPersonalityFn()) function.setPersonalityFn(nullptr);
    for (llvm::BasicBlock& block : function) {
      for (llvm::Instruction& instruction : block) {
        instruction.getAllMetadata(attachments);
        for (const auto& [kind, node] : attachments) instruction.setMetadata(kind, nullptr);
        attachments.clear();
        if (auto* call = llvm::dyn_cast<llvm::CallBase>(&instruction)) call->setAttributes(llvm::AttributeList());
      }
    }
  }
}

void canonicaliseNames(llvm::Module& module) {
  // Two steps (clear, then assign) so a new name never collides with an old one still in place.
  std::vector<llvm::Function*> defined;
  for (llvm::Function& function : module) {
    if (function.isDeclaration()) continue;
    defined.push_back(&function);
    function.setName("");
    for (llvm::Argument& argument : function.args()) argument.setName("");
    for (llvm::BasicBlock& block : function) {
      block.setName("");
      for (llvm::Instruction& instruction : block) instruction.setName("");
    }
  }
  std::vector<llvm::GlobalVariable*> globals;
  for (llvm::GlobalVariable& global : module.globals()) {
    globals.push_back(&global);
    global.setName("");
  }
  for (std::size_t i = 0; i < defined.size(); ++i) defined[i]->setName(fmt::format("fn{}", i));
  for (std::size_t i = 0; i < globals.size(); ++i) globals[i]->setName(fmt::format("gv{}", i));

  llvm::TypeFinder structs;
  structs.run(module, /*onlyNamed=*/false);
  for (std::size_t i = 0; i < structs.size(); ++i) structs[i]->setName(fmt::format("mirtune.tmp.{}", i));
  for (std::size_t i = 0; i < structs.size(); ++i) structs[i]->setName(fmt::format("struct.{}", i));
}

std::string trimmedLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Replaces local value references (%12) by %v; struct names (%struct.3) and globals (@gv0) stay.
std::string anonymiseLocals(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      std::size_t end = i + 1;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      out += "%v";
      i = end - 1;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A global's initializer can be a huge array; its type says enough.
constexpr std::size_t kMaxGlobalLine = 160;

}  // namespace

NormalisedModule::NormalisedModule(std::unique_ptr<State> state) : state_(std::move(state)) {}
NormalisedModule::~NormalisedModule() = default;
NormalisedModule::NormalisedModule(NormalisedModule&&) noexcept = default;
NormalisedModule& NormalisedModule::operator=(NormalisedModule&&) noexcept = default;

Expected<NormalisedModule> NormalisedModule::create(const IrModule& source) {
  auto state = std::make_unique<State>();
  state->context = std::make_unique<llvm::LLVMContext>();
  auto copy = copyIntoContext(source.module(), *state->context);
  if (!copy) return copy.error().withContext(source.sourcePath());
  state->module = std::move(*copy);
  dropMetadataAndAttributes(*state->module);
  canonicaliseNames(*state->module);
  state->slots = std::make_unique<llvm::ModuleSlotTracker>(state->module.get(), /*ShouldInitializeAllMetadata=*/false);
  return NormalisedModule(std::move(state));
}

const llvm::Module& NormalisedModule::module() const { return *state_->module; }

std::string NormalisedModule::instructionText(const llvm::Instruction& instruction) const {
  std::string printed;
  llvm::raw_string_ostream stream(printed);
  instruction.print(stream, state_->slotsFor(instruction.getFunction()));
  stream.flush();
  return normaliseIrLine(printed);
}

std::string NormalisedModule::instructionNodeText(const llvm::Instruction& instruction) const {
  std::string text = instructionText(instruction);
  if (!instruction.getType()->isVoidTy() && text.size() > 1 && text[0] == '%') {
    std::size_t assign = text.find(" = ");
    if (assign != std::string::npos) text.erase(0, assign + 3);
  }
  return anonymiseLocals(text);
}

std::string NormalisedModule::typeText(const llvm::Type* type) const {
  std::string printed;
  llvm::raw_string_ostream stream(printed);
  type->print(stream);
  stream.flush();
  return normaliseIrLine(printed);
}

std::string NormalisedModule::constantText(const llvm::Constant& constant) const {
  std::string printed;
  llvm::raw_string_ostream stream(printed);
  constant.printAsOperand(stream, /*PrintType=*/true, *state_->slots);
  stream.flush();
  return anonymiseLocals(normaliseIrLine(printed));
}

std::vector<std::string> NormalisedModule::globalTexts() const {
  std::vector<std::string> lines;
  for (const llvm::GlobalVariable& global : state_->module->globals()) {
    std::string printed;
    llvm::raw_string_ostream stream(printed);
    global.print(stream, *state_->slots);
    stream.flush();
    std::string line = normaliseIrLine(trimmedLine(printed));
    if (line.size() > kMaxGlobalLine && global.hasInitializer()) {
      line = fmt::format("@{} = {} {} <init>", global.getName().str(), global.isConstant() ? "constant" : "global",
                         typeText(global.getValueType()));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<FunctionText> NormalisedModule::functionTexts() const {
  std::vector<FunctionText> functions;
  for (const llvm::Function& function : *state_->module) {
    if (function.isDeclaration()) continue;
    std::string printed;
    llvm::raw_string_ostream stream(printed);
    function.print(stream);
    stream.flush();
    std::string text;
    std::size_t start = 0;
    while (start < printed.size()) {
      std::size_t end = printed.find('\n', start);
      if (end == std::string::npos) end = printed.size();
      std::string line = normaliseIrLine(std::string_view(printed).substr(start, end - start));
      if (!line.empty()) {
        text += line;
        text += '\n';
      }
      start = end + 1;
    }
    functions.push_back({"@" + function.getName().str(), std::move(text)});
  }
  return functions;
}

std::vector<std::string> NormalisedModule::structTexts() const {
  llvm::TypeFinder structs;
  structs.run(*state_->module, /*onlyNamed=*/false);
  std::vector<std::string> lines;
  for (llvm::StructType* type : structs) {
    std::string printed;
    llvm::raw_string_ostream stream(printed);
    type->print(stream, /*IsForDebug=*/false, /*NoDetails=*/false);
    stream.flush();
    lines.push_back(normaliseIrLine(printed));
  }
  return lines;
}

std::string NormalisedModule::text() const {
  std::string out;
  for (const std::string& line : structTexts()) {
    out += line;
    out += '\n';
  }
  for (const std::string& line : globalTexts()) {
    out += line;
    out += '\n';
  }
  for (const FunctionText& function : functionTexts()) out += function.text;
  return out;
}

}  // namespace mirtune
