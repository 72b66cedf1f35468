// Program graph tests: hand-counted graphs, calls, determinism, JSON/DOT, the validator, data sets, scale.
#include "frontend/Frontend.h"
#include "ir/GraphFormat.h"
#include "ir/Normaliser.h"
#include "ir/ProgramGraph.h"
#include "support/Files.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

const fs::path kInputs = MIRTUNE_TEST_INPUTS;

// The front end's module, its normalised copy and the graph built from it.
struct Built {
  IrModule module;
  NormalisedModule normalised;
  ProgramGraph graph;
};

std::optional<Built> finish(Expected<IrModule> module) {
  EXPECT_TRUE(module.ok()) << module.error().message();
  if (!module) return std::nullopt;
  auto normalised = NormalisedModule::create(*module);
  EXPECT_TRUE(normalised.ok()) << normalised.error().message();
  if (!normalised) return std::nullopt;
  auto graph = buildProgramGraph(*normalised);
  EXPECT_TRUE(graph.ok()) << graph.error().message();
  if (!graph) return std::nullopt;
  return Built{std::move(*module), std::move(*normalised), std::move(*graph)};
}

std::optional<Built> buildFile(const fs::path& path) {
  return finish(compileFile(path));
}
std::optional<Built> buildText(const std::string& text, const std::string& name = "input.ll") {
  return finish(compileSource(text, name));
}

std::size_t nodesOf(const ProgramGraph& graph, NodeKind kind) {
  return countGraph(graph).nodes[static_cast<std::size_t>(kind)];
}
std::size_t edgesOf(const ProgramGraph& graph, EdgeFlow flow) {
  return countGraph(graph).edges[static_cast<std::size_t>(flow)];
}
std::size_t countEdge(const ProgramGraph& graph, std::uint32_t source, std::uint32_t target, EdgeFlow flow,
                      std::uint32_t position = 0) {
  return static_cast<std::size_t>(
      std::count(graph.edges.begin(), graph.edges.end(), GraphEdge{source, target, flow, position}));
}

void expectValid(const Built& built) {
  Status valid = validateProgramGraph(built.graph, built.normalised);
  EXPECT_TRUE(valid.ok()) << valid.error().message();
}

