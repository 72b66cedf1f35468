// Ir2VecSymbolic: the seed vocabulary reader and one pass over a module's instructions.
#include "ir/Ir2VecSymbolic.h"

#include "support/Files.h"

#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Constant.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instruction.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Type.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

namespace mirtune {

namespace {

// "  text  " -> "text".
std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

// The numbers between '[' and ']', separated by commas.
Expected<std::vector<float>> parseVector(std::string_view text) {
  std::vector<float> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string item(trim(text.substr(start, end - start)));
    if (item.empty())
      return makeError(ErrorCode::kInvalidInput, "empty value at position {}", values.size() + 1);
    char* stop = nullptr;
    errno = 0;
    float value = std::strtof(item.c_str(), &stop);
    if (stop != item.c_str() + item.size() || errno == ERANGE) {
      return makeError(ErrorCode::kInvalidInput, "'{}' is not a number", item);
    }
    values.push_back(value);
    start = end + 1;
  }
  return values;
}

}  // namespace

Expected<Ir2VecVocabulary> Ir2VecVocabulary::load(const std::filesystem::path& file) {
  std::error_code code;
  if (!std::filesystem::is_regular_file(file, code)) {
    return makeError(ErrorCode::kNotFound,
                     "IR2Vec seed vocabulary not found at {} (the data set folder ir2vec-vocabulary; set "
                     "MIRTUNE_DATA or name the file with --ir2vec-vocabulary)",
                     file.string());
  }
  std::ifstream in(file);
  if (!in) return makeError(ErrorCode::kIo, "{}: cannot be read", file.string());
  Ir2VecVocabulary vocabulary;
  vocabulary.file_ = file;
  std::string line;
  std::size_t lineNumber = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    std::string_view text = trim(line);
    if (text.empty()) continue;
    std::size_t colon = text.find(':');
    std::size_t open = text.find('[');
    if (colon == std::string_view::npos || colon == 0 || open == std::string_view::npos || open < colon ||
        text.back() != ']') {
      return makeError(ErrorCode::kInvalidInput, "{}:{}: expected NAME:[v1, v2, ...]", file.string(),
                       lineNumber);
    }
    std::string name(trim(text.substr(0, colon)));
    auto values = parseVector(text.substr(open + 1, text.size() - open - 2));
    if (!values) return values.error().withContext(fmt::format("{}:{}", file.string(), lineNumber));
    if (vocabulary.dimension_ == 0) vocabulary.dimension_ = values->size();
    if (values->size() != vocabulary.dimension_) {
      return makeError(ErrorCode::kInvalidInput, "{}:{}: '{}' has {} values, the entities before it {}",
                       file.string(), lineNumber, name, values->size(), vocabulary.dimension_);
    }
    if (!vocabulary.vectors_.emplace(name, std::move(*values)).second) {
      return makeError(ErrorCode::kInvalidInput, "{}:{}: '{}' appears twice", file.string(), lineNumber,
                       name);
    }
  }
  if (vocabulary.vectors_.empty())
    return makeError(ErrorCode::kInvalidInput, "{}: no entities", file.string());
  return vocabulary;
}

const std::vector<float>* Ir2VecVocabulary::find(std::string_view key) const {
  auto it = vectors_.find(key);
  return it == vectors_.end() ? nullptr : &it->second;
}

std::filesystem::path defaultIr2VecDirectory() {
  return dataDirectory() / "ir2vec-vocabulary";
}

std::filesystem::path ir2vecVocabularyFile(const std::filesystem::path& path) {
  std::filesystem::path given = path.empty() ? defaultIr2VecDirectory() : path;
  std::error_code code;
  if (std::filesystem::is_directory(given, code) || path.empty()) return given / "seedEmbeddingVocab300D.txt";
  return given;
}

std::string_view ir2vecOpcodeKey(const llvm::Instruction& instruction) {
  return instruction.getOpcodeName();
}

std::string_view ir2vecTypeKey(const llvm::Type& type) {
  if (type.isVoidTy()) return "voidTy";
  if (type.isFloatingPointTy()) return "floatTy";
  if (type.isIntegerTy()) return "integerTy";
  if (type.isPointerTy()) return "pointerTy";
  if (type.isVectorTy()) return "vectorTy";
  if (type.isStructTy()) return "structTy";
  if (type.isArrayTy()) return "arrayTy";
  if (type.isLabelTy()) return "labelTy";
  if (type.isFunctionTy()) return "functionTy";
  if (type.isMetadataTy()) return "metadataTy";
  return "unknownTy";
}

std::string_view ir2vecOperandKey(const llvm::Value& operand) {
  if (llvm::isa<llvm::MetadataAsValue>(operand)) return {};
  if (llvm::isa<llvm::Function>(operand)) return "function";
  if (llvm::isa<llvm::BasicBlock>(operand)) return "label";
  if (operand.getType()->isPointerTy()) return "pointer";
  if (llvm::isa<llvm::Constant>(operand)) return "constant";
  return "variable";
}

Ir2VecSymbolic::Ir2VecSymbolic(const Ir2VecVocabulary& vocabulary, Ir2VecWeights weights)
    : vocabulary_(vocabulary), weights_(weights) {}

void Ir2VecSymbolic::add(std::vector<double>& sum, std::string_view key, double weight,
                         Ir2VecEmbedding& out) const {
  if (key.empty()) return;
  const std::vector<float>* vector = vocabulary_.find(key);
  if (vector == nullptr) {
    ++out.missingKeys[std::string(key)];
    return;
  }
  for (std::size_t d = 0; d < sum.size(); ++d) sum[d] += weight * static_cast<double>((*vector)[d]);
}

void Ir2VecSymbolic::addInstruction(const llvm::Instruction& instruction, std::vector<double>& sum,
                                    Ir2VecEmbedding& out) const {
  add(sum, ir2vecOpcodeKey(instruction), weights_.opcode, out);
  add(sum, ir2vecTypeKey(*instruction.getType()), weights_.type, out);
  for (const llvm::Use& operand : instruction.operands())
    add(sum, ir2vecOperandKey(*operand.get()), weights_.argument, out);
  ++out.instructions;
}

void Ir2VecSymbolic::finish(const std::vector<double>& sum, Ir2VecEmbedding& out) {
  out.vector.assign(sum.begin(), sum.end());
}

Ir2VecEmbedding Ir2VecSymbolic::instruction(const llvm::Instruction& instruction) const {
  Ir2VecEmbedding out;
  std::vector<double> sum(dimension(), 0.0);
  addInstruction(instruction, sum, out);
  finish(sum, out);
  return out;
}

Ir2VecEmbedding Ir2VecSymbolic::function(const llvm::Function& function) const {
  Ir2VecEmbedding out;
  std::vector<double> sum(dimension(), 0.0);
  for (const llvm::BasicBlock& block : function) {
    for (const llvm::Instruction& instruction : block) addInstruction(instruction, sum, out);
  }
  finish(sum, out);
  return out;
}

Ir2VecEmbedding Ir2VecSymbolic::module(const llvm::Module& module) const {
  Ir2VecEmbedding out;
  std::vector<double> sum(dimension(), 0.0);
  for (const llvm::Function& function : module) {
    for (const llvm::BasicBlock& block : function) {
      for (const llvm::Instruction& instruction : block) addInstruction(instruction, sum, out);
    }
  }
  finish(sum, out);
  return out;
}

}  // namespace mirtune
