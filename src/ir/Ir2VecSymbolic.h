// IR2Vec-style symbolic program vectors from a seed vocabulary: an instruction is its opcode's vector plus
// weighted vectors of its result type and of the kinds of its operands; functions and modules sum their
// instructions.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class Function;
class Instruction;
class Module;
class Type;
class Value;
}  // namespace llvm

namespace mirtune {

/// The seed vocabulary: one vector per entity (LLVM opcode, type class or operand kind), all of one
/// dimension.
class Ir2VecVocabulary {
 public:
  /// Reads `<name>:[v1, v2, ..., vD]` lines. Errors name the file and line: a missing file (kNotFound, saying
  /// where the vocabulary comes from), a malformed line, or a vector whose dimension differs from the first.
  static Expected<Ir2VecVocabulary> load(const std::filesystem::path& file);

  std::size_t dimension() const { return dimension_; }
  std::size_t size() const { return vectors_.size(); }
  /// The entity's vector; nullptr when the vocabulary has no such key.
  const std::vector<float>* find(std::string_view key) const;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::size_t dimension_ = 0;
  std::map<std::string, std::vector<float>, std::less<>> vectors_;
};

/// <dataDirectory()>/ir2vec-vocabulary (the data set's folder of seed vocabularies).
std::filesystem::path defaultIr2VecDirectory();

/// The vocabulary file a path names: a file as given, or in a folder seedEmbeddingVocab300D.txt (the
/// dimension the IR2Vec paper uses); empty `path` means defaultIr2VecDirectory().
std::filesystem::path ir2vecVocabularyFile(const std::filesystem::path& path);

/// The weights of the three parts of an instruction's vector (the IR2Vec paper's: 1, 0.5 and 0.2).
struct Ir2VecWeights {
  double opcode = 1.0;
  double type = 0.5;
  double argument = 0.2;
};

/// The vocabulary keys of an instruction's parts. Opcodes use LLVM's opcode names ("add", "getelementptr");
/// types map to their class ("integerTy", "floatTy" for every floating-point type, "pointerTy", "vectorTy",
/// "structTy", "arrayTy", "voidTy", "labelTy", "functionTy", "metadataTy", else "unknownTy"); an operand is a
/// "function", a "label" (basic block), a "pointer" (any other pointer-typed value, globals included), a
/// "constant", or else a "variable". Metadata operands have no key (empty).
std::string_view ir2vecOpcodeKey(const llvm::Instruction& instruction);
std::string_view ir2vecTypeKey(const llvm::Type& type);
std::string_view ir2vecOperandKey(const llvm::Value& operand);

/// A module's vector and what it was built from.
struct Ir2VecEmbedding {
  std::vector<float> vector;     ///< vocabulary.dimension() values
  std::size_t instructions = 0;  ///< instructions summed
  /// Keys met that the vocabulary lacks, with how often; they add nothing (e.g. "arrayTy", "labelTy").
  std::map<std::string, std::size_t> missingKeys;
};

/// Computes symbolic vectors; holds a reference to the vocabulary, which must outlive it. Thread-safe.
class Ir2VecSymbolic {
 public:
  explicit Ir2VecSymbolic(const Ir2VecVocabulary& vocabulary, Ir2VecWeights weights = {});

  std::size_t dimension() const { return vocabulary_.dimension(); }
  /// opcode weight x opcode vector + type weight x result-type vector + argument weight x sum of operand
  /// vectors.
  Ir2VecEmbedding instruction(const llvm::Instruction& instruction) const;
  /// The sum over the function's instructions (a declaration: zeros).
  Ir2VecEmbedding function(const llvm::Function& function) const;
  /// The sum over the defined functions of the module.
  Ir2VecEmbedding module(const llvm::Module& module) const;

 private:
  void add(std::vector<double>& sum, std::string_view key, double weight, Ir2VecEmbedding& out) const;
  void addInstruction(const llvm::Instruction& instruction, std::vector<double>& sum,
                      Ir2VecEmbedding& out) const;
  static void finish(const std::vector<double>& sum, Ir2VecEmbedding& out);

  const Ir2VecVocabulary& vocabulary_;
  Ir2VecWeights weights_;
};

}  // namespace mirtune
