// The CUDA harness generator: a T1 KernelSpecification's arguments, fills and measurement settings written as
// a CUDA C++ host program around the kernel file, and each configuration's nvcc build and run.
#include "tasks/tune/CudaHarness.h"

#include "support/Files.h"
#include "support/Sha256.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <regex>

namespace mirtune::tune {
namespace fs = std::filesystem;
namespace {

constexpr const char* kAxes[] = {"X", "Y", "Z"};

Error specError(const TuneSpec& spec, const std::string& what) {
  return makeError(ErrorCode::kInvalidInput, "{}: {}", spec.file.string(), what);
}

/// A parameter value as a -D macro value: bools as 0/1, strings as they are, floats as Python prints them.
std::string macroValue(const nlohmann::json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return ExpressionValue{value.get<double>()}.repr();
  return value.dump();
}

/// The C++ type of an element type.
std::string cppType(runner::ElementType type) {
  switch (type) {
    case runner::ElementType::kChar:
      return "std::int8_t";
    case runner::ElementType::kUchar:
      return "std::uint8_t";
    case runner::ElementType::kShort:
      return "std::int16_t";
    case runner::ElementType::kUshort:
      return "std::uint16_t";
    case runner::ElementType::kInt:
      return "std::int32_t";
    case runner::ElementType::kUint:
      return "std::uint32_t";
    case runner::ElementType::kLong:
      return "std::int64_t";
    case runner::ElementType::kUlong:
      return "std::uint64_t";
    case runner::ElementType::kFloat:
      return "float";
    case runner::ElementType::kDouble:
      return "double";
  }
  return "float";
}

/// A double as a C++ literal that reads back exactly.
std::string doubleLiteral(double value) {
  if (std::isnan(value)) return "std::numeric_limits<double>::quiet_NaN()";
  if (std::isinf(value)) return value > 0 ? "HUGE_VAL" : "-HUGE_VAL";
  std::string text = fmt::format("{:.17g}", value);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

/// A string as a C++ string literal.
std::string stringLiteral(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (std::isprint(static_cast<unsigned char>(c))) {
      out += c;
    } else {
      out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    }
  }
  return out + "\"";
}

/// An argument name as part of a file name.
std::string fileSafe(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c : '_';
  return out.empty() ? "arg" : out;
}

/// The raw KernelSpecification of a T1 file, for the keys only CUDA uses (MemType, SharedMemory).
Expected<nlohmann::json> rawKernelSpecification(const TuneSpec& spec) {
  auto text = readFile(spec.file);
  if (!text) return text.error();
  const nlohmann::json root = nlohmann::json::parse(*text, nullptr, false);
  if (!root.is_object() || !root.contains("KernelSpecification"))
    return specError(spec, "KernelSpecification: missing");
  return root["KernelSpecification"];
}

// The fixed part of every harness: includes, checks, fills, .npy files, the output comparison.
constexpr const char* kPrelude = R"cuda(
#include <cuda_runtime.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

/// A CUDA call that failed ends the program with its error: a clean run failure for the tuner.
void mirtuneCheck(cudaError_t status, const char* what, int line) {
  if (status == cudaSuccess) return;
  std::fprintf(stderr, "mirtune harness: %s (harness line %d): %s: %s\n", what, line, cudaGetErrorName(status),
               cudaGetErrorString(status));
  std::exit(2);
}
#define MIRTUNE_CHECK(call) mirtuneCheck((call), #call, __LINE__)

std::uint64_t mirtuneSplitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The fills are those of mirtune-run's generators, so an OpenCL and a CUDA spec see the same inputs.
template <typename T>
void mirtuneFillUniform(std::vector<T>& values, std::uint64_t seed, double lo, double hi) {
  std::uint64_t state = seed * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL;
  const double span = hi - lo;
  const long long intLo = static_cast<long long>(std::floor(lo));
  const unsigned long long intSpan = static_cast<unsigned long long>(std::floor(hi) - std::floor(lo)) + 1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint64_t bits = mirtuneSplitmix(state);
    if (std::is_floating_point<T>::value) {
      values[i] = static_cast<T>(lo + span * (static_cast<double>(bits >> 11) / 9007199254740992.0));
    } else {
      values[i] = static_cast<T>(intLo + static_cast<long long>(bits % intSpan));
    }
  }
}

template <typename T>
void mirtuneFillRamp(std::vector<T>& values, double lo, double step) {
  const long long intLo = static_cast<long long>(std::floor(lo));
  const long long intStep = static_cast<long long>(std::floor(step));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::is_floating_point<T>::value) {
      values[i] = static_cast<T>(lo + static_cast<double>(i) * step);
    } else {
      values[i] = static_cast<T>(intLo + static_cast<long long>(i) * intStep);
    }
  }
}