// ---------------------------------------------------------------------------------------------------------
// tests/inputs/ir/graph_small.ll, counted by hand. Node ids: 0 external; I1..I14 = ids 1..14 (see the
// comments in the .ll); variables in first-appearance order from id 15:
//   15 %x  16 %m  17 %id  18 %n  19 %c  20 %next (forward use in the phi)  21 %i  22 %out  23 %p  24 %v
//   25 %s  26 %done
// constants from id 27: 27 `i32 0` (used by I3, I4 and I6: one node), 28 `i32 1`.
// Data: value operands 2+1+1+2+1+2+2+1+1+2+2+2+1+0 = 20, plus 9 definitions (%m %id %c %i %p %v %s %next
//   %done; the store, branches and returns define nothing) = 29.
// Control: I1→I2; I3→I4→I5; I5→I6 (0), I5→I14 (1); I6→…→I13 (7 edges); I13→I14 (0), I13→I6 (1) = 14.
// Call: external→I1, external→I3 (entries); I2→external, I14→external (returns); I3↔external (declaration);
//   I9→I1 and I2→I9 (call of @square) = 8.
TEST(GraphSmall, HandCountedNodesAndEdges) {
  auto built = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  EXPECT_EQ(graph.schemaVersion, kGraphSchemaVersion);
  ASSERT_EQ(graph.nodes.size(), 29u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kExternal), 1u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kInstruction), 14u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kVariable), 12u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kConstant), 2u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kData), 29u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kControl), 14u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kCall), 8u);
  EXPECT_EQ(graph.edges.size(), 51u);
  expectValid(*built);

  // Nodes: kinds grouped, function/block indices.
  EXPECT_EQ(graph.nodes[0].text, "[external]");
  EXPECT_EQ(graph.nodes[1].function, 0);   // I1 in @square (fn0)
  EXPECT_EQ(graph.nodes[14].function, 1);  // I14 in @kernel
  EXPECT_EQ(graph.nodes[14].block, 2);
  EXPECT_EQ(graph.nodes[1].text, "fmul float %v, %v");
  EXPECT_EQ(graph.nodes[15].kind, NodeKind::kVariable);
  EXPECT_EQ(graph.nodes[15].text, "float");  // %x: an argument, so no block
  EXPECT_EQ(graph.nodes[15].function, 0);
  EXPECT_EQ(graph.nodes[15].block, -1);
  EXPECT_EQ(graph.nodes[17].text, "i64");     // %id
  EXPECT_EQ(graph.nodes[20].block, 1);        // %next lives in block `loop`
  EXPECT_EQ(graph.nodes[22].text, "float*");  // %out
  EXPECT_EQ(graph.nodes[27].kind, NodeKind::kConstant);
  EXPECT_EQ(graph.nodes[27].text, "i32 0");
  EXPECT_EQ(graph.nodes[27].function, -1);
  EXPECT_EQ(graph.nodes[28].text, "i32 1");

  // Data positions.
  EXPECT_EQ(countEdge(graph, 15, 1, EdgeFlow::kData, 0), 1u);  // fmul %x, %x: one edge per operand
  EXPECT_EQ(countEdge(graph, 15, 1, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 1, 16, EdgeFlow::kData, 0), 1u);  // I1 defines %m
  EXPECT_EQ(countEdge(graph, 27, 3, EdgeFlow::kData, 0), 1u);  // call: the callee is not an operand
  EXPECT_EQ(countEdge(graph, 18, 4, EdgeFlow::kData, 0), 1u);  // icmp sgt %n, 0
  EXPECT_EQ(countEdge(graph, 27, 4, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 19, 5, EdgeFlow::kData, 0), 1u);  // br: labels are not operands
  EXPECT_EQ(countEdge(graph, 27, 6, EdgeFlow::kData, 0), 1u);  // phi [0, entry], [%next, loop]
  EXPECT_EQ(countEdge(graph, 20, 6, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 22, 7, EdgeFlow::kData, 0), 1u);  // gep %out, %id
  EXPECT_EQ(countEdge(graph, 17, 7, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 24, 9, EdgeFlow::kData, 0), 1u);   // call @square(%v)
  EXPECT_EQ(countEdge(graph, 25, 10, EdgeFlow::kData, 0), 1u);  // store %s, %p
  EXPECT_EQ(countEdge(graph, 23, 10, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 11, 20, EdgeFlow::kData, 0), 1u);  // I11 defines %next
  EXPECT_EQ(countEdge(graph, 28, 11, EdgeFlow::kData, 1), 1u);  // add %i, 1
  EXPECT_EQ(countEdge(graph, 10, 25, EdgeFlow::kData, 0), 0u);  // store defines nothing

  // Control positions.
  EXPECT_EQ(countEdge(graph, 1, 2, EdgeFlow::kControl, 0), 1u);
  EXPECT_EQ(countEdge(graph, 2, 3, EdgeFlow::kControl, 0), 0u);  // no control edge across functions
  EXPECT_EQ(countEdge(graph, 5, 6, EdgeFlow::kControl, 0), 1u);
  EXPECT_EQ(countEdge(graph, 5, 14, EdgeFlow::kControl, 1), 1u);
  EXPECT_EQ(countEdge(graph, 13, 14, EdgeFlow::kControl, 0), 1u);
  EXPECT_EQ(countEdge(graph, 13, 6, EdgeFlow::kControl, 1), 1u);  // back edge
  EXPECT_EQ(countEdge(graph, 12, 13, EdgeFlow::kControl, 0), 1u);

  // Call edges.
  EXPECT_EQ(countEdge(graph, 0, 1, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 0, 3, EdgeFlow::kCall),
            2u);  // entry of @kernel, and return from the declaration
  EXPECT_EQ(countEdge(graph, 3, 0, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 9, 1, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 2, 9, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 2, 0, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 14, 0, EdgeFlow::kCall), 1u);
}

