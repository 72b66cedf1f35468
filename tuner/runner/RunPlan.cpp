// The shared measurement plan: parsing, seeded generators, .npy files and sample statistics.
#include "tuner/runner/RunPlan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mirtune::runner {

const ElementTypeInfo& elementTypeInfo(ElementType type) {
  return kElementTypes[static_cast<std::size_t>(type)];
}

std::optional<ElementType> parseElementType(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kAliases = {{
      {"unsigned char", "uchar"},
      {"signed char", "char"},
      {"unsigned short", "ushort"},
      {"unsigned int", "uint"},
      {"unsigned", "uint"},
      {"unsigned long", "ulong"},
      {"int8_t", "char"},
      {"uint8_t", "uchar"},
      {"int32_t", "int"},
      {"uint32_t", "uint"},
  }};
  for (const auto& [alias, canonical] : kAliases) {
    if (name == alias) name = canonical;
  }
  for (const auto& info : kElementTypes) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

std::string elementTypeList() {
  std::string list;
  for (const auto& info : kElementTypes) {
    if (!list.empty()) list += ", ";
    list += info.name;
  }
  return list;
}

std::string_view argKindName(ArgKind kind) {
  switch (kind) {
    case ArgKind::kBuffer:
      return "buffer";
    case ArgKind::kScalar:
      return "scalar";
    case ArgKind::kLocal:
      return "local";
  }
  return "?";
}

std::string_view argRoleName(ArgRole role) {
  switch (role) {
    case ArgRole::kIn:
      return "in";
    case ArgRole::kOut:
      return "out";
    case ArgRole::kInOut:
      return "inout";
  }
  return "?";
}

std::string_view generatorKindName(GeneratorKind kind) {
  switch (kind) {
    case GeneratorKind::kUniform:
      return "uniform";
    case GeneratorKind::kRamp:
      return "ramp";
    case GeneratorKind::kZeros:
      return "zeros";
    case GeneratorKind::kConstant:
      return "constant";
  }
  return "?";
}

namespace {

template <typename Enum, std::size_t N>
bool parseName(const std::array<Enum, N>& values, std::string_view (*nameOf)(Enum), const std::string& text,
               Enum& out) {
  for (Enum value : values) {
    if (nameOf(value) == text) {
      out = value;
      return true;
    }
  }
  return false;
}

bool readSizes(const nlohmann::json& json, const char* key, std::vector<std::uint64_t>& out,
               std::string& error) {
  if (!json.contains(key) || json[key].is_null()) return true;
  const auto& value = json[key];
  if (value.is_number_unsigned() || value.is_number_integer()) {
    out = {value.get<std::uint64_t>()};
  } else if (value.is_array()) {
    for (const auto& item : value) {
      if (!item.is_number_integer() || item.get<std::int64_t>() <= 0) {
        error = std::string("'") + key + "' must hold positive integers";
        return false;
      }
      out.push_back(item.get<std::uint64_t>());
    }
  } else {
    error = std::string("'") + key + "' must be an integer or an array of 1 to 3 integers";
    return false;
  }
  if (out.empty() || out.size() > 3) {
    error = std::string("'") + key + "' must have 1 to 3 dimensions";
    return false;
  }
  return true;
}

bool parseArg(const nlohmann::json& json, std::size_t index, ArgSpec& arg, std::string& error) {
  const std::string where = "args[" + std::to_string(index) + "]";
  if (!json.is_object()) {
    error = where + " must be an object";
    return false;
  }
  arg.name = json.value("name", "");
  const std::string kind = json.value("kind", "");
  if (!parseName<ArgKind, 3>({ArgKind::kBuffer, ArgKind::kScalar, ArgKind::kLocal}, argKindName, kind,
                             arg.kind)) {
    error = where + ": 'kind' must be buffer, scalar or local (got '" + kind + "')";
    return false;
  }
  const std::string typeName = json.value("type", arg.kind == ArgKind::kLocal ? "uchar" : "");
  auto type = parseElementType(typeName);
  if (!type) {
    error = where + ": 'type' '" + typeName + "' is not one of " + elementTypeList();
    return false;
  }
  arg.type = *type;
  const std::size_t elementBytes = elementTypeInfo(arg.type).bytes;
  if (arg.kind == ArgKind::kScalar) {
    if (!json.contains("value") || !json["value"].is_number()) {
      error = where + ": a scalar needs a numeric 'value'";
      return false;
    }
    const auto& value = json["value"];
    arg.scalarValue = value.get<double>();
    arg.scalarInt =
        value.is_number_integer() ? value.get<std::int64_t>() : static_cast<std::int64_t>(arg.scalarValue);
    return true;
  }
  if (json.contains("elements")) {
    if (!json["elements"].is_number_integer() || json["elements"].get<std::int64_t>() <= 0) {
      error = where + ": 'elements' must be a positive integer";
      return false;
    }
    arg.elements = json["elements"].get<std::uint64_t>();
  } else if (json.contains("bytes") && json["bytes"].is_number_integer() &&
             json["bytes"].get<std::int64_t>() > 0) {
    arg.elements = (json["bytes"].get<std::uint64_t>() + elementBytes - 1) / elementBytes;
  } else {
    error = where + ": a " + std::string(argKindName(arg.kind)) + " argument needs 'elements' (or 'bytes')";
    return false;
  }
  if (arg.kind == ArgKind::kLocal) return true;
  const std::string role = json.value("role", "in");
  if (!parseName<ArgRole, 3>({ArgRole::kIn, ArgRole::kOut, ArgRole::kInOut}, argRoleName, role, arg.role)) {
    error = where + ": 'role' must be in, out or inout (got '" + role + "')";
    return false;
  }
  arg.generator = GeneratorSpec{};
  arg.generator.seed = index + 1;
  if (json.contains("generator")) {
    const auto& generator = json["generator"];
    if (!generator.is_object()) {
      error = where + ": 'generator' must be an object";
      return false;
    }
    const std::string generatorKind = generator.value("kind", "");
    if (!parseName<GeneratorKind, 4>(
            {GeneratorKind::kUniform, GeneratorKind::kRamp, GeneratorKind::kZeros, GeneratorKind::kConstant},
            generatorKindName, generatorKind, arg.generator.kind)) {
      error =
          where + ": generator 'kind' must be uniform, ramp, zeros or constant (got '" + generatorKind + "')";
      return false;
    }
    arg.generator.lo = generator.value("lo", 0.0);
    arg.generator.hi = generator.value("hi", 1.0);
    arg.generator.step = generator.value("step", 1.0);
    arg.generator.value = generator.value("value", 0.0);
    arg.generator.seed = generator.value("seed", static_cast<std::uint64_t>(index + 1));
  } else if (arg.role != ArgRole::kOut) {
    arg.generator.kind = GeneratorKind::kUniform;
    if (!elementTypeInfo(arg.type).isFloat) arg.generator.hi = 100;
  }
  return true;
}

}  // namespace

bool parseRunPlan(const nlohmann::json& json, RunPlan& plan, std::string& error) {
  plan = RunPlan{};
  if (!json.is_object()) {
    error = "the plan must be a JSON object";
    return false;
  }
  for (const char* key : {"source", "kernel"}) {
    if (!json.contains(key) || !json[key].is_string() || json[key].get<std::string>().empty()) {
      error = std::string("the plan needs a non-empty string '") + key + "'";
      return false;
    }
  }
  plan.source = json["source"].get<std::string>();
  plan.kernel = json["kernel"].get<std::string>();
  plan.buildOptions = json.value("build_options", "");
  if (!json.contains("global_size")) {
    error = "the plan needs 'global_size'";
    return false;
  }
  if (!readSizes(json, "global_size", plan.globalSize, error) ||
      !readSizes(json, "local_size", plan.localSize, error)) {
    return false;
  }
  if (!plan.localSize.empty() && plan.localSize.size() != plan.globalSize.size()) {
    error = "'local_size' must have as many dimensions as 'global_size'";
    return false;
  }
  for (std::size_t d = 0; d < plan.localSize.size(); ++d) {
    if (plan.globalSize[d] % plan.localSize[d] != 0) {
      error = "'global_size' must be a multiple of 'local_size' in every dimension (OpenCL 1.2)";
      return false;
    }
  }
  if (!json.contains("args") || !json["args"].is_array()) {
    error = "the plan needs an array 'args'";
    return false;
  }
  for (std::size_t i = 0; i < json["args"].size(); ++i) {
    ArgSpec arg;
    if (!parseArg(json["args"][i], i, arg, error)) return false;
    plan.args.push_back(std::move(arg));
  }
  plan.warmup = json.value("warmup", plan.warmup);
  plan.minTimeSeconds = json.value("min_time_s", plan.minTimeSeconds);
  plan.minRepetitions = json.value("min_repetitions", plan.minRepetitions);
  plan.maxRepetitions = json.value("max_repetitions", plan.maxRepetitions);
  plan.outputDirectory = json.value("output_dir", "");
  if (json.contains("timeout_s")) {
    const auto& timeout = json["timeout_s"];
    if (!timeout.is_number() || !(timeout.get<double>() > 0)) {
      error = "'timeout_s' must be a number of seconds above 0";
      return false;
    }
    plan.timeoutSeconds = timeout.get<double>();
  }
  if (plan.warmup < 0 || plan.minRepetitions < 1 || plan.maxRepetitions < plan.minRepetitions) {
    error = "need warmup >= 0, min_repetitions >= 1 and max_repetitions >= min_repetitions";
    return false;
  }
  return true;
}

nlohmann::json runPlanToJson(const RunPlan& plan) {
  nlohmann::json json = {{"source", plan.source},
                         {"kernel", plan.kernel},
                         {"build_options", plan.buildOptions},
                         {"global_size", plan.globalSize},
                         {"warmup", plan.warmup},
                         {"min_time_s", plan.minTimeSeconds},
                         {"min_repetitions", plan.minRepetitions},
                         {"max_repetitions", plan.maxRepetitions},
                         {"timeout_s", plan.timeoutSeconds}};
  if (!plan.localSize.empty()) json["local_size"] = plan.localSize;
  if (!plan.outputDirectory.empty()) json["output_dir"] = plan.outputDirectory;
  json["args"] = nlohmann::json::array();
  for (const auto& arg : plan.args) {
    nlohmann::json item = {{"kind", argKindName(arg.kind)}, {"type", elementTypeInfo(arg.type).name}};
    if (!arg.name.empty()) item["name"] = arg.name;
    if (arg.kind == ArgKind::kScalar) {
      if (elementTypeInfo(arg.type).isFloat)
        item["value"] = arg.scalarValue;
      else
        item["value"] = arg.scalarInt;
    } else {
      item["elements"] = arg.elements;
    }
    if (arg.kind == ArgKind::kBuffer) {
      item["role"] = argRoleName(arg.role);
      item["generator"] = {{"kind", generatorKindName(arg.generator.kind)},
                           {"lo", arg.generator.lo},
                           {"hi", arg.generator.hi},
                           {"step", arg.generator.step},
                           {"value", arg.generator.value},
                           {"seed", arg.generator.seed}};
    }
    json["args"].push_back(std::move(item));
  }
  return json;
}

double HostArray::valueAsDouble(std::uint64_t i) const {
  switch (type) {
    case ElementType::kChar:
      return as<std::int8_t>()[i];
    case ElementType::kUchar:
      return as<std::uint8_t>()[i];
    case ElementType::kShort:
      return as<std::int16_t>()[i];
    case ElementType::kUshort:
      return as<std::uint16_t>()[i];
    case ElementType::kInt:
      return as<std::int32_t>()[i];
    case ElementType::kUint:
      return as<std::uint32_t>()[i];
    case ElementType::kLong:
      return static_cast<double>(as<std::int64_t>()[i]);
    case ElementType::kUlong:
      return static_cast<double>(as<std::uint64_t>()[i]);
    case ElementType::kFloat:
      return as<float>()[i];
    case ElementType::kDouble:
      return as<double>()[i];
  }
  return 0;
}

std::int64_t HostArray::valueAsInt(std::uint64_t i) const {
  switch (type) {
    case ElementType::kLong:
      return as<std::int64_t>()[i];
    case ElementType::kUlong:
      return static_cast<std::int64_t>(as<std::uint64_t>()[i]);
    default:
      return static_cast<std::int64_t>(valueAsDouble(i));
  }
}

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <typename T>
void store(HostArray& array, std::uint64_t i, double floatValue, std::int64_t intValue) {
  if constexpr (std::is_floating_point_v<T>)
    array.as<T>()[i] = static_cast<T>(floatValue);
  else
    array.as<T>()[i] = static_cast<T>(intValue);
}

void storeValue(HostArray& array, std::uint64_t i, double floatValue, std::int64_t intValue) {
  switch (array.type) {
    case ElementType::kChar:
      return store<std::int8_t>(array, i, floatValue, intValue);
    case ElementType::kUchar:
      return store<std::uint8_t>(array, i, floatValue, intValue);
    case ElementType::kShort:
      return store<std::int16_t>(array, i, floatValue, intValue);
    case ElementType::kUshort:
      return store<std::uint16_t>(array, i, floatValue, intValue);
    case ElementType::kInt:
      return store<std::int32_t>(array, i, floatValue, intValue);
    case ElementType::kUint:
      return store<std::uint32_t>(array, i, floatValue, intValue);
    case ElementType::kLong:
      return store<std::int64_t>(array, i, floatValue, intValue);
    case ElementType::kUlong:
      return store<std::uint64_t>(array, i, floatValue, intValue);
    case ElementType::kFloat:
      return store<float>(array, i, floatValue, intValue);
    case ElementType::kDouble:
      return store<double>(array, i, floatValue, intValue);
  }
}

}  // namespace