template <typename T>
void mirtuneFillConstant(std::vector<T>& values, double value) {
  const T element = std::is_floating_point<T>::value ? static_cast<T>(value)
                                                     : static_cast<T>(static_cast<long long>(std::floor(value)));
  std::fill(values.begin(), values.end(), element);
}

/// The .npy (version 1) header of a one-dimensional array, as mirtune-run writes it.
std::string mirtuneNpyHeader(const char* descr, std::size_t count) {
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" +
                       std::to_string(count) + ",), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xFF);
  bytes += static_cast<char>((header.size() >> 8) & 0xFF);
  return bytes + header;
}

void mirtuneMakeFolders(const std::string& path) {
  for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = slash == std::string::npos ? path : path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      std::fprintf(stderr, "mirtune harness: cannot create %s\n", prefix.c_str());
      std::exit(2);
    }
    if (slash == std::string::npos) return;
  }
}

template <typename T>
void mirtuneWrite(const std::string& file, const std::vector<T>& values, const char* descr) {
  const std::string header = mirtuneNpyHeader(descr, values.size());
  std::FILE* out = std::fopen(file.c_str(), "wb");
  if (out == nullptr || std::fwrite(header.data(), 1, header.size(), out) != header.size() ||
      std::fwrite(values.data(), sizeof(T), values.size(), out) != values.size() || std::fclose(out) != 0) {
    std::fprintf(stderr, "mirtune harness: cannot write %s\n", file.c_str());
    std::exit(2);
  }
}

/// Compares `values` with the .npy file `file`: floats agree within atol + rtol * |expected| (NaN with NaN),
/// integers exactly. Returns "" when they agree, "missing" when there is no such file, else what differs.
template <typename T>
std::string mirtuneCompare(const std::string& file, const std::vector<T>& values, const char* descr,
                           const char* name, double rtol, double atol) {
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (in == nullptr) return "missing";
  const std::string header = mirtuneNpyHeader(descr, values.size());
  std::string found(header.size(), '\0');
  std::vector<T> expected(values.size());
  const bool read = std::fread(&found[0], 1, found.size(), in) == found.size() && found == header &&
                    std::fread(expected.data(), sizeof(T), expected.size(), in) == expected.size() &&
                    std::fgetc(in) == EOF;
  std::fclose(in);
  if (!read) return std::string(name) + ": the reference " + file + " is not an array of the same type and size";
  std::size_t differing = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool equal;
    if (std::is_floating_point<T>::value) {
      const double a = static_cast<double>(values[i]);
      const double e = static_cast<double>(expected[i]);
      equal = (std::isnan(a) && std::isnan(e)) || std::fabs(a - e) <= atol + rtol * std::fabs(e);
    } else {
      equal = values[i] == expected[i];
    }
    if (!equal && differing++ == 0) first = i;
  }
  if (differing == 0) return "";
  char text[512];
  std::snprintf(text, sizeof text, "%s differs first at index %zu (%.9g vs expected %.9g; %zu of %zu elements differ)",
                name, first, static_cast<double>(values[first]), static_cast<double>(expected[first]), differing,
                values.size());
  return text;
}

}  // namespace
)cuda";

}  // namespace

std::string CudaHarness::outputFolder(const Configuration& configuration) {
  return fmt::format("{}/{}", kCudaOutputsFolder, configurationHash(configuration).substr(0, 16));
}

std::map<std::string, std::string> CudaHarness::files() const {
  return {{kCudaHarnessFile, source_}, {kernelFileName_, kernelText_}};
}

