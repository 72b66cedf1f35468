// Program graph serialisation: JSON (lossless, versioned, read back by programGraphFromJson) and Graphviz
// DOT.
#pragma once

#include "ir/ProgramGraph.h"
#include "support/Error.h"

#include <string>
#include <string_view>

namespace mirtune {

/// The graph as JSON, one node or edge per line:
///   {"schema_version":1,
///    "nodes":[{"id":0,"kind":"external","text":"[external]","function":-1,"block":-1,"tokens":[]}, …],
///    "edges":[{"source":0,"target":1,"flow":"call","position":0}, …]}
/// Kind and flow names come from kNodeKinds / kEdgeFlows. The same graph always gives the same bytes.
std::string programGraphToJson(const ProgramGraph& graph);

/// Reads what programGraphToJson writes. A graph of another schema version is a kVersion error naming both
/// versions; malformed JSON, a missing or mistyped field, an unknown kind/flow, a node id that is not its
/// index, or an edge to a missing node is kInvalidInput naming the node or edge.
Expected<ProgramGraph> programGraphFromJson(std::string_view text);

/// The graph in Graphviz DOT: one cluster per function, node shape per kind and edge colour/style per flow
/// (from kNodeKinds / kEdgeFlows); data edges are labelled with their position, other edges when it is not 0.
std::string programGraphToDot(const ProgramGraph& graph);

}  // namespace mirtune
