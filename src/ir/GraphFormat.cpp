// JSON and DOT forms of a program graph.
#include "ir/GraphFormat.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <limits>

namespace mirtune {

namespace {

using OrderedJson = nlohmann::ordered_json;

// Texts come from printed IR, which is ASCII, but a bad byte must never make serialisation throw.
std::string dumpJson(const OrderedJson& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string programGraphToJson(const ProgramGraph& graph) {
  std::string out;
  out.reserve(64 + graph.nodes.size() * 96 + graph.edges.size() * 64);
  out += fmt::format("{{\"schema_version\":{},\n\"nodes\":[", graph.schemaVersion);
  for (std::size_t id = 0; id < graph.nodes.size(); ++id) {
    const GraphNode& node = graph.nodes[id];
    OrderedJson row;
    row["id"] = id;
    row["kind"] = std::string(nodeKindName(node.kind));
    row["text"] = node.text;
    row["function"] = node.function;
    row["block"] = node.block;
    row["tokens"] = node.tokens;
    out += id == 0 ? "\n" : ",\n";
    out += dumpJson(row);
  }
  out += "],\n\"edges\":[";
  for (std::size_t e = 0; e < graph.edges.size(); ++e) {
    const GraphEdge& edge = graph.edges[e];
    out += e == 0 ? "\n" : ",\n";
    out += fmt::format(R"({{"source":{},"target":{},"flow":"{}","position":{}}})", edge.source, edge.target,
                       edgeFlowName(edge.flow), edge.position);
  }
  out += "]}\n";
  return out;
}

namespace {

Expected<std::int64_t> integerField(const nlohmann::json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has no integer \"{}\"", where, key);
  }
  return it->get<std::int64_t>();
}

Expected<std::string> stringField(const nlohmann::json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has no string \"{}\"", where, key);
  }
  return it->get<std::string>();
}

Expected<GraphNode> nodeFromJson(const nlohmann::json& row, std::size_t index) {
  const std::string where = fmt::format("node {}", index);
  if (!row.is_object())
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} is not an object", where);
  auto id = integerField(row, "id", where);
  if (!id) return id.error();
  if (*id < 0 || static_cast<std::size_t>(*id) != index) {
    return makeError(ErrorCode::kInvalidInput,
                     "program graph JSON: {} has id {}; ids must be the node's index", where, *id);
  }
  auto kindName = stringField(row, "kind", where);
  if (!kindName) return kindName.error();
  auto kind = parseNodeKind(*kindName);
  if (!kind)
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has unknown kind \"{}\"", where,
                     *kindName);
  auto text = stringField(row, "text", where);
  if (!text) return text.error();
  auto function = integerField(row, "function", where);
  if (!function) return function.error();
  auto block = integerField(row, "block", where);
  if (!block) return block.error();
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  if (*function < -1 || *function > kMax || *block < -1 || *block > kMax) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has function {} block {} out of range",
                     where, *function, *block);
  }
  GraphNode node;
  node.kind = *kind;
  node.text = std::move(*text);
  node.function = static_cast<std::int32_t>(*function);
  node.block = static_cast<std::int32_t>(*block);
  auto tokens = row.find("tokens");
  if (tokens == row.end() || !tokens->is_array()) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has no \"tokens\" array", where);
  }
  node.tokens.reserve(tokens->size());
  for (const nlohmann::json& token : *tokens) {
    if (!token.is_number_integer()) {
      return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has a non-integer token", where);
    }
    node.tokens.push_back(token.get<int>());
  }
  return node;
}

Expected<GraphEdge> edgeFromJson(const nlohmann::json& row, std::size_t index, std::size_t nodeCount) {
  const std::string where = fmt::format("edge {}", index);
  if (!row.is_object())
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} is not an object", where);
  auto source = integerField(row, "source", where);
  if (!source) return source.error();
  auto target = integerField(row, "target", where);
  if (!target) return target.error();
  auto position = integerField(row, "position", where);
  if (!position) return position.error();
  auto flowName = stringField(row, "flow", where);
  if (!flowName) return flowName.error();
  auto flow = parseEdgeFlow(*flowName);
  if (!flow)
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has unknown flow \"{}\"", where,
                     *flowName);
  const auto count = static_cast<std::int64_t>(nodeCount);
  if (*source < 0 || *source >= count || *target < 0 || *target >= count) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} joins {} → {} but there are {} nodes",
                     where, *source, *target, nodeCount);
  }
  if (*position < 0 || *position > std::numeric_limits<std::uint32_t>::max()) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {} has position {} out of range", where,
                     *position);
  }
  return GraphEdge{static_cast<std::uint32_t>(*source), static_cast<std::uint32_t>(*target), *flow,
                   static_cast<std::uint32_t>(*position)};
}