Expected<CudaHarness> CudaHarness::generate(const TuneSpec& spec) {
  if (!spec.kernel || spec.kernel->language != "CUDA")
    return specError(spec, "KernelSpecification.Language: the CUDA harness is for CUDA kernels");
  const KernelLaunch& kernel = *spec.kernel;
  CudaHarness harness;
  harness.geometry_ = spec;
  harness.geometry_.kernel->language = "OpenCL";  // buildRunPlan's geometry and sizes, read for CUDA
  harness.default_ = spec.space.defaultConfiguration();
  if (kernel.localSize.empty()) {
    return specError(spec,
                     "KernelSpecification.LocalSize: required for a CUDA kernel (the threads per block)");
  }
  static const std::regex kKernelName(R"(^[A-Za-z_][A-Za-z0-9_:]*(<[^;{}"'\\]*>)?$)");
  if (!std::regex_match(kernel.kernelName, kKernelName)) {
    return specError(spec,
                     fmt::format("KernelSpecification.KernelName: '{}' is not a C++ function name (with "
                                 "template arguments)",
                                 kernel.kernelName));
  }
  harness.kernelFileName_ = kernel.kernelFile.filename().string();
  if (harness.kernelFileName_ == kCudaHarnessFile) {
    return specError(spec, fmt::format("KernelSpecification.KernelFile: a kernel file may not be named {}",
                                       kCudaHarnessFile));
  }
  auto kernelText = readFile(kernel.kernelFile);
  if (!kernelText) return kernelText.error();
  harness.kernelText_ = std::move(*kernelText);
  auto raw = rawKernelSpecification(spec);
  if (!raw) return raw.error();
  if (raw->contains("SharedMemory") && !(*raw)["SharedMemory"].is_null()) {
    const nlohmann::json& shared = (*raw)["SharedMemory"];
    auto parsed =
        shared.is_number_integer() && shared.get<std::int64_t>() >= 0
            ? Expected<Expression>(Expression::constant(ExpressionValue{shared.get<std::int64_t>()}))
        : shared.is_string() ? Expression::parse(shared.get<std::string>())
                             : Expected<Expression>(specError(spec, "not a byte count"));
    if (!parsed) {
      return specError(spec,
                       fmt::format("KernelSpecification.SharedMemory: {} (a byte count, or an expression "
                                   "over the parameters giving one)",
                                   parsed.error().message()));
    }
    harness.sharedMemory_ = *parsed;
  }
  auto plan = buildRunPlan(harness.geometry_, harness.default_);
  if (!plan) return plan.error();

  const TuneSettings& settings = spec.settings;
  std::string& out = harness.source_;
  out += fmt::format(
      "// Generated by mirtune from {}: the host program that fills the arguments of {}, launches it, "
      "writes\n"
      "// its outputs as .npy files, compares them with the default configuration's and prints its time.\n"
      "// Build: nvcc -DMIRTUNE_GRID_X=.. -DMIRTUNE_GRID_Y=.. -DMIRTUNE_GRID_Z=.. -DMIRTUNE_BLOCK_X=.. ..\n"
      "//        -DMIRTUNE_SHARED_BYTES=.. [-Dparameter=value ...] {}\n"
      "// Run:   ./program OUTPUT_FOLDER [REFERENCE_FOLDER]\n",
      spec.file.filename().string(), kernel.kernelName, kCudaHarnessFile);
  // The parameters' -D macros are for the kernel: the library headers and the harness's helpers do not see
  // them (a parameter named `size` or `i` would break them).
  std::string push;
  std::string pop;
  for (const TunableParameter& parameter : spec.space.parameters()) {
    push += fmt::format("#pragma push_macro(\"{}\")\n#undef {}\n", parameter.name, parameter.name);
    pop += fmt::format("#pragma pop_macro(\"{}\")\n", parameter.name);
  }
  out += "\n" + push;
  out += kPrelude;
  out += "\n" + pop;
  out += fmt::format("\n#include {}\n\n", stringLiteral(harness.kernelFileName_));
  out += R"cuda(#if !defined(MIRTUNE_GRID_X) || !defined(MIRTUNE_GRID_Y) || !defined(MIRTUNE_GRID_Z) || \
    !defined(MIRTUNE_BLOCK_X) || !defined(MIRTUNE_BLOCK_Y) || !defined(MIRTUNE_BLOCK_Z)
#error "build with the launch of one configuration: -DMIRTUNE_GRID_X=.. (Y, Z) -DMIRTUNE_BLOCK_X=.. (Y, Z)"
#endif
#ifndef MIRTUNE_SHARED_BYTES
#define MIRTUNE_SHARED_BYTES 0
#endif

int main(int mirtuneArgc, char** mirtuneArgv) {
  if (mirtuneArgc != 2 && mirtuneArgc != 3) {
    std::fprintf(stderr, "usage: %s OUTPUT_FOLDER [REFERENCE_FOLDER]\n", mirtuneArgv[0]);
    return 64;
  }
  const std::string mirtuneOutputs = mirtuneArgv[1];
  const std::string mirtuneReference = mirtuneArgc == 3 ? mirtuneArgv[2] : "";
  int mirtuneDevices = 0;
  const cudaError_t mirtuneProbe = cudaGetDeviceCount(&mirtuneDevices);
  if (mirtuneProbe != cudaSuccess || mirtuneDevices == 0) {
    std::fprintf(stderr, "mirtune harness: no CUDA device (%s)\n",
                 mirtuneProbe != cudaSuccess ? cudaGetErrorString(mirtuneProbe) : "the driver lists none");
    return 3;
  }
  MIRTUNE_CHECK(cudaSetDevice(0));
  mirtuneMakeFolders(mirtuneOutputs);
)cuda";
  out += fmt::format("  const double mirtuneRtol = {};\n  const double mirtuneAtol = {};\n",
                     doubleLiteral(settings.tolerance.relative), doubleLiteral(settings.tolerance.absolute));

  const std::string& kernelSource = harness.kernelText_;
  std::vector<std::string> callArguments;
  std::vector<std::string> readBack;  // statements after the checked launch
  std::uint64_t localBytes = 0;
  for (std::size_t i = 0; i < plan->args.size(); ++i) {
    const runner::ArgSpec& arg = plan->args[i];
    const runner::ElementTypeInfo& info = runner::elementTypeInfo(arg.type);
    const std::string type = cppType(arg.type);
    const std::string key = fmt::format("KernelSpecification.Arguments[{}]", i);
    const std::string name = fmt::format("mirtuneArg{}", i);
    const std::string host = fmt::format("mirtuneHost{}", i);
    out += fmt::format("  // Argument {} '{}': ", i, arg.name);
    if (arg.kind == runner::ArgKind::kScalar) {
      const std::string value =
          info.isFloat ? doubleLiteral(arg.scalarValue) : fmt::format("{}LL", arg.scalarInt);
      out += fmt::format("scalar ({}).\n  const {} {} = static_cast<{}>({});\n", info.name, type, name, type,
                         value);
      callArguments.push_back(name);
      continue;
    }
    if (arg.kind == runner::ArgKind::kLocal) {
      // OpenCL's local arguments are CUDA's dynamic shared memory: sized here, declared extern in the kernel.
      localBytes += arg.bytes();
      out += fmt::format("{} bytes of dynamic shared memory (not a parameter).\n", arg.bytes());
      continue;
    }
    const bool constantMemory = [&] {
      const nlohmann::json& entries = raw->value("Arguments", nlohmann::json::array());
      return i < entries.size() && entries[i].is_object() && entries[i].value("MemType", "") == "Constant";
    }();
    const std::string count = fmt::format("{}ULL", arg.elements);
    out += fmt::format("{} x {}, {}.\n", arg.elements, info.name, runner::argRoleName(arg.role));
    out += fmt::format("  std::vector<{}> {}({});\n", type, host, count);
    const runner::GeneratorSpec& generator = arg.generator;
    switch (generator.kind) {
      case runner::GeneratorKind::kUniform:
        out += fmt::format("  mirtuneFillUniform({}, {}ULL, {}, {});\n", host, generator.seed,
                           doubleLiteral(generator.lo), doubleLiteral(generator.hi));
        break;
      case runner::GeneratorKind::kRamp:
        out += fmt::format("  mirtuneFillRamp({}, {}, {});\n", host, doubleLiteral(generator.lo),
                           doubleLiteral(generator.step));
        break;
      case runner::GeneratorKind::kConstant:
        out += fmt::format("  mirtuneFillConstant({}, {});\n", host, doubleLiteral(generator.value));
        break;
      case runner::GeneratorKind::kZeros:
        break;
    }
    out += fmt::format("  {}* {} = nullptr;\n", type, name);
    out += fmt::format("  MIRTUNE_CHECK(cudaMalloc(&{}, {} * sizeof({})));\n", name, count, type);
    out +=
        fmt::format("  MIRTUNE_CHECK(cudaMemcpy({}, {}.data(), {} * sizeof({}), cudaMemcpyHostToDevice));\n",
                    name, host, count, type);
    if (constantMemory) {
      // Kernel Tuner's constant-memory arguments: the data also goes to the kernel's __constant__ variable.
      const std::regex declared("__constant__[^;]*\\b" + arg.name + "\\b");
      static const std::regex kIdentifier("^[A-Za-z_][A-Za-z0-9_]*$");
      if (!std::regex_match(arg.name, kIdentifier) || !std::regex_search(kernelSource, declared)) {
        return specError(
            spec, fmt::format("{}.MemType: Constant, but {} declares no __constant__ variable '{}'", key,
                              kernel.kernelFile.string(), arg.name));
      }
      out += fmt::format(
          "  MIRTUNE_CHECK(cudaMemcpyToSymbol({}, {}.data(), std::min<std::size_t>(sizeof({}), {} * "
          "sizeof({}))));\n",
          arg.name, host, arg.name, count, type);
    }
    callArguments.push_back(name);
    if (arg.role == runner::ArgRole::kIn) continue;
    const std::string file = fmt::format("{}_{}.npy", i, fileSafe(arg.name));
    harness.outputFiles_.push_back(file);
    out += fmt::format("  std::remove((mirtuneOutputs + \"/{}\").c_str());\n", file);
    readBack.push_back(
        fmt::format("  MIRTUNE_CHECK(cudaMemcpy({}.data(), {}, {} * sizeof({}), cudaMemcpyDeviceToHost));\n"
                    "  mirtuneWrite(mirtuneOutputs + \"/{}\", {}, \"{}\");\n"
                    "  if (!mirtuneReference.empty()) {{\n"
                    "    const std::string mirtuneFound = mirtuneCompare(mirtuneReference + \"/{}\", {}, "
                    "\"{}\", {}, mirtuneRtol, "
                    "mirtuneAtol);\n"
                    "    if (mirtuneFound == \"missing\") {{\n"
                    "      mirtuneMissing = true;\n"
                    "    }} else if (!mirtuneFound.empty() && mirtuneVerdict.empty()) {{\n"
                    "      mirtuneVerdict = mirtuneFound;\n"
                    "    }}\n"
                    "  }}\n",
                    host, name, count, type, file, host, info.npyDescr, file, host, info.npyDescr,
                    stringLiteral(arg.name)));
  }
  out += fmt::format("  const unsigned long long mirtuneLocalBytes = {}ULL;\n", localBytes);
  std::string call;
  for (const std::string& argument : callArguments) call += (call.empty() ? "" : ", ") + argument;
  out += fmt::format(R"cuda(
  const dim3 mirtuneGrid(MIRTUNE_GRID_X, MIRTUNE_GRID_Y, MIRTUNE_GRID_Z);
  const dim3 mirtuneBlock(MIRTUNE_BLOCK_X, MIRTUNE_BLOCK_Y, MIRTUNE_BLOCK_Z);
  const std::size_t mirtuneShared = static_cast<std::size_t>(MIRTUNE_SHARED_BYTES) + mirtuneLocalBytes;
  auto mirtuneLaunch = [&]() {{
    {}<<<mirtuneGrid, mirtuneBlock, mirtuneShared>>>({});
    MIRTUNE_CHECK(cudaGetLastError());
  }};

  // The checked launch: fresh inputs, and the outputs read back before a repetition can change them.
  mirtuneLaunch();
  MIRTUNE_CHECK(cudaDeviceSynchronize());
  bool mirtuneMissing = false;
  std::string mirtuneVerdict;
)cuda",
                     kernel.kernelName, call);
  for (const std::string& statement : readBack) out += statement;
  out += fmt::format(R"cuda(  if (!mirtuneVerdict.empty()) {{
    std::printf("mirtune-check: failed: %s\n", mirtuneVerdict.c_str());
    return 0;
  }}

  const int mirtuneWarmup = {};
  const double mirtuneMinTime = {};
  const int mirtuneMinRepetitions = {};
  const int mirtuneMaxRepetitions = {};
  for (int mirtuneRun = 0; mirtuneRun < mirtuneWarmup; ++mirtuneRun) mirtuneLaunch();
  MIRTUNE_CHECK(cudaDeviceSynchronize());
  cudaEvent_t mirtuneStart, mirtuneStop;
  MIRTUNE_CHECK(cudaEventCreate(&mirtuneStart));
  MIRTUNE_CHECK(cudaEventCreate(&mirtuneStop));
  std::vector<double> mirtuneTimes;
  double mirtuneTotal = 0;
  while (static_cast<int>(mirtuneTimes.size()) < mirtuneMaxRepetitions &&
         (static_cast<int>(mirtuneTimes.size()) < mirtuneMinRepetitions || mirtuneTotal < mirtuneMinTime)) {{
    MIRTUNE_CHECK(cudaEventRecord(mirtuneStart));
    mirtuneLaunch();
    MIRTUNE_CHECK(cudaEventRecord(mirtuneStop));
    MIRTUNE_CHECK(cudaEventSynchronize(mirtuneStop));
    float mirtuneMilliseconds = 0;
    MIRTUNE_CHECK(cudaEventElapsedTime(&mirtuneMilliseconds, mirtuneStart, mirtuneStop));
    mirtuneTimes.push_back(mirtuneMilliseconds / 1e3);
    mirtuneTotal += mirtuneMilliseconds / 1e3;
  }}
  std::vector<double> mirtuneSorted = mirtuneTimes;
  std::sort(mirtuneSorted.begin(), mirtuneSorted.end());
  const std::size_t mirtuneMiddle = mirtuneSorted.size() / 2;
  const double mirtuneMedian = mirtuneSorted.size() % 2 == 1
                                   ? mirtuneSorted[mirtuneMiddle]
                                   : (mirtuneSorted[mirtuneMiddle - 1] + mirtuneSorted[mirtuneMiddle]) / 2;
  std::fprintf(stderr, "mirtune harness: %zu launches, median %.9g s, fastest %.9g s\n", mirtuneSorted.size(),
               mirtuneMedian, mirtuneSorted.front());
  std::printf("mirtune-region-seconds: %.9g\n", mirtuneMedian);
  if (!mirtuneReference.empty()) {{
    if (mirtuneMissing) {{
      // Not a verdict: without the default's outputs the tuner decides (the default failed, or was not run).
      std::printf("mirtune-reference: missing in %s\n", mirtuneReference.c_str());
    }} else {{
      std::printf("mirtune-check: ok\n");
    }}
  }}
  return 0;
}}
)cuda",
                     settings.warmup, doubleLiteral(settings.minTimeSeconds),
                     std::max(1, settings.minRepetitions), std::max(1, settings.maxRepetitions));
  return harness;
}

