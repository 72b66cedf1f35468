// Program graph construction (one walk over a normalised module) and its validator.
#include "ir/ProgramGraph.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/InstrTypes.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Metadata.h>
#include <llvm/IR/Module.h>

#include <limits>

namespace mirtune {

static_assert(kNodeKinds.size() == 4 && kEdgeFlows.size() == 3, "tables must list every enum value");
static_assert(nodeKindInfo(NodeKind::kInstruction).kind == NodeKind::kInstruction &&
                  nodeKindInfo(NodeKind::kVariable).kind == NodeKind::kVariable &&
                  nodeKindInfo(NodeKind::kConstant).kind == NodeKind::kConstant &&
                  nodeKindInfo(NodeKind::kExternal).kind == NodeKind::kExternal,
              "kNodeKinds must be in enum order");
static_assert(edgeFlowInfo(EdgeFlow::kControl).flow == EdgeFlow::kControl &&
                  edgeFlowInfo(EdgeFlow::kData).flow == EdgeFlow::kData &&
                  edgeFlowInfo(EdgeFlow::kCall).flow == EdgeFlow::kCall,
              "kEdgeFlows must be in enum order");

std::optional<NodeKind> parseNodeKind(std::string_view name) {
  for (const NodeKindInfo& info : kNodeKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::optional<EdgeFlow> parseEdgeFlow(std::string_view name) {
  for (const EdgeFlowInfo& info : kEdgeFlows) {
    if (info.name == name) return info.flow;
  }
  return std::nullopt;
}

GraphCounts countGraph(const ProgramGraph& graph) {
  GraphCounts counts;
  for (const GraphNode& node : graph.nodes) ++counts.nodes[static_cast<std::size_t>(node.kind)];
  for (const GraphEdge& edge : graph.edges) ++counts.edges[static_cast<std::size_t>(edge.flow)];
  return counts;
}

namespace {

// Rules shared by the builder and the validator, so that both agree on what a node and a position are.

// Metadata is stripped by the normaliser; debug intrinsics would only survive in hand-made input.
bool isSkippedInstruction(const llvm::Instruction& instruction) {
  return llvm::isa<llvm::DbgInfoIntrinsic>(instruction);
}

// The function a call site calls directly (through pointer casts and aliases), or null for indirect calls
// and inline asm.
const llvm::Function* directCallee(const llvm::CallBase& call) {
  return llvm::dyn_cast<llvm::Function>(call.getCalledOperand()->stripPointerCastsAndAliases());
}

// The callee operand is carried by the call edge rather than a data edge when it names a function or is
// inline asm; an indirect callee (a loaded pointer) stays a value operand, since its data flow matters.
const llvm::Use* skippedCalleeUse(const llvm::Instruction& instruction) {
  const auto* call = llvm::dyn_cast<llvm::CallBase>(&instruction);
  if (call == nullptr) return nullptr;
  if (directCallee(*call) != nullptr || llvm::isa<llvm::InlineAsm>(call->getCalledOperand())) {
    return &call->getCalledOperandUse();
  }
  return nullptr;
}

bool isValueOperand(const llvm::Use& use, const llvm::Use* skippedCallee) {
  const llvm::Value* value = use.get();
  return &use != skippedCallee && !llvm::isa<llvm::BasicBlock>(value) &&
         !llvm::isa<llvm::MetadataAsValue>(value);
}

std::size_t valueOperandCount(const llvm::Instruction& instruction) {
  const llvm::Use* skipped = skippedCalleeUse(instruction);
  std::size_t count = 0;
  for (const llvm::Use& use : instruction.operands()) count += isValueOperand(use, skipped) ? 1 : 0;
  return count;
}

bool isVariableValue(const llvm::Value& value) {
  return llvm::isa<llvm::Instruction>(value) || llvm::isa<llvm::Argument>(value) ||
         llvm::isa<llvm::GlobalVariable>(value);
}

// Ids are tagged with their kind while the walk runs, because variables and constants are only counted at
// the end; finish() turns them into final indices (kinds grouped, see ProgramGraph).
constexpr unsigned kKindShift = 30;
constexpr std::uint32_t kLocalMask = (1u << kKindShift) - 1;

constexpr std::uint32_t tag(NodeKind kind, std::uint32_t local) {
  return (static_cast<std::uint32_t>(kind) << kKindShift) | local;
}

constexpr std::uint32_t kExternalId = tag(NodeKind::kExternal, 0);

class GraphBuilder {
 public:
  explicit GraphBuilder(const NormalisedModule& normalised) : normalised_(normalised) {}

  Expected<ProgramGraph> build() {
    const llvm::Module& module = normalised_.module();
    std::int32_t functionIndex = 0;
    for (const llvm::Function& function : module) {
      if (function.isDeclaration()) continue;
      if (Status walked = walkFunction(function, functionIndex++); !walked) return walked.error();
    }
    resolveCalls();
    return finish();
  }

 private:
  struct FunctionNodes {
    std::uint32_t entry = 0;  // tagged id of the first instruction
    std::vector<std::uint32_t> returns;
  };
  struct PendingCall {
    std::size_t edge;  // index of the call-site → callee edge whose target is still unknown
    std::uint32_t site;
    const llvm::Function* callee;
  };
  struct PendingSuccessor {
    std::size_t edge;
    std::uint32_t block;
  };

  std::uint32_t addInstruction(const llvm::Instruction& instruction, std::int32_t function,
                               std::int32_t block) {
    GraphNode& node = instructions_.emplace_back();
    node.kind = NodeKind::kInstruction;
    node.text = normalised_.instructionNodeText(instruction);
    node.function = function;
    node.block = block;
    return tag(NodeKind::kInstruction, static_cast<std::uint32_t>(instructions_.size() - 1));
  }

  void addEdge(std::uint32_t source, std::uint32_t target, EdgeFlow flow, std::uint32_t position) {
    edges_.push_back(GraphEdge{source, target, flow, position});
  }

  // The variable node of an instruction result, argument or global variable, created on first sight.
  std::uint32_t variableFor(const llvm::Value& value, std::int32_t function) {
    auto [it, inserted] = variableIds_.try_emplace(&value, 0);
    if (!inserted) return it->second;
    GraphNode& node = variables_.emplace_back();
    node.kind = NodeKind::kVariable;
    node.text = typeTextFor(value.getType());
    if (const auto* instruction = llvm::dyn_cast<llvm::Instruction>(&value)) {
      node.function = function;
      node.block = static_cast<std::int32_t>(blockIndex_.lookup(instruction->getParent()));
    } else if (llvm::isa<llvm::Argument>(value)) {
      node.function = function;
    }
    it->second = tag(NodeKind::kVariable, static_cast<std::uint32_t>(variables_.size() - 1));
    return it->second;
  }

  // Types are uniqued per context and few distinct ones occur, so their texts are printed once.
  const std::string& typeTextFor(const llvm::Type* type) {
    auto [it, inserted] = typeTexts_.try_emplace(type);
    if (inserted) it->second = normalised_.typeText(type);
    return it->second;
  }

  std::uint32_t constantFor(const llvm::Constant& constant) {
    auto [it, inserted] = constantIds_.try_emplace(&constant, 0);
    if (!inserted) return it->second;
    GraphNode& node = constants_.emplace_back();
    node.kind = NodeKind::kConstant;
    node.text = normalised_.constantText(constant);
    it->second = tag(NodeKind::kConstant, static_cast<std::uint32_t>(constants_.size() - 1));
    return it->second;
  }

  Status walkFunction(const llvm::Function& function, std::int32_t functionIndex) {
    blockIndex_.clear();
    std::uint32_t blockCount = 0;
    for (const llvm::BasicBlock& block : function) blockIndex_[&block] = blockCount++;
    blockFirst_.assign(blockCount, 0);
    pendingSuccessors_.clear();

    FunctionNodes& nodes = functions_.emplace_back();
    functionSlots_[&function] = static_cast<std::uint32_t>(functions_.size() - 1);
    bool haveEntry = false;

    std::uint32_t blockNumber = 0;
    for (const llvm::BasicBlock& block : function) {
      const auto blockId = static_cast<std::int32_t>(blockNumber);
      bool first = true;
      std::uint32_t previous = 0;
      for (const llvm::Instruction& instruction : block) {
        if (isSkippedInstruction(instruction)) continue;
        if (instructions_.size() >= kLocalMask) {
          return makeError(ErrorCode::kInvalidInput, "module too large for a program graph ({} instructions)",
                           instructions_.size());
        }
        std::uint32_t id = addInstruction(instruction, functionIndex, blockId);
        if (first) {
          blockFirst_[blockNumber] = id;
          first = false;
          if (!haveEntry) {
            // The external node enters every defined function, as a caller outside the module would.
            nodes.entry = id;
            haveEntry = true;
            addEdge(kExternalId, id, EdgeFlow::kCall, 0);
          }
        } else {
          addEdge(previous, id, EdgeFlow::kControl, 0);
        }
        previous = id;

        if (Status operands = addOperandEdges(instruction, id, functionIndex); !operands) return operands;
        if (!instruction.use_empty())
          addEdge(id, variableFor(instruction, functionIndex), EdgeFlow::kData, 0);

        if (const auto* call = llvm::dyn_cast<llvm::CallBase>(&instruction)) {
          const llvm::Function* callee = directCallee(*call);
          if (callee != nullptr && !callee->isDeclaration()) {
            pendingCalls_.push_back(PendingCall{edges_.size(), id, callee});
            addEdge(id, 0, EdgeFlow::kCall, 0);
          } else {
            addEdge(id, kExternalId, EdgeFlow::kCall, 0);
            addEdge(kExternalId, id, EdgeFlow::kCall, 0);
          }
        }
        if (llvm::isa<llvm::ReturnInst>(instruction)) {
          nodes.returns.push_back(id);
          addEdge(id, kExternalId, EdgeFlow::kCall, 0);
        }
        if (instruction.isTerminator()) {
          const unsigned successors = instruction.getNumSuccessors();
          for (unsigned k = 0; k < successors; ++k) {
            pendingSuccessors_.push_back(
                PendingSuccessor{edges_.size(), blockIndex_.lookup(instruction.getSuccessor(k))});
            addEdge(id, 0, EdgeFlow::kControl, k);
          }
        }
      }
      if (first) {
        return makeError(ErrorCode::kInvalidInput, "function {} has a basic block without instructions",
                         functionIndex);
      }
      ++blockNumber;
    }
    // Successor blocks may come later in layout, so their targets are filled in once the function is walked.
    for (const PendingSuccessor& pending : pendingSuccessors_)
      edges_[pending.edge].target = blockFirst_[pending.block];
    return success();
  }

  Status addOperandEdges(const llvm::Instruction& instruction, std::uint32_t id, std::int32_t functionIndex) {
    const llvm::Use* skipped = skippedCalleeUse(instruction);
    std::uint32_t position = 0;
    for (const llvm::Use& use : instruction.operands()) {
      if (!isValueOperand(use, skipped)) continue;
      const llvm::Value& value = *use.get();
      std::uint32_t source;
      if (isVariableValue(value)) {
        source = variableFor(value, functionIndex);
      } else if (const auto* constant = llvm::dyn_cast<llvm::Constant>(&value)) {
        source = constantFor(*constant);
      } else {
        return makeError(ErrorCode::kInternal, "unexpected operand {} of instruction '{}' in function {}",
                         position, normalised_.instructionNodeText(instruction), functionIndex);
      }
      addEdge(source, id, EdgeFlow::kData, position++);
    }
    return success();
  }

  // Calls of defined functions: the forward edge's target, then the return edges, in call-site order.
  void resolveCalls() {
    for (const PendingCall& call : pendingCalls_) {
      const FunctionNodes& callee = functions_[functionSlots_.lookup(call.callee)];
      edges_[call.edge].target = callee.entry;
      for (std::uint32_t ret : callee.returns) addEdge(ret, call.site, EdgeFlow::kCall, 0);
    }
  }

  ProgramGraph finish() {
    const auto instructionCount = static_cast<std::uint32_t>(instructions_.size());
    const auto variableCount = static_cast<std::uint32_t>(variables_.size());
    std::array<std::uint32_t, kNodeKinds.size()> base{};
    base[static_cast<std::size_t>(NodeKind::kExternal)] = 0;
    base[static_cast<std::size_t>(NodeKind::kInstruction)] = 1;
    base[static_cast<std::size_t>(NodeKind::kVariable)] = 1 + instructionCount;
    base[static_cast<std::size_t>(NodeKind::kConstant)] = 1 + instructionCount + variableCount;
    auto finalId = [&base](std::uint32_t tagged) {
      return base[tagged >> kKindShift] + (tagged & kLocalMask);
    };

    ProgramGraph graph;
    graph.nodes.reserve(1 + instructions_.size() + variables_.size() + constants_.size());
    GraphNode& external = graph.nodes.emplace_back();
    external.kind = NodeKind::kExternal;
    external.text = std::string(kExternalNodeText);
    for (auto* group : {&instructions_, &variables_, &constants_}) {
      for (GraphNode& node : *group) graph.nodes.push_back(std::move(node));
    }
    graph.edges = std::move(edges_);
    for (GraphEdge& edge : graph.edges) {
      edge.source = finalId(edge.source);
      edge.target = finalId(edge.target);
    }
    return graph;
  }

  const NormalisedModule& normalised_;
  std::vector<GraphNode> instructions_;
  std::vector<GraphNode> variables_;
  std::vector<GraphNode> constants_;
  std::vector<GraphEdge> edges_;
  llvm::DenseMap<const llvm::Value*, std::uint32_t> variableIds_;
  llvm::DenseMap<const llvm::Constant*, std::uint32_t> constantIds_;
  llvm::DenseMap<const llvm::Type*, std::string> typeTexts_;
  llvm::DenseMap<const llvm::Function*, std::uint32_t> functionSlots_;
  std::vector<FunctionNodes> functions_;
  std::vector<PendingCall> pendingCalls_;
  // Per function being walked.
  llvm::DenseMap<const llvm::BasicBlock*, std::uint32_t> blockIndex_;
  std::vector<std::uint32_t> blockFirst_;
  std::vector<PendingSuccessor> pendingSuccessors_;
};

}  // namespace

Expected<ProgramGraph> buildProgramGraph(const NormalisedModule& module) {
  return GraphBuilder(module).build();
}

// ---------------------------------------------------------------------------------------------------------
// Validation

namespace {

struct ExpectedInstruction {
  const llvm::Instruction* instruction;
  std::int32_t function;
  std::int32_t block;
};

class GraphValidator {
 public:
  GraphValidator(const ProgramGraph& graph, const NormalisedModule& normalised)
      : graph_(graph), normalised_(normalised) {}

  Status validate() {
    if (graph_.schemaVersion != kGraphSchemaVersion) {
      return fail("schema version", "graph has schema version {}, this build knows {}", graph_.schemaVersion,
                  kGraphSchemaVersion);
    }
    collectModule();
    if (Status s = checkNodes(); !s) return s;
    if (Status s = checkEdgeEndpoints(); !s) return s;
    if (Status s = checkDataEdges(); !s) return s;
    if (Status s = checkControlEdges(); !s) return s;
    return checkCallEdges();
  }

 private:
  template <typename... Args>
  Error fail(std::string_view invariant, fmt::format_string<Args...> format, Args&&... args) const {
    return Error(ErrorCode::kInvalidInput, fmt::format("invalid program graph: {}: {}", invariant,
                                                       fmt::format(format, std::forward<Args>(args)...)));
  }

  std::string describe(std::uint32_t id) const {
    if (id >= graph_.nodes.size()) return fmt::format("node {} (out of range)", id);
    const GraphNode& node = graph_.nodes[id];
    return fmt::format("node {} ({} '{}')", id, nodeKindName(node.kind), node.text);
  }

  bool isInstructionNode(std::uint32_t id) const { return id >= 1 && id <= expected_.size(); }
  const llvm::Instruction& instructionOf(std::uint32_t id) const { return *expected_[id - 1].instruction; }

  void collectModule() {
    std::int32_t functionIndex = 0;
    for (const llvm::Function& function : normalised_.module()) {
      if (function.isDeclaration()) continue;
      std::int32_t blockIndex = 0;
      bool entry = true;
      for (const llvm::BasicBlock& block : function) {
        bool firstInBlock = true;
        for (const llvm::Instruction& instruction : block) {
          if (isSkippedInstruction(instruction)) continue;
          auto id = static_cast<std::uint32_t>(expected_.size() + 1);
          if (firstInBlock) {
            blockFirst_[&block] = id;
            firstInBlock = false;
          }
          if (entry) {
            functionEntry_[&function] = id;
            entries_.push_back(id);
            entry = false;
          }
          expected_.push_back(ExpectedInstruction{&instruction, functionIndex, blockIndex});
        }
        ++blockIndex;
      }
      ++functionIndex;
    }
  }

  Status checkNodes() {
    const std::size_t instructionCount = expected_.size();
    if (graph_.nodes.empty() || graph_.nodes[0].kind != NodeKind::kExternal ||
        graph_.nodes[0].text != kExternalNodeText) {
      return fail("node 0 is the external node", "node 0 is not '{}'", kExternalNodeText);
    }
    if (graph_.nodes.size() < 1 + instructionCount) {
      return fail("one node per instruction", "the module has {} instructions, the graph {} nodes",
                  instructionCount, graph_.nodes.size());
    }
    for (std::size_t i = 0; i < instructionCount; ++i) {
      const GraphNode& node = graph_.nodes[i + 1];
      const ExpectedInstruction& want = expected_[i];
      if (node.kind != NodeKind::kInstruction) {
        return fail("one node per instruction", "{} should be instruction {} of function {}", describe(i + 1),
                    i, want.function);
      }
      if (node.function != want.function || node.block != want.block) {
        return fail("one node per instruction", "{} has function {} block {}, the module says {} {}",
                    describe(i + 1), node.function, node.block, want.function, want.block);
      }
      std::string text = normalised_.instructionNodeText(*want.instruction);
      if (node.text != text) {
        return fail("one node per instruction", "{} should have text '{}'", describe(i + 1), text);
      }
    }
    NodeKind previous = NodeKind::kVariable;
    for (std::size_t id = 1 + instructionCount; id < graph_.nodes.size(); ++id) {
      const GraphNode& node = graph_.nodes[id];
      bool ordered = node.kind == NodeKind::kVariable ? previous == NodeKind::kVariable
                                                      : node.kind == NodeKind::kConstant;
      if (!ordered) {
        return fail("nodes grouped by kind",
                    "{} follows the instruction nodes out of order (external, "
                    "instructions, variables, constants)",
                    describe(static_cast<std::uint32_t>(id)));
      }
      if (node.text.empty())
        return fail("node text", "{} has no text", describe(static_cast<std::uint32_t>(id)));
      previous = node.kind;
    }
    return success();
  }

  Status checkEdgeEndpoints() {
    const std::size_t nodeCount = graph_.nodes.size();
    for (std::size_t e = 0; e < graph_.edges.size(); ++e) {
      const GraphEdge& edge = graph_.edges[e];
      if (edge.source >= nodeCount || edge.target >= nodeCount) {
        return fail("edge endpoints exist", "edge {} ({} {} → {}) but the graph has {} nodes", e,
                    edgeFlowName(edge.flow), edge.source, edge.target, nodeCount);
      }
      NodeKind from = graph_.nodes[edge.source].kind;
      NodeKind to = graph_.nodes[edge.target].kind;
      bool allowed = false;
      switch (edge.flow) {
        case EdgeFlow::kData:
          allowed = ((from == NodeKind::kVariable || from == NodeKind::kConstant) &&
                     to == NodeKind::kInstruction) ||
                    (from == NodeKind::kInstruction && to == NodeKind::kVariable);
          break;
        case EdgeFlow::kControl:
          allowed = from == NodeKind::kInstruction && to == NodeKind::kInstruction;
          break;
        case EdgeFlow::kCall:
          allowed = (from == NodeKind::kInstruction || from == NodeKind::kExternal) &&
                    (to == NodeKind::kInstruction || to == NodeKind::kExternal) &&
                    !(from == NodeKind::kExternal && to == NodeKind::kExternal);
          break;
      }
      if (!allowed) {
        return fail("edge joins allowed kinds", "edge {}: {} edge from {} to {}", e, edgeFlowName(edge.flow),
                    describe(edge.source), describe(edge.target));
      }
    }
    return success();
  }

  Status checkDataEdges() {
    const std::size_t nodeCount = graph_.nodes.size();
    // Slots: one per value operand of every instruction, so a position is seen exactly once.
    std::vector<std::size_t> slotStart(expected_.size() + 1, 0);
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      slotStart[i + 1] = slotStart[i] + valueOperandCount(*expected_[i].instruction);
    }
    std::vector<bool> seen(slotStart.back(), false);
    std::vector<std::uint32_t> incoming(nodeCount, 0);
    std::vector<std::uint32_t> outgoing(nodeCount, 0);
    for (const GraphEdge& edge : graph_.edges) {
      if (edge.flow != EdgeFlow::kData) continue;
      ++incoming[edge.target];
      ++outgoing[edge.source];
      if (graph_.nodes[edge.target].kind == NodeKind::kInstruction) {
        std::size_t index = edge.target - 1;
        std::size_t operands = slotStart[index + 1] - slotStart[index];
        if (edge.position >= operands) {
          return fail("data positions dense and unique",
                      "{} has {} value operands but an incoming data edge "
                      "from {} at position {}",
                      describe(edge.target), operands, describe(edge.source), edge.position);
        }
        std::size_t slot = slotStart[index] + edge.position;
        if (seen[slot]) {
          return fail("data positions dense and unique", "{} has two incoming data edges at position {}",
                      describe(edge.target), edge.position);
        }
        seen[slot] = true;
      } else if (edge.position != 0) {
        return fail("definition position 0", "data edge {} → {} has position {}", describe(edge.source),
                    describe(edge.target), edge.position);
      }
    }
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      for (std::size_t slot = slotStart[i]; slot < slotStart[i + 1]; ++slot) {
        if (!seen[slot]) {
          return fail("data positions dense and unique",
                      "{} has no incoming data edge for operand position {}",
                      describe(static_cast<std::uint32_t>(i + 1)), slot - slotStart[i]);
        }
      }
      if (outgoing[i + 1] > 1) {
        return fail("one definition per instruction", "{} defines {} variables", describe(i + 1),
                    outgoing[i + 1]);
      }
    }
    for (std::size_t id = 1 + expected_.size(); id < nodeCount; ++id) {
      const auto node = static_cast<std::uint32_t>(id);
      if (graph_.nodes[id].kind == NodeKind::kVariable && incoming[id] > 1) {
        return fail("one definition per variable", "{} is defined {} times", describe(node), incoming[id]);
      }
      if (outgoing[id] == 0) return fail("variables and constants are used", "{} has no use", describe(node));
    }
    return success();
  }

  Status checkControlEdges() {
    // Expected target per (instruction, position): next instruction, or successor blocks' first instructions.
    std::vector<std::size_t> slotStart(expected_.size() + 1, 0);
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      const llvm::Instruction& instruction = *expected_[i].instruction;
      slotStart[i + 1] = slotStart[i] + (instruction.isTerminator() ? instruction.getNumSuccessors() : 1);
    }
    std::vector<bool> seen(slotStart.back(), false);
    for (const GraphEdge& edge : graph_.edges) {
      if (edge.flow != EdgeFlow::kControl) continue;
      std::size_t index = edge.source - 1;
      std::size_t slots = slotStart[index + 1] - slotStart[index];
      if (edge.position >= slots) {
        return fail("control positions", "{} has {} control successors but an edge at position {}",
                    describe(edge.source), slots, edge.position);
      }
      std::size_t slot = slotStart[index] + edge.position;
      if (seen[slot]) {
        return fail("control positions", "{} has two control edges at position {}", describe(edge.source),
                    edge.position);
      }
      seen[slot] = true;
      const llvm::Instruction& instruction = instructionOf(edge.source);
      std::uint32_t want = instruction.isTerminator()
                               ? blockFirst_.lookup(instruction.getSuccessor(edge.position))
                               : edge.source + 1;
      if (edge.target != want) {
        return fail("control targets", "control edge {} → {} at position {} should go to {}",
                    describe(edge.source), describe(edge.target), edge.position, describe(want));
      }
    }
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      for (std::size_t slot = slotStart[i]; slot < slotStart[i + 1]; ++slot) {
        if (!seen[slot]) {
          return fail("control positions", "{} has no control edge at position {}",
                      describe(static_cast<std::uint32_t>(i + 1)), slot - slotStart[i]);
        }
      }
    }
    return success();
  }