// tests/inputs/ir/graph_calls.ll. Instructions I1..I10 = ids 1..10; variables 11 %n, 12 %c, 13 %m, 14 %r,
// 15 %p (%f is unused, so no node); constants 16 `i32 1`, 17 `i32 3`, 18 `i32 5`.
// Call edges: external→I1, external→I8 (entries); I3, I7, I10 → external (returns); I8↔external (@ext);
// I5→I1 (recursion), I9→I1; returns of @fact back to both call sites: I3→I5, I7→I5, I3→I9, I7→I9 = 13.
TEST(GraphCalls, RecursionAndDeclarations) {
  auto built = buildFile(kInputs / "ir" / "graph_calls.ll");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  ASSERT_EQ(graph.nodes.size(), 19u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kInstruction), 10u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kVariable), 5u);
  EXPECT_EQ(nodesOf(graph, NodeKind::kConstant), 3u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kData), 16u);  // 12 operands + 4 definitions
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kControl), 8u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kCall), 13u);
  expectValid(*built);

  EXPECT_EQ(countEdge(graph, 5, 1, EdgeFlow::kCall), 1u);  // recursive call enters its own function
  EXPECT_EQ(countEdge(graph, 3, 5, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 7, 5, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 9, 1, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 3, 9, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 7, 9, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 8, 0, EdgeFlow::kCall), 1u);  // call of a declaration: out to external…
  EXPECT_EQ(countEdge(graph, 0, 8, EdgeFlow::kCall), 2u);  // …and back (plus the entry edge of @caller)
  EXPECT_EQ(countEdge(graph, 0, 1, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 10, 0, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 16, 3, EdgeFlow::kData, 0), 1u);  // ret i32 1 shares `i32 1` with the sub
  EXPECT_EQ(countEdge(graph, 16, 4, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 14, 6, EdgeFlow::kData, 1), 1u);  // mul %n, %r
}

TEST(GraphCalls, IndirectCallKeepsItsCalleeAsAnOperand) {
  auto built = buildText(
      "define i32 @indirect(i32 (i32)* %f) {\n"
      "  %r = call i32 %f(i32 7)\n"
      "  ret i32 %r\n"
      "}\n");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  // 0 external, 1 call, 2 ret; variables 3 %f, 4 %r; constant 5 `i32 7`.
  ASSERT_EQ(graph.nodes.size(), 6u);
  EXPECT_EQ(graph.nodes[3].kind, NodeKind::kVariable);
  EXPECT_EQ(countEdge(graph, 5, 1, EdgeFlow::kData, 0), 1u);  // argument first…
  EXPECT_EQ(countEdge(graph, 3, 1, EdgeFlow::kData, 1), 1u);  // …then the callee pointer
  EXPECT_EQ(countEdge(graph, 1, 0, EdgeFlow::kCall), 1u);     // unknown target: the external node
  EXPECT_EQ(countEdge(graph, 0, 1, EdgeFlow::kCall), 2u);     // return from it, and the function entry
  expectValid(*built);
}

TEST(GraphCalls, CallThroughPointerCastIsDirect) {
  auto built = buildText(
      "define void @callee(i32 %a) {\n"
      "  ret void\n"
      "}\n"
      "define void @caller() {\n"
      "  call void bitcast (void (i32)* @callee to void (i64)*)(i64 1)\n"
      "  ret void\n"
      "}\n");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  // 1 ret (callee), 2 call, 3 ret (caller); constant 4 `i64 1` is the only operand of the call.
  ASSERT_EQ(graph.nodes.size(), 5u);
  EXPECT_EQ(countEdge(graph, 2, 1, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 1, 2, EdgeFlow::kCall), 1u);
  EXPECT_EQ(countEdge(graph, 4, 2, EdgeFlow::kData, 0), 1u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kData), 1u);
  expectValid(*built);
}

TEST(GraphCalls, InvokeIsACallAndATerminator) {
  auto built = buildText(
      "declare void @mayThrow()\n"
      "declare i32 @__gxx_personality_v0(...)\n"
      "define void @f() personality i32 (...)* @__gxx_personality_v0 {\n"
      "entry:\n"
      "  invoke void @mayThrow() to label %ok unwind label %bad\n"
      "ok:\n"
      "  ret void\n"
      "bad:\n"
      "  %lp = landingpad { i8*, i32 } cleanup\n"
      "  resume { i8*, i32 } %lp\n"
      "}\n");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  // 1 invoke, 2 ret, 3 landingpad, 4 resume; variable 5 %lp.
  ASSERT_EQ(graph.nodes.size(), 6u);
  EXPECT_EQ(countEdge(graph, 1, 2, EdgeFlow::kControl, 0), 1u);  // normal destination
  EXPECT_EQ(countEdge(graph, 1, 3, EdgeFlow::kControl, 1), 1u);  // unwind destination
  EXPECT_EQ(countEdge(graph, 1, 0, EdgeFlow::kCall), 1u);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kData), 2u);  // %lp defined and used
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kCall), 4u);
  expectValid(*built);
}