Expected<CudaLaunch> CudaHarness::launch(const Configuration& configuration) const {
  auto plan = buildRunPlan(geometry_, configuration);
  if (!plan) return plan.error();
  CudaLaunch launch;
  const std::string label = configurationLabel(geometry_.space, configuration);
  for (std::size_t d = 0; d < plan->globalSize.size(); ++d) {
    const std::uint64_t block = d < plan->localSize.size() ? plan->localSize[d] : 1;
    launch.block[d] = block;
    launch.grid[d] = plan->globalSize[d] / block;
  }
  for (std::size_t d = 0; d < 3; ++d) {
    // dim3 holds unsigned ints: a larger value would wrap around to another launch.
    if (launch.grid[d] > std::numeric_limits<std::uint32_t>::max() ||
        launch.block[d] > std::numeric_limits<std::uint32_t>::max()) {
      return specError(geometry_,
                       fmt::format("for {}: the launch (grid {}, block {} in {}) does not fit CUDA's "
                                   "dimensions",
                                   label, launch.grid[d], launch.block[d], kAxes[d]));
    }
  }
  if (sharedMemory_) {
    ExpressionScope scope = configurationScope(geometry_, configuration);
    std::vector<ExpressionValue> problem;
    for (std::int64_t size : geometry_.kernel->problemSize) {
      ExpressionValue value;
      value.value = size;
      problem.push_back(std::move(value));
    }
    if (!problem.empty()) scope["ProblemSize"] = ExpressionValue{problem};
    auto value = sharedMemory_->evaluate(scope);
    if (!value) {
      return specError(geometry_, fmt::format("KernelSpecification.SharedMemory for {}: {}", label,
                                              value.error().message()));
    }
    const auto* bytes = std::get_if<std::int64_t>(&value->value);
    if (bytes == nullptr || *bytes < 0) {
      return specError(
          geometry_, fmt::format("KernelSpecification.SharedMemory for {}: gives {}, not a byte count", label,
                                 value->repr()));
    }
    launch.sharedBytes = static_cast<std::uint64_t>(*bytes);
  }
  return launch;
}