  Status checkCallEdges() {
    std::vector<std::uint32_t> outgoing(graph_.nodes.size(), 0);
    std::vector<bool> entered(graph_.nodes.size(), false);
    for (const GraphEdge& edge : graph_.edges) {
      if (edge.flow != EdgeFlow::kCall) continue;
      if (edge.position != 0) {
        return fail("call position 0", "call edge {} → {} has position {}", describe(edge.source),
                    describe(edge.target), edge.position);
      }
      if (edge.source == 0) {
        entered[edge.target] = true;
        continue;
      }
      const llvm::Instruction& instruction = instructionOf(edge.source);
      const auto* call = llvm::dyn_cast<llvm::CallBase>(&instruction);
      if (call == nullptr) {
        if (!llvm::isa<llvm::ReturnInst>(instruction)) {
          return fail("call edges leave calls and returns", "{} has an outgoing call edge",
                      describe(edge.source));
        }
        // A return goes back to the external node or to a call site of its own function.
        const auto* site =
            edge.target == 0 ? nullptr : llvm::dyn_cast<llvm::CallBase>(&instructionOf(edge.target));
        if (edge.target != 0 && (site == nullptr || directCallee(*site) != instruction.getFunction())) {
          return fail("returns go to callers",
                      "return {} has a call edge to {}, which does not call its function",
                      describe(edge.source), describe(edge.target));
        }
        continue;
      }
      ++outgoing[edge.source];
      const llvm::Function* callee = directCallee(*call);
      std::uint32_t want =
          (callee != nullptr && !callee->isDeclaration()) ? functionEntry_.lookup(callee) : 0;
      if (edge.target != want) {
        return fail("call targets", "call edge {} → {} should go to {}", describe(edge.source),
                    describe(edge.target), describe(want));
      }
    }
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      auto id = static_cast<std::uint32_t>(i + 1);
      if (llvm::isa<llvm::CallBase>(expected_[i].instruction) && outgoing[id] != 1) {
        return fail("one call edge per call site", "{} has {} outgoing call edges", describe(id),
                    outgoing[id]);
      }
    }
    for (std::uint32_t entry : entries_) {
      if (!entered[entry]) {
        return fail("external node enters every function", "no call edge from the external node to {}",
                    describe(entry));
      }
    }
    return success();
  }

  const ProgramGraph& graph_;
  const NormalisedModule& normalised_;
  std::vector<ExpectedInstruction> expected_;
  llvm::DenseMap<const llvm::BasicBlock*, std::uint32_t> blockFirst_;
  llvm::DenseMap<const llvm::Function*, std::uint32_t> functionEntry_;
  std::vector<std::uint32_t> entries_;
};

}  // namespace

Status validateProgramGraph(const ProgramGraph& graph, const NormalisedModule& module) {
  return GraphValidator(graph, module).validate();
}

}  // namespace mirtune