TEST(GraphEdgeCases, EveryCompilableTestInputBuildsAValidGraph) {
  // OpenCL, C and C++ with OpenMP (outlined regions passed to __kmpc_fork_call), CUDA and .ll inputs.
  std::set<std::string> extensions;
  for (const auto& entry : fs::directory_iterator(kInputs)) {
    if (!entry.is_regular_file()) continue;
    CompileOptions options;
    options.includeDirectories = {(kInputs / "include").string()};
    auto module = compileFile(entry.path(), options);
    if (!module) continue;  // the inputs that test front-end errors
    auto normalised = NormalisedModule::create(*module);
    ASSERT_TRUE(normalised.ok()) << entry.path() << ": " << normalised.error().message();
    auto graph = buildProgramGraph(*normalised);
    ASSERT_TRUE(graph.ok()) << entry.path() << ": " << graph.error().message();
    Status valid = validateProgramGraph(*graph, *normalised);
    EXPECT_TRUE(valid.ok()) << entry.path() << ": " << valid.error().message();
    extensions.insert(entry.path().extension().string());
  }
  EXPECT_EQ(extensions, (std::set<std::string>{".c", ".cl", ".cpp", ".cu", ".ll"}));
}

TEST(GraphEdgeCases, ModuleWithoutFunctions) {
  auto built = buildText("@counter = global i32 0\n");
  ASSERT_TRUE(built);
  ASSERT_EQ(built->graph.nodes.size(), 1u);
  EXPECT_EQ(built->graph.nodes[0].kind, NodeKind::kExternal);
  EXPECT_TRUE(built->graph.edges.empty());
  expectValid(*built);
}

TEST(GraphEdgeCases, DeclarationsOnly) {
  auto built = buildText("declare i32 @f(i32)\ndeclare void @g()\n");
  ASSERT_TRUE(built);
  EXPECT_EQ(built->graph.nodes.size(), 1u);
  EXPECT_TRUE(built->graph.edges.empty());
  expectValid(*built);
}

TEST(GraphEdgeCases, GlobalVariablesAreVariablesAndSwitchCasesAreOperands) {
  auto built = buildText(
      "@g = global i32 0\n"
      "define i32 @f(i32 %x) {\n"
      "entry:\n"
      "  switch i32 %x, label %d [ i32 1, label %a\n"
      "                            i32 2, label %d ]\n"
      "a:\n"
      "  %v = load i32, i32* @g\n"
      "  ret i32 %v\n"
      "d:\n"
      "  ret i32 0\n"
      "}\n");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  // 1 switch, 2 load, 3 ret, 4 ret; variables 5 %x, 6 @g, 7 %v; constants 8 `i32 1`, 9 `i32 2`, 10 `i32 0`.
  ASSERT_EQ(graph.nodes.size(), 11u);
  EXPECT_EQ(graph.nodes[6].kind, NodeKind::kVariable);
  EXPECT_EQ(graph.nodes[6].function, -1);
  EXPECT_EQ(countEdge(graph, 5, 1, EdgeFlow::kData, 0), 1u);  // switch operands: condition, case values
  EXPECT_EQ(countEdge(graph, 8, 1, EdgeFlow::kData, 1), 1u);
  EXPECT_EQ(countEdge(graph, 9, 1, EdgeFlow::kData, 2), 1u);
  EXPECT_EQ(countEdge(graph, 1, 4, EdgeFlow::kControl, 0), 1u);  // successor 0: default
  EXPECT_EQ(countEdge(graph, 1, 2, EdgeFlow::kControl, 1), 1u);
  EXPECT_EQ(countEdge(graph, 1, 4, EdgeFlow::kControl, 2), 1u);  // the same block again, its own position
  EXPECT_EQ(countEdge(graph, 6, 2, EdgeFlow::kData, 0), 1u);
  expectValid(*built);
}

// ---------------------------------------------------------------------------------------------------------
// Determinism and formats

TEST(GraphDeterminism, SameModuleSameBytes) {
  auto first = buildFile(kInputs / "ir" / "graph_small.ll");
  auto second = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(programGraphToJson(first->graph), programGraphToJson(second->graph));
  auto again = buildProgramGraph(first->normalised);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(programGraphToJson(*again), programGraphToJson(first->graph));
  EXPECT_EQ(programGraphToDot(*again), programGraphToDot(first->graph));
}

