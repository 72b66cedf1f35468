// The program graph (ProGraML schema): instruction, variable, constant and external nodes joined by control,
// data and call edges, each edge carrying a position; built in one pass over a normalised module.
#pragma once

#include "ir/Normaliser.h"
#include "support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune {

/// Bumped whenever the graph a module builds to changes (node/edge kinds, what becomes a node, positions,
/// ordering). Serialised graphs and models record it; a reader rejects any other version.
inline constexpr int kGraphSchemaVersion = 1;

enum class NodeKind : std::uint8_t { kInstruction, kVariable, kConstant, kExternal };
enum class EdgeFlow : std::uint8_t { kControl, kData, kCall };

/// One row per node kind: the only place the kinds are named. `dotShape` is the Graphviz shape.
struct NodeKindInfo {
  NodeKind kind;
  std::string_view name;
  std::string_view dotShape;
};
/// One row per edge flow: the only place the flows are named. `dotColor`/`dotStyle` are Graphviz attributes.
struct EdgeFlowInfo {
  EdgeFlow flow;
  std::string_view name;
  std::string_view dotColor;
  std::string_view dotStyle;
};

inline constexpr std::array<NodeKindInfo, 4> kNodeKinds = {{
    {NodeKind::kInstruction, "instruction", "box"},
    {NodeKind::kVariable, "variable", "ellipse"},
    {NodeKind::kConstant, "constant", "octagon"},
    {NodeKind::kExternal, "external", "doublecircle"},
}};
inline constexpr std::array<EdgeFlowInfo, 3> kEdgeFlows = {{
    {EdgeFlow::kControl, "control", "black", "solid"},
    {EdgeFlow::kData, "data", "red3", "dashed"},
    {EdgeFlow::kCall, "call", "blue", "bold"},
}};

/// Text of the single external node (node 0).
inline constexpr std::string_view kExternalNodeText = "[external]";

/// Table row of a kind / flow (the tables are indexed by the enum value).
constexpr const NodeKindInfo& nodeKindInfo(NodeKind kind) {
  return kNodeKinds[static_cast<std::size_t>(kind)];
}
constexpr const EdgeFlowInfo& edgeFlowInfo(EdgeFlow flow) {
  return kEdgeFlows[static_cast<std::size_t>(flow)];
}
constexpr std::string_view nodeKindName(NodeKind kind) {
  return nodeKindInfo(kind).name;
}
constexpr std::string_view edgeFlowName(EdgeFlow flow) {
  return edgeFlowInfo(flow).name;
}
/// The kind / flow with this name, or nullopt.
std::optional<NodeKind> parseNodeKind(std::string_view name);
std::optional<EdgeFlow> parseEdgeFlow(std::string_view name);

struct GraphNode {
  NodeKind kind = NodeKind::kInstruction;
  /// instructionNodeText / typeText (variables) / constantText / kExternalNodeText.
  std::string text;
  /// Index of the defined function (module order, declarations not counted: the `i` of `@fn<i>`);
  /// -1 for module-level nodes (external, constants, global variables).
  std::int32_t function = -1;
  /// Index of the basic block within its function; -1 for nodes outside a block (function arguments and
  /// module-level nodes).
  std::int32_t block = -1;
  /// Token ids of `text`, filled later by the tokenizer; empty until then.
  std::vector<int> tokens;

  bool operator==(const GraphNode& other) const {
    return kind == other.kind && text == other.text && function == other.function && block == other.block &&
           tokens == other.tokens;
  }
  bool operator!=(const GraphNode& other) const { return !(*this == other); }
};

struct GraphEdge {
  std::uint32_t source = 0;
  std::uint32_t target = 0;
  EdgeFlow flow = EdgeFlow::kControl;
  /// Data: the operand's index among the instruction's value operands (0 for a definition edge).
  /// Control: 0 within a block, the successor index from a terminator. Call: always 0.
  std::uint32_t position = 0;

  bool operator==(const GraphEdge& other) const {
    return source == other.source && target == other.target && flow == other.flow &&
           position == other.position;
  }
  bool operator!=(const GraphEdge& other) const { return !(*this == other); }
};