HostArray generateBuffer(const ArgSpec& arg) {
  HostArray array;
  array.type = arg.type;
  array.elements = arg.elements;
  array.bytes.assign(arg.bytes(), 0);
  const GeneratorSpec& generator = arg.generator;
  const bool isFloat = elementTypeInfo(arg.type).isFloat;
  switch (generator.kind) {
    case GeneratorKind::kZeros:
      break;
    case GeneratorKind::kConstant:
      for (std::uint64_t i = 0; i < arg.elements; ++i)
        storeValue(array, i, generator.value, static_cast<std::int64_t>(std::floor(generator.value)));
      break;
    case GeneratorKind::kRamp: {
      const auto lo = static_cast<std::int64_t>(std::floor(generator.lo));
      const auto step = static_cast<std::int64_t>(std::floor(generator.step));
      for (std::uint64_t i = 0; i < arg.elements; ++i) {
        storeValue(array, i, generator.lo + static_cast<double>(i) * generator.step,
                   lo + static_cast<std::int64_t>(i) * step);
      }
      break;
    }
    case GeneratorKind::kUniform: {
      std::uint64_t state = generator.seed * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL;
      const double span = generator.hi - generator.lo;
      const auto intLo = static_cast<std::int64_t>(std::floor(generator.lo));
      const auto intSpan =
          static_cast<std::uint64_t>(std::floor(generator.hi) - std::floor(generator.lo)) + 1;
      for (std::uint64_t i = 0; i < arg.elements; ++i) {
        const std::uint64_t bits = splitmix64(state);
        if (isFloat) {
          // 53 random bits -> [0, 1): exact in double, then one rounding to the element type.
          const double unit = static_cast<double>(bits >> 11) * 0x1.0p-53;
          storeValue(array, i, generator.lo + span * unit, 0);
        } else {
          storeValue(array, i, 0, intLo + static_cast<std::int64_t>(bits % intSpan));
        }
      }
      break;
    }
  }
  return array;
}

