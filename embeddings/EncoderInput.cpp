// Encoder inputs: one pass from an IrModule to flat token and graph arrays, and their binary cache format.
#include "embeddings/EncoderInput.h"

#include "ir/Normaliser.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"

#include <algorithm>
#include <cstring>

namespace mirtune {

namespace {

// Node ids to keep when a graph exceeds maxNodes: the external node, then instructions in order together with
// the variables and constants they touch, while the total fits.
std::vector<bool> nodesToKeep(const ProgramGraph& graph, std::size_t maxNodes) {
  std::size_t n = graph.nodes.size();
  std::vector<std::vector<std::uint32_t>> operandNodes(n);
  for (const GraphEdge& edge : graph.edges) {
    if (edge.flow != EdgeFlow::kData) continue;
    // Data edges join an instruction with a variable or constant, in either direction.
    bool sourceIsInstruction = graph.nodes[edge.source].kind == NodeKind::kInstruction;
    std::uint32_t instruction = sourceIsInstruction ? edge.source : edge.target;
    std::uint32_t other = sourceIsInstruction ? edge.target : edge.source;
    operandNodes[instruction].push_back(other);
  }
  std::vector<bool> keep(n, false);
  std::size_t kept = 0;
  if (n > 0) {
    keep[0] = true;
    kept = 1;
  }
  for (std::size_t id = 1; id < n && graph.nodes[id].kind == NodeKind::kInstruction; ++id) {
    std::size_t added = keep[id] ? 0 : 1;
    for (std::uint32_t other : operandNodes[id]) added += keep[other] ? 0 : 1;
    if (kept + added > maxNodes) break;
    keep[id] = true;
    for (std::uint32_t other : operandNodes[id]) keep[other] = true;
    kept += added;
  }
  return keep;
}

}  // namespace

Expected<EncoderInput> prepareEncoderInput(const IrModule& module, const Tokenizer& tokenizer,
                                           const InputLimits& limits) {
  auto normalised = NormalisedModule::create(module);
  if (!normalised) return normalised.error();
  auto graph = buildProgramGraph(*normalised);
  if (!graph) return graph.error().withContext(module.sourcePath());

  EncoderInput input;
  input.irSha256 = module.irSha256();
  TokenSequence sequence = tokenizer.encodeModule(*normalised, limits.maxTokens);
  input.tokens.assign(sequence.ids.begin(), sequence.ids.end());
  input.tokensTruncated = sequence.truncated();

  std::vector<std::int32_t> newId(graph->nodes.size(), -1);
  std::vector<bool> keep(graph->nodes.size(), true);
  if (graph->nodes.size() > limits.maxNodes) {
    keep = nodesToKeep(*graph, limits.maxNodes);
    input.graphTruncated = true;
  }
  tokenizeNodes(*graph, tokenizer);
  for (std::size_t id = 0; id < graph->nodes.size(); ++id) {
    if (!keep[id]) continue;
    const GraphNode& node = graph->nodes[id];
    newId[id] = static_cast<std::int32_t>(input.nodeKinds.size());
    input.nodeKinds.push_back(static_cast<std::uint8_t>(node.kind));
    const std::vector<int>& tokens = node.tokens;
    input.nodeTokenOffsets.push_back(static_cast<std::int32_t>(input.nodeTokenIds.size()));
    std::size_t count = std::min(tokens.size(), limits.maxNodeTokens);
    if (count == 0) {
      input.nodeTokenIds.push_back(kUnknownToken.id);
    } else {
      input.nodeTokenIds.insert(input.nodeTokenIds.end(), tokens.begin(), tokens.begin() + static_cast<long>(count));
    }
  }
  for (const GraphEdge& edge : graph->edges) {
    if (newId[edge.source] < 0 || newId[edge.target] < 0) continue;
    input.edgeSources.push_back(newId[edge.source]);
    input.edgeTargets.push_back(newId[edge.target]);
    input.edgeFlows.push_back(static_cast<std::uint8_t>(edge.flow));
    input.edgePositions.push_back(static_cast<std::uint8_t>(std::min(edge.position, limits.maxEdgePosition)));
  }
  return input;
}

std::string encoderInputKey(const Tokenizer& tokenizer, const InputLimits& limits) {
  return fmt::format("{};graph-schema-{};normaliser-{};tokens-{};nodes-{};node-tokens-{};positions-{}", tokenizer.id(),
                     kGraphSchemaVersion, kNormaliserVersion, limits.maxTokens, limits.maxNodes, limits.maxNodeTokens,
                     limits.maxEdgePosition);
}

// ---- binary cache: "MIRTUNE-INPUTS 1\n", key length + key, count, then per input each array as
// (u64 length, raw little-endian elements). Written atomically. ----

namespace {

constexpr char kMagic[] = "MIRTUNE-INPUTS 1\n";

template <typename T>
void putArray(std::string& out, const std::vector<T>& values) {
  std::uint64_t size = values.size();
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

void putString(std::string& out, const std::string& text) {
  std::vector<char> bytes(text.begin(), text.end());
  putArray(out, bytes);
}

class Reader {
 public:
  explicit Reader(std::string data) : data_(std::move(data)) {}
  template <typename T>
  bool array(std::vector<T>& values) {
    std::uint64_t size = 0;
    if (!raw(&size, sizeof size) || size > (data_.size() - offset_) / sizeof(T)) return false;
    values.resize(size);
    return raw(values.data(), size * sizeof(T));
  }
  bool string(std::string& text) {
    std::vector<char> bytes;
    if (!array(bytes)) return false;
    text.assign(bytes.begin(), bytes.end());
    return true;
  }
  bool raw(void* target, std::size_t size) {
    if (data_.size() - offset_ < size) return false;
    std::memcpy(target, data_.data() + offset_, size);
    offset_ += size;
    return true;
  }
  bool magic() {
    std::size_t length = sizeof kMagic - 1;
    if (data_.compare(0, length, kMagic) != 0) return false;
    offset_ = length;
    return true;
  }
  bool atEnd() const { return offset_ == data_.size(); }

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

}  // namespace

Status writeEncoderInputs(const std::string& path, const std::string& key, const std::vector<EncoderInput>& inputs) {
  std::string out(kMagic);
  putString(out, key);
  std::uint64_t count = inputs.size();
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  for (const EncoderInput& input : inputs) {
    putString(out, input.irSha256);
    putArray(out, input.tokens);
    putArray(out, input.nodeKinds);
    putArray(out, input.nodeTokenIds);
    putArray(out, input.nodeTokenOffsets);
    putArray(out, input.edgeSources);
    putArray(out, input.edgeTargets);
    putArray(out, input.edgeFlows);
    putArray(out, input.edgePositions);
    std::uint8_t flags = (input.tokensTruncated ? 1 : 0) | (input.graphTruncated ? 2 : 0);
    out.push_back(static_cast<char>(flags));
  }
  return writeFileAtomically(path, out);
}

Expected<std::vector<EncoderInput>> readEncoderInputs(const std::string& path, const std::string& key) {
  auto data = readFile(path);
  if (!data) return data.error();
  Reader reader(std::move(*data));
  std::string storedKey;
  if (!reader.magic() || !reader.string(storedKey)) {
    return makeError(ErrorCode::kInvalidInput, "{}: not a mirtune encoder-input file", path);
  }
  if (storedKey != key) {
    return makeError(ErrorCode::kVersion, "{}: prepared for '{}', needed '{}'", path, storedKey, key);
  }
  std::uint64_t count = 0;
  if (!reader.raw(&count, sizeof count)) return makeError(ErrorCode::kInvalidInput, "{}: truncated", path);
  std::vector<EncoderInput> inputs;
  inputs.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    EncoderInput input;
    std::uint8_t flags = 0;
    bool ok = reader.string(input.irSha256) && reader.array(input.tokens) && reader.array(input.nodeKinds) &&
              reader.array(input.nodeTokenIds) && reader.array(input.nodeTokenOffsets) &&
              reader.array(input.edgeSources) && reader.array(input.edgeTargets) && reader.array(input.edgeFlows) &&
              reader.array(input.edgePositions) && reader.raw(&flags, 1);
    if (!ok) return makeError(ErrorCode::kInvalidInput, "{}: truncated at input {}", path, i);
    input.tokensTruncated = flags & 1;
    input.graphTruncated = flags & 2;
    inputs.push_back(std::move(input));
  }
  if (!reader.atEnd()) return makeError(ErrorCode::kInvalidInput, "{}: trailing bytes", path);
  return inputs;
}

}  // namespace mirtune