Expected<ProgramGraph> graphFromDocument(const nlohmann::json& document) {
  if (!document.is_object()) return makeError(ErrorCode::kInvalidInput, "program graph JSON: not an object");
  auto version = integerField(document, "schema_version", "the document");
  if (!version) return version.error();
  if (*version != kGraphSchemaVersion) {
    return makeError(
        ErrorCode::kVersion,
        "program graph has schema version {}, this mirtune reads version {}; rebuild the graph with "
        "`mirtune graph`",
        *version, kGraphSchemaVersion);
  }
  auto nodes = document.find("nodes");
  auto edges = document.find("edges");
  if (nodes == document.end() || !nodes->is_array() || edges == document.end() || !edges->is_array()) {
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: needs \"nodes\" and \"edges\" arrays");
  }
  ProgramGraph graph;
  graph.schemaVersion = kGraphSchemaVersion;
  graph.nodes.reserve(nodes->size());
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    auto node = nodeFromJson((*nodes)[i], i);
    if (!node) return node.error();
    graph.nodes.push_back(std::move(*node));
  }
  graph.edges.reserve(edges->size());
  for (std::size_t i = 0; i < edges->size(); ++i) {
    auto edge = edgeFromJson((*edges)[i], i, graph.nodes.size());
    if (!edge) return edge.error();
    graph.edges.push_back(*edge);
  }
  return graph;
}

}  // namespace

Expected<ProgramGraph> programGraphFromJson(std::string_view text) {
  nlohmann::json document =
      nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded())
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: not valid JSON");
  try {
    return graphFromDocument(document);
  } catch (const nlohmann::json::exception& e) {  // out-of-range numbers and the like; never let one escape
    return makeError(ErrorCode::kInvalidInput, "program graph JSON: {}", e.what());
  }
}

namespace {

// A DOT double-quoted string: quotes and backslashes escaped, so IR text such as c"\0A" shows as written.
std::string dotQuoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

void appendDotNode(std::string& out, std::size_t id, const GraphNode& node, std::string_view indent) {
  out += fmt::format("{}n{} [shape={}, label={}];\n", indent, id, nodeKindInfo(node.kind).dotShape,
                     dotQuoted(node.text));
}

}  // namespace

std::string programGraphToDot(const ProgramGraph& graph) {
  std::string out =
      "digraph program_graph {\n  node [fontname=\"monospace\", fontsize=10];\n"
      "  edge [fontname=\"monospace\", fontsize=8];\n";
  std::vector<std::vector<std::size_t>> byFunction;
  for (std::size_t id = 0; id < graph.nodes.size(); ++id) {
    const GraphNode& node = graph.nodes[id];
    if (node.function < 0) {
      appendDotNode(out, id, node, "  ");
      continue;
    }
    const auto function = static_cast<std::size_t>(node.function);
    if (function >= byFunction.size()) byFunction.resize(function + 1);
    byFunction[function].push_back(id);
  }
  for (std::size_t function = 0; function < byFunction.size(); ++function) {
    if (byFunction[function].empty()) continue;
    out += fmt::format("  subgraph cluster_fn{} {{\n    label=\"@fn{}\";\n", function, function);
    for (std::size_t id : byFunction[function]) appendDotNode(out, id, graph.nodes[id], "    ");
    out += "  }\n";
  }
  for (const GraphEdge& edge : graph.edges) {
    const EdgeFlowInfo& flow = edgeFlowInfo(edge.flow);
    out += fmt::format("  n{} -> n{} [color={}, style={}", edge.source, edge.target, flow.dotColor,
                       flow.dotStyle);
    if (edge.flow == EdgeFlow::kData || edge.position != 0)
      out += fmt::format(", label=\"{}\"", edge.position);
    out += "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace mirtune
