// Module properties for the property-prediction pretraining task.
#include "embeddings/ModuleProperties.h"

#include "ir/ProgramGraph.h"

#include <cmath>

namespace mirtune {

namespace {

// Instruction classes, in the order of the *_share properties from load_share on.
enum InstructionClass {
  kLoad,
  kStore,
  kAddress,
  kFloatArithmetic,
  kFloatDivision,  // also counted as float arithmetic
  kIntegerArithmetic,
  kCompare,
  kControl,
  kPhiSelect,
  kCall,
  kCast,
  kStack,
  kAtomic,
  kVector,
  kOther,
  kInstructionClasses
};

constexpr int kFirstShare = 3;  // index of load_share in kModulePropertyNames

int opcodeClassOf(std::string_view opcode) {
  static const std::unordered_map<std::string_view, int> kClasses = [] {
    std::unordered_map<std::string_view, int> classes;
    auto add = [&](std::initializer_list<std::string_view> names, int cls) {
      for (std::string_view name : names) classes.emplace(name, cls);
    };
    add({"load"}, kLoad);
    add({"store"}, kStore);
    add({"getelementptr"}, kAddress);
    add({"fadd", "fsub", "fmul", "fneg"}, kFloatArithmetic);
    add({"fdiv", "frem"}, kFloatDivision);
    add({"add", "sub", "mul", "sdiv", "udiv", "srem", "urem", "shl", "lshr", "ashr", "and", "or", "xor"},
        kIntegerArithmetic);
    add({"icmp", "fcmp"}, kCompare);
    add({"br", "switch", "ret", "unreachable", "indirectbr", "resume"}, kControl);
    add({"phi", "select"}, kPhiSelect);
    add({"call", "tail", "musttail", "notail", "invoke", "callbr"}, kCall);
    add({"trunc", "zext", "sext", "fptrunc", "fpext", "fptoui", "fptosi", "uitofp", "sitofp", "ptrtoint",
         "inttoptr", "bitcast", "addrspacecast", "freeze"},
        kCast);
    add({"alloca"}, kStack);
    add({"atomicrmw", "cmpxchg", "fence"}, kAtomic);
    add({"extractelement", "insertelement", "shufflevector", "extractvalue", "insertvalue"}, kVector);
    return classes;
  }();
  auto it = kClasses.find(opcode);
  return it == kClasses.end() ? kOther : it->second;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// A call's class from its callee: math intrinsics and builtins are float arithmetic, atomics and barriers atomic.
int calleeClassOf(std::string_view callee) {
  for (std::string_view atomic : {"atom", "barrier", "fence", "__sync", "syncthreads"}) {
    if (contains(callee, atomic)) return kAtomic;
  }
  for (std::string_view math : {"fmuladd", "fma", "sqrt", "exp", "log", "sin", "cos", "tan", "pow", "fabs", "floor",
                                "ceil", "fmin", "fmax", "mad", "rsqrt", "hypot", "erf"}) {
    if (contains(callee, math)) return kFloatArithmetic;
  }
  return kCall;
}

}  // namespace

int instructionClassOf(std::string_view text) {
  std::size_t end = text.find_first_of(" (");
  int cls = opcodeClassOf(text.substr(0, end));
  if (cls != kCall) return cls;
  std::size_t at = text.find('@');
  if (at == std::string_view::npos) return kCall;
  std::size_t stop = text.find('(', at);
  return calleeClassOf(text.substr(at + 1, stop == std::string_view::npos ? std::string_view::npos : stop - at - 1));
}

const std::string& ModulePropertyReader::pieceText(std::int32_t id) {
  auto it = pieceText_.find(id);
  if (it != pieceText_.end()) return it->second;
  std::string piece = tokenizer_.piece(id);
  // SentencePiece writes a space as U+2581 (three bytes).
  std::string text;
  for (std::size_t i = 0; i < piece.size();) {
    if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
      text += ' ';
      i += 3;
    } else {
      text += piece[i++];
    }
  }
  return pieceText_.emplace(id, std::move(text)).first->second;
}

int ModulePropertyReader::classOf(const std::int32_t* pieces, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += pieceText(pieces[i]);
    std::size_t first = text.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    std::size_t space = text.find(' ', first);
    if (space == std::string::npos) continue;  // the opcode may go on in the next piece
    int cls = opcodeClassOf(std::string_view(text).substr(first, space - first));
    if (cls != kCall) return cls;
    std::size_t at = text.find('@');
    if (at != std::string::npos && text.find('(', at) != std::string::npos) break;  // the callee is complete
  }
  std::size_t first = text.find_first_not_of(' ');
  return first == std::string::npos ? kOther : instructionClassOf(std::string_view(text).substr(first));
}

