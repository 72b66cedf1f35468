// The measurement plan shared by mirtune-run and the mirtune_tuner library: argument kinds, element types,
// seeded input generators and the plan's JSON form (std and nlohmann-json only, so the runner stays small).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mirtune::runner {

/// Element types of buffers and scalars, named as in OpenCL C.
enum class ElementType { kChar, kUchar, kShort, kUshort, kInt, kUint, kLong, kUlong, kFloat, kDouble };

struct ElementTypeInfo {
  ElementType type;
  std::string_view name;      ///< OpenCL C name ("float", "uint", ...)
  std::size_t bytes;          ///< size of one element in bytes
  bool isFloat;               ///< float or double
  bool isSigned;              ///< signed integer or floating point
  std::string_view npyDescr;  ///< NumPy dtype string ("<f4", "|i1", ...)
};

inline constexpr std::array<ElementTypeInfo, 10> kElementTypes = {{
    {ElementType::kChar, "char", 1, false, true, "|i1"},
    {ElementType::kUchar, "uchar", 1, false, false, "|u1"},
    {ElementType::kShort, "short", 2, false, true, "<i2"},
    {ElementType::kUshort, "ushort", 2, false, false, "<u2"},
    {ElementType::kInt, "int", 4, false, true, "<i4"},
    {ElementType::kUint, "uint", 4, false, false, "<u4"},
    {ElementType::kLong, "long", 8, false, true, "<i8"},
    {ElementType::kUlong, "ulong", 8, false, false, "<u8"},
    {ElementType::kFloat, "float", 4, true, true, "<f4"},
    {ElementType::kDouble, "double", 8, true, true, "<f8"},
}};

const ElementTypeInfo& elementTypeInfo(ElementType type);
/// Accepts OpenCL C names and their spelled-out forms ("unsigned int", "signed char"); nullopt otherwise.
std::optional<ElementType> parseElementType(std::string_view name);
/// "char, uchar, ..., double" for error messages.
std::string elementTypeList();

enum class ArgKind { kBuffer, kScalar, kLocal };
enum class ArgRole { kIn, kOut, kInOut };
enum class GeneratorKind { kUniform, kRamp, kZeros, kConstant };

std::string_view argKindName(ArgKind kind);
std::string_view argRoleName(ArgRole role);
std::string_view generatorKindName(GeneratorKind kind);

/// How a buffer's initial contents are made. Deterministic in (kind, lo, hi, step, value, seed) and the
/// element type on every machine: the random stream is our own splitmix64, not a std distribution.
struct GeneratorSpec {
  GeneratorKind kind = GeneratorKind::kZeros;
  double lo = 0;           ///< uniform: lowest value; ramp: first value
  double hi = 1;           ///< uniform: highest value (exclusive for floats, inclusive for integers)
  double step = 1;         ///< ramp: increment per element
  double value = 0;        ///< constant: the value
  std::uint64_t seed = 1;  ///< uniform: stream seed
};

/// One kernel argument, in the kernel's parameter order.
struct ArgSpec {
  std::string name;  ///< for messages and output file names; the kernel's own name when empty
  ArgKind kind = ArgKind::kBuffer;
  ElementType type = ElementType::kFloat;
  std::uint64_t elements = 0;   ///< buffer and local: number of elements
  ArgRole role = ArgRole::kIn;  ///< buffer only
  GeneratorSpec generator;      ///< buffer only (out buffers start as zeros unless a generator is given)
  double scalarValue = 0;       ///< scalar: value for float/double
  std::int64_t scalarInt = 0;   ///< scalar: value for integer types (exact for long/ulong)

  std::uint64_t bytes() const { return elements * elementTypeInfo(type).bytes; }
};

/// The limit of a runner mode that is given none (a plan without "timeout_s", a probe without --timeout),
/// seconds: generous, so only a hung driver meets it.
inline constexpr double kDefaultRunnerTimeoutSeconds = 600;

/// Everything `mirtune-run opencl` needs to run and time one kernel on one device.
struct RunPlan {
  std::string source;        ///< OpenCL C file; a relative path is relative to the plan file's folder
  std::string kernel;        ///< kernel function name
  std::string buildOptions;  ///< passed to clBuildProgram (the runner adds -cl-kernel-arg-info)
  std::vector<std::uint64_t> globalSize;  ///< 1 to 3 dimensions, work-items
  std::vector<std::uint64_t> localSize;   ///< empty = let the driver choose; else as many dims as global
  std::vector<ArgSpec> args;
  int warmup = 2;  ///< unmeasured repetitions first (PoCL compiles per local size on first launch)
  double minTimeSeconds = 0.2;  ///< repeat until the measured repetitions' total wall time reaches this...
  int minRepetitions = 3;       ///< ...and at least this many ran...
  int maxRepetitions = 1000;    ///< ...but never more than this many
  std::string outputDirectory;  ///< where out/inout buffers are dumped as <index>_<name>.npy; empty = none
  /// The runner's own limit for the whole plan (device, build, warm-up, repetitions, outputs), seconds: past
  /// it, it writes a build_timeout/run_timeout result and ends, even when no parent watches it.
  double timeoutSeconds = kDefaultRunnerTimeoutSeconds;
};

/// Parses a plan; on failure returns false with a message naming the offending key in `error`.
bool parseRunPlan(const nlohmann::json& json, RunPlan& plan, std::string& error);
/// The plan's JSON form (parseRunPlan reads it back unchanged).
nlohmann::json runPlanToJson(const RunPlan& plan);

/// A typed host array: the bytes of `elements` values of `type`.
struct HostArray {
  ElementType type = ElementType::kFloat;
  std::uint64_t elements = 0;
  std::vector<unsigned char> bytes;

  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(bytes.data());
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(bytes.data());
  }
  /// Element i converted to double (long/ulong beyond 2^53 lose precision).
  double valueAsDouble(std::uint64_t i) const;
  /// Element i as a signed 64-bit integer (ulong wraps); floats are truncated.
  std::int64_t valueAsInt(std::uint64_t i) const;
};

/// The initial contents of a buffer argument: its generator applied, or zeros for an out buffer without one.
HostArray generateBuffer(const ArgSpec& arg);

/// The bytes of a 1-D .npy file (format 1.0) holding `array`.
std::string npyBytes(const HostArray& array);
/// Reads a 1-D .npy file written by npyBytes (or NumPy, C order, little-endian); false with `error`
/// otherwise.
bool readNpy(const std::string& path, HostArray& array, std::string& error);

/// Median and interquartile range (p75 - p25, linear interpolation) of samples; zeros when empty.
struct SampleSummary {
  double median = 0;
  double iqr = 0;
  double min = 0;
  double max = 0;
};
SampleSummary summarise(std::vector<double> samples);

/// Output file name of argument `index` ("2_c.npy").
std::string outputFileName(std::size_t index, const ArgSpec& arg);

}  // namespace mirtune::runner