TEST(GraphDeterminism, SameSourceFromAnotherFolder) {
  fs::path root = fs::temp_directory_path() / ("mirtune-graph-" + std::to_string(::getpid()));
  std::string json[2];
  for (int i = 0; i < 2; ++i) {
    fs::path dir = root / (i == 0 ? "one" : "elsewhere/two");
    fs::create_directories(dir);
    fs::copy_file(kInputs / "saxpy.cl", dir / "saxpy.cl", fs::copy_options::overwrite_existing);
    auto built = buildFile(dir / "saxpy.cl");
    ASSERT_TRUE(built);
    expectValid(*built);
    EXPECT_GT(built->graph.nodes.size(), 10u);
    json[i] = programGraphToJson(built->graph);
  }
  fs::remove_all(root);
  EXPECT_EQ(json[0], json[1]);
}

TEST(GraphJson, RoundTrip) {
  auto built = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(built);
  ProgramGraph graph = built->graph;
  graph.nodes[1].tokens = {4, 8, 15};  // tokens travel too
  graph.nodes[27].text = "quote \" backslash \\ tab \t";
  std::string json = programGraphToJson(graph);
  auto read = programGraphFromJson(json);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(*read, graph);
  EXPECT_EQ(programGraphToJson(*read), json);
  EXPECT_EQ(json.rfind("{\"schema_version\":1,", 0), 0u);
  EXPECT_NE(json.find(R"({"id":1,"kind":"instruction","text":"fmul float %v, %v","function":0,"block":0,)"
                      R"("tokens":[4,8,15]})"),
            std::string::npos);
  EXPECT_NE(json.find(R"({"source":13,"target":6,"flow":"control","position":1})"), std::string::npos);
}

TEST(GraphJson, RejectsOtherSchemaVersionsAndBadInput) {
  auto built = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(built);
  std::string json = programGraphToJson(built->graph);

  std::string future = json;
  future.replace(0, std::string("{\"schema_version\":1").size(), "{\"schema_version\":2");
  auto version = programGraphFromJson(future);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().code(), ErrorCode::kVersion);
  EXPECT_NE(version.error().message().find("schema version 2"), std::string::npos)
      << version.error().message();
  EXPECT_NE(version.error().message().find("version 1"), std::string::npos);

  auto expectInvalid = [](const std::string& text, const std::string& fragment) {
    auto read = programGraphFromJson(text);
    ASSERT_FALSE(read.ok()) << text;
    EXPECT_EQ(read.error().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(read.error().message().find(fragment), std::string::npos) << read.error().message();
  };
  expectInvalid("{\"schema_version\":1, \"nodes\": [", "not valid JSON");
  expectInvalid("[]", "not an object");
  expectInvalid(R"({"nodes":[],"edges":[]})", "schema_version");
  expectInvalid(
      R"({"schema_version":1,"nodes":[{"id":1,"kind":"external","text":"x","function":-1,"block":-1,)"
      R"("tokens":[]}],"edges":[]})",
      "node 0 has id 1");
  expectInvalid(R"({"schema_version":1,"nodes":[{"id":0,"kind":"phi","text":"x","function":-1,"block":-1,)"
                R"("tokens":[]}],"edges":[]})",
                "unknown kind");
  expectInvalid(
      R"({"schema_version":1,"nodes":[{"id":0,"kind":"external","text":"x","function":-1,"block":-1,)"
      R"("tokens":[]}],"edges":[{"source":0,"target":3,"flow":"data","position":0}]})",
      "edge 0 joins 0 → 3");
  expectInvalid(
      R"({"schema_version":1,"nodes":[{"id":0,"kind":"external","text":"x","function":-1,"block":-1,)"
      R"("tokens":[]}],"edges":[{"source":0,"target":0,"flow":"jump","position":0}]})",
      "unknown flow");
  expectInvalid(
      R"({"schema_version":1,"nodes":[{"id":0,"kind":"external","text":"x","function":-1,"block":-1,)"
      R"("tokens":[]}],"edges":[{"source":0,"target":0,"flow":"data","position":99999999999}]})",
      "out of range");
}