CandidateCommands CudaHarness::commands(const Configuration& configuration,
                                        const CudaBuildOptions& options) const {
  CandidateCommands commands;
  commands.runEnvironment["CUDA_MODULE_LOADING"] =
      "EAGER";  // modules load with the context, before any timing
  if (!options.device.empty()) commands.runEnvironment["CUDA_VISIBLE_DEVICES"] = options.device;
  auto launch = this->launch(configuration);
  if (!launch) {
    // Not built: the run says why the spec rejects this launch and fails, as the OpenCL path records it.
    commands.runArgv = {"sh", "-c", "printf '%s\\n' \"$0\" >&2; exit 2", launch.error().message()};
    return commands;
  }
  const KernelLaunch& kernel = *geometry_.kernel;
  commands.buildArgv = {options.nvcc};
  bool archGiven = false;
  for (const std::string& option : kernel.compilerOptions) {
    commands.buildArgv.push_back(option);
    archGiven = archGiven || option.rfind("-arch", 0) == 0 || option.rfind("--gpu-architecture", 0) == 0 ||
                option.rfind("-gencode", 0) == 0 || option.rfind("--generate-code", 0) == 0;
  }
  if (!options.arch.empty() && !archGiven) commands.buildArgv.push_back("-arch=" + options.arch);
  for (const TunableParameter& parameter : geometry_.space.parameters()) {
    commands.buildArgv.push_back(
        fmt::format("-D{}={}", parameter.name, macroValue(configuration.at(parameter.name))));
  }
  for (std::size_t d = 0; d < 3; ++d) {
    commands.buildArgv.push_back(fmt::format("-DMIRTUNE_GRID_{}={}", kAxes[d], launch->grid[d]));
    commands.buildArgv.push_back(fmt::format("-DMIRTUNE_BLOCK_{}={}", kAxes[d], launch->block[d]));
  }
  commands.buildArgv.push_back(fmt::format("-DMIRTUNE_SHARED_BYTES={}", launch->sharedBytes));
  commands.buildArgv.insert(commands.buildArgv.end(), {"-o", kBinaryPlaceholder, kCudaHarnessFile});
  std::string joined;
  for (const std::string& element : commands.buildArgv) joined += element + '\0';
  commands.buildKey = sha256Hex(joined);
  commands.runArgv = {kBinaryPlaceholder, outputFolder(configuration)};
  if (configurationHash(configuration) != configurationHash(default_)) {
    commands.runArgv.push_back(outputFolder(default_));
  }
  return commands;
}

}  // namespace mirtune::tune