ModuleProperties ModulePropertyReader::read(const EncoderInput& input) {
  ModuleProperties out{};
  const std::size_t nodes = input.nodeCount();
  if (nodes == 0) return out;
  std::array<double, kInstructionClasses> classes{};
  double instructions = 0, variables = 0, constants = 0;
  for (std::size_t n = 0; n < nodes; ++n) {
    switch (static_cast<NodeKind>(input.nodeKinds[n])) {
      case NodeKind::kInstruction: {
        ++instructions;
        std::int32_t begin = input.nodeTokenOffsets[n];
        std::int32_t end = n + 1 < nodes ? input.nodeTokenOffsets[n + 1] : static_cast<std::int32_t>(input.nodeTokenIds.size());
        classes[static_cast<std::size_t>(
            begin < end ? classOf(input.nodeTokenIds.data() + begin, static_cast<std::size_t>(end - begin)) : kOther)] += 1;
        break;
      }
      case NodeKind::kVariable: ++variables; break;
      case NodeKind::kConstant: ++constants; break;
      case NodeKind::kExternal: break;
    }
  }
  double control = 0, backward = 0, data = 0;
  for (std::size_t e = 0; e < input.edgeCount(); ++e) {
    auto flow = static_cast<EdgeFlow>(input.edgeFlows[e]);
    if (flow == EdgeFlow::kControl) {
      ++control;
      if (input.edgeTargets[e] <= input.edgeSources[e]) ++backward;
    } else if (flow == EdgeFlow::kData) {
      ++data;
    }
  }
  const double total = static_cast<double>(nodes);
  const double perInstruction = std::max(1.0, instructions);
  out[0] = static_cast<float>(std::log1p(instructions) / 8.0);
  out[1] = static_cast<float>(variables / total);
  out[2] = static_cast<float>(constants / total);
  auto share = [&](int cls) { return static_cast<float>(classes[static_cast<std::size_t>(cls)] / perInstruction); };
  out[kFirstShare + 0] = share(kLoad);
  out[kFirstShare + 1] = share(kStore);
  out[kFirstShare + 2] = share(kAddress);
  out[kFirstShare + 3] = share(kFloatArithmetic) + share(kFloatDivision);
  out[kFirstShare + 4] = share(kFloatDivision);
  out[kFirstShare + 5] = share(kIntegerArithmetic);
  out[kFirstShare + 6] = share(kCompare);
  out[kFirstShare + 7] = share(kControl);
  out[kFirstShare + 8] = share(kPhiSelect);
  out[kFirstShare + 9] = share(kCall);
  out[kFirstShare + 10] = share(kCast);
  out[kFirstShare + 11] = share(kStack);
  out[kFirstShare + 12] = share(kAtomic);
  out[kFirstShare + 13] = share(kVector);
  out[17] = static_cast<float>(control > 0 ? backward / control : 0.0);
  double arithmetic = classes[kFloatArithmetic] + classes[kFloatDivision] + classes[kIntegerArithmetic];
  double memory = classes[kLoad] + classes[kStore];
  out[18] = static_cast<float>(std::log((arithmetic + 1.0) / (memory + 1.0)) / 4.0);
  out[19] = static_cast<float>(data / total / 4.0);
  return out;
}

}  // namespace mirtune