/// A program graph. Node ids are indices into `nodes`, grouped by kind:
///   0                      the external node
///   1 .. I                 one per instruction, in module order (functions, blocks, instructions)
///   I+1 .. I+V             variables, in order of first appearance (definition or use) in that walk
///   I+V+1 .. I+V+C         constants, in order of first use
/// Edges are in the order the walk produces them (see buildProgramGraph).
struct ProgramGraph {
  int schemaVersion = kGraphSchemaVersion;
  std::vector<GraphNode> nodes;
  std::vector<GraphEdge> edges;

  bool operator==(const ProgramGraph& other) const {
    return schemaVersion == other.schemaVersion && nodes == other.nodes && edges == other.edges;
  }
  bool operator!=(const ProgramGraph& other) const { return !(*this == other); }
};

/// Builds the program graph of a normalised module in one walk over its defined functions. The schema:
/// - Node 0 is the external node. Every defined function is entered from it (call edge to the function's
///   first instruction) and returns to it (call edge from each `ret`), as a caller outside the module would.
/// - One instruction node per instruction (debug intrinsics skipped), text = instructionNodeText.
/// - A variable node per SSA value that some instruction uses as a value operand and that is an instruction
///   result, a function argument or a global variable; text = typeText of its type.
/// - A constant node per distinct llvm::Constant used as a value operand (functions and constant
///   expressions included, global variables excluded), shared by the whole module; text = constantText.
/// - Value operands are an instruction's operands without basic-block labels, metadata, and the callee of a
///   direct call (a function, possibly behind a pointer cast) or of inline asm: the call edge carries those.
///   A data edge (variable or constant) → instruction has position = index among the value operands.
///   A data edge instruction → its result variable has position 0.
/// - Control edges: instruction → next instruction in its block (position 0); terminator → first
///   instruction of successor k (position k).
/// - Call edges (position 0): call site → callee's first instruction and each callee `ret` → call site, for
///   direct calls of defined functions; call site → external and external → call site for calls of
///   declarations, indirect calls and inline asm.
/// Edge order: per function, external → entry; then per instruction, the control edge from its predecessor
/// in the block, its operand data edges (by position), its definition edge, its call edges, a return's edge
/// to external, a terminator's successor edges (by position); after all functions, the edges from callee
/// returns back to each call site of a defined function, in call-site order.
/// Deterministic: the same module gives the same graph, byte for byte once serialised.
Expected<ProgramGraph> buildProgramGraph(const NormalisedModule& module);

/// Checks a graph against the module it was built from. The invariants, each reported by name:
/// - node 0 is the only external node; instruction nodes are exactly the module's instructions (debug
///   intrinsics skipped) in walk order, with matching function/block indices and text;
/// - every edge endpoint exists; each flow joins the kinds it may join (data: variable/constant →
///   instruction or instruction → variable; control: instruction → instruction; call: instruction or
///   external on both ends, never external → external);
/// - data positions are dense and unique: an instruction with k value operands has incoming data edges with
///   positions exactly {0, …, k-1}; it has at most one outgoing data edge (to its variable, position 0);
///   a variable has at most one incoming data edge (from its defining instruction, position 0) and at least
///   one use; a constant has no incoming edge and at least one use;
/// - control positions: a non-terminator has exactly one outgoing control edge (position 0, to the next
///   instruction); a terminator with n successors has outgoing control positions exactly {0, …, n-1};
/// - calls: each call site has exactly one outgoing call edge; every defined function's first instruction
///   has an incoming call edge from the external node.
Status validateProgramGraph(const ProgramGraph& graph, const NormalisedModule& module);

/// Node and edge counts per kind / flow (indexed by the enum value), for summaries and tests.
struct GraphCounts {
  std::array<std::size_t, kNodeKinds.size()> nodes{};
  std::array<std::size_t, kEdgeFlows.size()> edges{};
};
GraphCounts countGraph(const ProgramGraph& graph);

}  // namespace mirtune