std::string npyBytes(const HostArray& array) {
  std::string header = "{'descr': '" + std::string(elementTypeInfo(array.type).npyDescr) +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(array.elements) + ",), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xFF);
  bytes += static_cast<char>((header.size() >> 8) & 0xFF);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
  return bytes;
}

bool readNpy(const std::string& path, HostArray& array, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    error = path + ": not a .npy file";
    return false;
  }
  const unsigned major = static_cast<unsigned char>(bytes[6]);
  std::size_t headerLength = 0;
  std::size_t dataStart = 0;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    dataStart = 10 + headerLength;
  } else {
    if (bytes.size() < 12) {
      error = path + ": truncated header";
      return false;
    }
    for (int b = 3; b >= 0; --b)
      headerLength = (headerLength << 8) | static_cast<unsigned char>(bytes[8 + b]);
    dataStart = 12 + headerLength;
  }
  if (bytes.size() < dataStart) {
    error = path + ": truncated header";
    return false;
  }
  const std::string header = bytes.substr(dataStart - headerLength, headerLength);
  const ElementTypeInfo* found = nullptr;
  for (const auto& info : kElementTypes) {
    if (header.find("'" + std::string(info.npyDescr) + "'") != std::string::npos) found = &info;
  }
  if (found == nullptr || header.find("'fortran_order': True") != std::string::npos) {
    error = path + ": unsupported dtype or order in header " + header;
    return false;
  }
  array.type = found->type;
  const std::size_t payload = bytes.size() - dataStart;
  if (payload % found->bytes != 0) {
    error = path + ": data size is not a multiple of the element size";
    return false;
  }
  array.elements = payload / found->bytes;
  array.bytes.assign(bytes.begin() + static_cast<std::ptrdiff_t>(dataStart), bytes.end());
  return true;
}

SampleSummary summarise(std::vector<double> samples) {
  SampleSummary summary;
  if (samples.empty()) return summary;
  std::sort(samples.begin(), samples.end());
  auto quantile = [&](double q) {
    const double position = q * static_cast<double>(samples.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, samples.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return samples[below] + (samples[above] - samples[below]) * fraction;
  };
  summary.median = quantile(0.5);
  summary.iqr = quantile(0.75) - quantile(0.25);
  summary.min = samples.front();
  summary.max = samples.back();
  return summary;
}

std::string outputFileName(std::size_t index, const ArgSpec& arg) {
  std::string name = std::to_string(index);
  if (!arg.name.empty()) {
    name += '_';
    for (char c : arg.name) name += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  }
  return name + ".npy";
}

}  // namespace mirtune::runner