TEST(GraphDot, ShapesAndStylesFromTheTables) {
  auto built = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(built);
  std::string dot = programGraphToDot(built->graph);
  EXPECT_EQ(dot.rfind("digraph program_graph {", 0), 0u);
  EXPECT_NE(dot.find("n0 [shape=doublecircle, label=\"[external]\"];"), std::string::npos);
  EXPECT_NE(dot.find("subgraph cluster_fn1"), std::string::npos);
  EXPECT_NE(dot.find("n1 [shape=box, label=\"fmul float %v, %v\"];"), std::string::npos);
  EXPECT_NE(dot.find("n27 [shape=octagon, label=\"i32 0\"];"), std::string::npos);
  EXPECT_NE(dot.find("n13 -> n6 [color=black, style=solid, label=\"1\"];"), std::string::npos);
  EXPECT_NE(dot.find("n25 -> n10 [color=red3, style=dashed, label=\"0\"];"), std::string::npos);
  EXPECT_NE(dot.find("n9 -> n1 [color=blue, style=bold];"), std::string::npos);
  EXPECT_EQ(static_cast<std::size_t>(std::count(dot.begin(), dot.end(), '>')), built->graph.edges.size());
}

TEST(GraphTables, NamesRoundTrip) {
  for (const NodeKindInfo& info : kNodeKinds) EXPECT_EQ(parseNodeKind(info.name), info.kind);
  for (const EdgeFlowInfo& info : kEdgeFlows) EXPECT_EQ(parseEdgeFlow(info.name), info.flow);
  EXPECT_FALSE(parseNodeKind("block").has_value());
  EXPECT_FALSE(parseEdgeFlow("").has_value());
}

// ---------------------------------------------------------------------------------------------------------
// The validator catches each broken invariant

void expectBroken(const ProgramGraph& graph, const NormalisedModule& normalised,
                  const std::string& invariant) {
  Status valid = validateProgramGraph(graph, normalised);
  ASSERT_FALSE(valid.ok()) << "expected '" << invariant << "' to be reported";
  EXPECT_NE(valid.error().message().find(invariant), std::string::npos) << valid.error().message();
}

std::size_t findEdge(const ProgramGraph& graph, GraphEdge edge) {
  auto it = std::find(graph.edges.begin(), graph.edges.end(), edge);
  EXPECT_NE(it, graph.edges.end());
  return static_cast<std::size_t>(it - graph.edges.begin());
}

TEST(GraphValidator, ReportsEachBrokenInvariant) {
  auto built = buildFile(kInputs / "ir" / "graph_small.ll");
  ASSERT_TRUE(built);
  const NormalisedModule& normalised = built->normalised;
  const ProgramGraph& good = built->graph;
  expectValid(*built);

  ProgramGraph graph = good;
  graph.edges.erase(graph.edges.begin() + static_cast<long>(findEdge(graph, {23, 10, EdgeFlow::kData, 1})));
  expectBroken(graph, normalised, "data positions dense and unique");  // a gap: store lost its pointer

  graph = good;
  graph.edges[findEdge(graph, {23, 10, EdgeFlow::kData, 1})].position = 0;
  expectBroken(graph, normalised, "data positions dense and unique");  // two edges at position 0

  graph = good;
  graph.edges[findEdge(graph, {23, 10, EdgeFlow::kData, 1})].position = 2;
  expectBroken(graph, normalised, "data positions dense and unique");  // beyond the operand count

  graph = good;
  graph.edges[0].target = 999;
  expectBroken(graph, normalised, "edge endpoints exist");

  graph = good;
  graph.nodes.erase(graph.nodes.begin() + 14);  // one instruction node fewer
  expectBroken(graph, normalised, "one node per instruction");

  graph = good;
  graph.nodes[3].text = "something else";
  expectBroken(graph, normalised, "one node per instruction");

  graph = good;
  graph.edges[findEdge(graph, {13, 6, EdgeFlow::kControl, 1})].position = 2;
  expectBroken(graph, normalised, "control positions");

  graph = good;
  graph.edges[findEdge(graph, {13, 6, EdgeFlow::kControl, 1})].target = 7;
  expectBroken(graph, normalised, "control targets");

  graph = good;
  graph.edges.push_back({15, 19, EdgeFlow::kData, 0});  // variable → variable
  expectBroken(graph, normalised, "edge joins allowed kinds");

  graph = good;
  graph.edges[findEdge(graph, {9, 1, EdgeFlow::kCall, 0})].target = 0;
  expectBroken(graph, normalised, "call targets");

  graph = good;
  graph.edges.erase(graph.edges.begin() + static_cast<long>(findEdge(graph, {0, 1, EdgeFlow::kCall, 0})));
  expectBroken(graph, normalised, "external node enters every function");

  graph = good;
  graph.edges.push_back({12, 13, EdgeFlow::kData, 0});  // instruction → instruction is not data flow
  expectBroken(graph, normalised, "edge joins allowed kinds");

  graph = good;
  graph.schemaVersion = 2;
  expectBroken(graph, normalised, "schema version");
}

