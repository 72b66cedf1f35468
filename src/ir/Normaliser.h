// The normaliser: a canonical, learning-friendly text form of a module, and the per-instruction, per-type and
// per-constant texts that program-graph nodes carry. Pure and deterministic.
#pragma once

#include "frontend/IrModule.h"
#include "support/Error.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class Constant;
class Function;
class Instruction;
class Module;
class ModuleSlotTracker;
class Type;
class Value;
}  // namespace llvm

namespace mirtune {

/// Bumped whenever the text a module normalises to changes; models record the version they were trained on.
inline constexpr int kNormaliserVersion = 1;

/// Integers with |v| <= this are kept exactly; larger ones are bucketed (see bucketInteger).
inline constexpr long long kMaxExactInteger = 256;

/// One defined function's normalised text ("define … {" to "}"), in module order.
struct FunctionText {
  std::string name;  ///< canonical name, e.g. "@fn0"
  std::string text;
};

/// A canonicalised copy of a module. The rules (README "Normalised IR"):
/// - debug info, all metadata, attributes, `dso_local`/`local_unnamed_addr`, the target triple and data
///   layout are dropped;
/// - local values and blocks are numbered `%0, %1, …` per function in IR order;
/// - defined functions become `@fn<i>`, global variables `@gv<i>`, in module order; declarations (library and
///   builtin functions) keep their names, which carry meaning (`@_Z13get_global_idj`, `@__kmpc_fork_call`);
/// - named struct types become `%struct.<i>` in order of first use;
/// - string constants become `c"<str>"`; integers with |v| <= 256 stay, larger ones become `2^k`, `2^k-1` (exact
///   powers of two and masks) or `~2^k` (k = floor(log2 |v|)), with the sign kept; floating constants with a short
///   exact decimal form stay (`0.5`, `100.0`), others become `~1e<k>` (k = floor(log10 |v|)); array and vector
///   lengths follow the integer rule.
class NormalisedModule {
 public:
  /// Clones `source` and canonicalises the clone; `source` is not modified.
  static Expected<NormalisedModule> create(const IrModule& source);
  ~NormalisedModule();
  NormalisedModule(NormalisedModule&&) noexcept;
  NormalisedModule& operator=(NormalisedModule&&) noexcept;

  /// The canonical copy (for walking instructions in the same order as the texts).
  const llvm::Module& module() const;

  /// Whole-module text: struct type definitions, global variables, then every defined function.
  std::string text() const;
  /// Struct type definitions ("%struct.0 = type { i32, double }"), in order of first use.
  std::vector<std::string> structTexts() const;
  /// Global variable lines ("@gv0 = global [~2^10 x float] zeroinitializer"), module order.
  std::vector<std::string> globalTexts() const;
  /// Defined functions in module order.
  std::vector<FunctionText> functionTexts() const;

  /// One instruction as a normalised line, e.g. "%5 = fmul float %3, 0.5".
  std::string instructionText(const llvm::Instruction& instruction) const;
  /// An instruction for a graph node: no result name, local operands as "%v", e.g. "fmul float %v, 0.5".
  std::string instructionNodeText(const llvm::Instruction& instruction) const;
  /// A type, with canonical struct names: "float addrspace(1)*", "%struct.0*".
  std::string typeText(const llvm::Type* type) const;
  /// A constant operand with its type: "i32 4", "float ~1e-2", "i64 ~2^20", "[6 x i8]* @gv0".
  std::string constantText(const llvm::Constant& constant) const;

 private:
  struct State;
  explicit NormalisedModule(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The integer rule on its own: "12", "-3", "2^16", "2^32-1", "~2^20", "-~2^9".
std::string bucketInteger(long long value);
/// The floating rule on its own: "0.5", "100.0", "~1e-3", "-~1e5", "inf", "nan".
std::string bucketFloat(double value);
/// Applies the constant, string and length rules to one line of printed LLVM IR.
std::string normaliseIrLine(std::string_view line);

}  // namespace mirtune
