// Static properties of a module, read from its encoder input: the targets of the property-prediction pretraining
// task (`mirtune pretrain --property-weight`). They are what a performance model looks at first: how large the
// code is, its instruction-class mix, its memory operations, its loops and its arithmetic intensity. No LibTorch.
#pragma once

#include "embeddings/EncoderInput.h"
#include "ir/Tokenizer.h"

#include <array>
#include <string_view>
#include <unordered_map>

namespace mirtune {

/// The properties, in order; every value is O(1) (fractions, or logarithms scaled down).
inline constexpr std::array<std::string_view, 20> kModulePropertyNames = {{
    "log_instructions",        // log1p(instruction nodes) / 8
    "variable_share",          // variable nodes / nodes
    "constant_share",          // constant nodes / nodes
    "load_share",              // of instructions: load
    "store_share",             // store
    "address_share",           // getelementptr
    "float_arithmetic_share",  // fadd fsub fmul fdiv frem fneg
    "float_division_share",    // fdiv frem (the expensive ones)
    "integer_arithmetic_share",// add sub mul div rem shifts and/or/xor
    "compare_share",           // icmp fcmp
    "control_share",           // br switch ret unreachable
    "phi_select_share",        // phi select
    "call_share",              // call / tail call / invoke (builtins included)
    "cast_share",              // conversions and bit casts
    "stack_share",             // alloca
    "atomic_share",            // atomicrmw cmpxchg fence
    "vector_share",            // extractelement insertelement shufflevector
    "backward_control_share",  // control edges to an earlier instruction (loop back edges) / control edges
    "log_intensity",           // log((arithmetic + 1) / (loads + stores + 1)) / 4
    "data_edges_per_node",     // data edges / nodes / 4
}};
inline constexpr int kModulePropertyCount = static_cast<int>(kModulePropertyNames.size());
using ModuleProperties = std::array<float, kModulePropertyNames.size()>;

/// Reads instruction classes from node tokens: an instruction node's text starts with its opcode ("tail call"
/// and "call" are calls; a call of a math intrinsic or builtin such as llvm.fmuladd or sqrt counts as float
/// arithmetic, of an atomic or barrier as atomic). Only the node's own (truncated) tokens are read.
class ModulePropertyReader {
 public:
  explicit ModulePropertyReader(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  ModuleProperties read(const EncoderInput& input);

 private:
  int classOf(const std::int32_t* pieces, std::size_t count);
  const std::string& pieceText(std::int32_t id);
  const Tokenizer& tokenizer_;
  std::unordered_map<std::int32_t, std::string> pieceText_;
};

/// The class index of an instruction from the start of its text ("load float, ...", "tail call float
/// @llvm.fmuladd.f32(..."); equal indices mean the same class.
int instructionClassOf(std::string_view instructionText);

}  // namespace mirtune