// ---------------------------------------------------------------------------------------------------------
// Scale and the published data sets

TEST(GraphScale, HugeFunction) {
  // 1,000 blocks of 50 adds each, chained by branches: 51,000 instructions in one function.
  constexpr int kBlocks = 1000;
  constexpr int kAddsPerBlock = 50;
  std::string text = "define i32 @huge(i32 %a) {\nentry:\n  br label %b0\n";
  std::string previous = "%a";
  int value = 0;
  for (int b = 0; b < kBlocks; ++b) {
    text += "b" + std::to_string(b) + ":\n";
    for (int i = 0; i < kAddsPerBlock; ++i, ++value) {
      std::string name = "%v" + std::to_string(value);
      text += "  " + name + " = add i32 " + previous + ", " + std::to_string(value % 97) + "\n";
      previous = name;
    }
    text += b + 1 < kBlocks ? "  br label %b" + std::to_string(b + 1) + "\n" : "  ret i32 " + previous + "\n";
  }
  text += "}\n";
  auto built = buildText(text, "huge.ll");
  ASSERT_TRUE(built);
  const ProgramGraph& graph = built->graph;
  constexpr std::size_t kAdds = kBlocks * kAddsPerBlock;
  constexpr std::size_t kInstructions = kAdds + kBlocks + 1;  // adds, block terminators, the entry branch
  EXPECT_EQ(nodesOf(graph, NodeKind::kInstruction), kInstructions);
  EXPECT_EQ(nodesOf(graph, NodeKind::kVariable), kAdds + 1);  // %a and every add
  EXPECT_EQ(nodesOf(graph, NodeKind::kConstant), 97u);
  EXPECT_EQ(graph.nodes.size(), 1 + kInstructions + kAdds + 1 + 97);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kControl), kInstructions - 1);
  EXPECT_EQ(edgesOf(graph, EdgeFlow::kData), 2 * kAdds + 1 + kAdds);  // operands (+ ret's) and definitions
  expectValid(*built);
}

std::vector<fs::path> llFilesIn(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".ll") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void checkDataSetFolder(const char* sub, std::size_t expectedFiles) {
  fs::path folder = dataDirectory() / sub;
  if (!fs::is_directory(folder)) {
    GTEST_SKIP() << "data set folder " << folder << " not found; set MIRTUNE_DATA to the data sets' folder";
  }
  std::vector<fs::path> files = llFilesIn(folder);
  EXPECT_EQ(files.size(), expectedFiles);
  std::size_t valid = 0;
  for (const fs::path& file : files) {
    auto module = compileFile(file);
    ASSERT_TRUE(module.ok()) << module.error().message();
    auto normalised = NormalisedModule::create(*module);
    ASSERT_TRUE(normalised.ok()) << file << ": " << normalised.error().message();
    auto graph = buildProgramGraph(*normalised);
    ASSERT_TRUE(graph.ok()) << file << ": " << graph.error().message();
    Status status = validateProgramGraph(*graph, *normalised);
    EXPECT_TRUE(status.ok()) << file << ": " << status.error().message();
    EXPECT_GT(graph->nodes.size(), 1u) << file;
    auto read = programGraphFromJson(programGraphToJson(*graph));
    EXPECT_TRUE(read.ok() && *read == *graph) << file << ": JSON round trip differs";
    valid += status.ok() ? 1 : 0;
  }
  EXPECT_EQ(valid, files.size());
}

TEST(GraphDataSets, EveryDevmapKernelBuildsAValidGraph) {
  checkDataSetFolder("devmap/kernels_ir", 669);
}
TEST(GraphDataSets, EveryCoarseningKernelBuildsAValidGraph) {
  checkDataSetFolder("tcoarsening/kernels_ir", 17);
}

}  // namespace
}  // namespace mirtune
