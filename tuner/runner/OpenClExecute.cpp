// One plan on one OpenCL device: build, check arguments, warm up, repeat with profiling events, dump outputs.
#include "tuner/runner/OpenClExecute.h"

#include "support/MeasureStatus.h"

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

namespace mirtune::runner {

namespace {

const char* clErrorName(cl_int code) {
  switch (code) {
#define MIRTUNE_CL_ERROR(name) \
  case name:                   \
    return #name;
    MIRTUNE_CL_ERROR(CL_SUCCESS)
    MIRTUNE_CL_ERROR(CL_DEVICE_NOT_FOUND)
    MIRTUNE_CL_ERROR(CL_DEVICE_NOT_AVAILABLE)
    MIRTUNE_CL_ERROR(CL_COMPILER_NOT_AVAILABLE)
    MIRTUNE_CL_ERROR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    MIRTUNE_CL_ERROR(CL_OUT_OF_RESOURCES)
    MIRTUNE_CL_ERROR(CL_OUT_OF_HOST_MEMORY)
    MIRTUNE_CL_ERROR(CL_PROFILING_INFO_NOT_AVAILABLE)
    MIRTUNE_CL_ERROR(CL_MEM_COPY_OVERLAP)
    MIRTUNE_CL_ERROR(CL_IMAGE_FORMAT_MISMATCH)
    MIRTUNE_CL_ERROR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    MIRTUNE_CL_ERROR(CL_BUILD_PROGRAM_FAILURE)
    MIRTUNE_CL_ERROR(CL_MAP_FAILURE)
    MIRTUNE_CL_ERROR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    MIRTUNE_CL_ERROR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    MIRTUNE_CL_ERROR(CL_COMPILE_PROGRAM_FAILURE)
    MIRTUNE_CL_ERROR(CL_LINKER_NOT_AVAILABLE)
    MIRTUNE_CL_ERROR(CL_LINK_PROGRAM_FAILURE)
    MIRTUNE_CL_ERROR(CL_DEVICE_PARTITION_FAILED)
    MIRTUNE_CL_ERROR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    MIRTUNE_CL_ERROR(CL_INVALID_VALUE)
    MIRTUNE_CL_ERROR(CL_INVALID_DEVICE_TYPE)
    MIRTUNE_CL_ERROR(CL_INVALID_PLATFORM)
    MIRTUNE_CL_ERROR(CL_INVALID_DEVICE)
    MIRTUNE_CL_ERROR(CL_INVALID_CONTEXT)
    MIRTUNE_CL_ERROR(CL_INVALID_QUEUE_PROPERTIES)
    MIRTUNE_CL_ERROR(CL_INVALID_COMMAND_QUEUE)
    MIRTUNE_CL_ERROR(CL_INVALID_HOST_PTR)
    MIRTUNE_CL_ERROR(CL_INVALID_MEM_OBJECT)
    MIRTUNE_CL_ERROR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    MIRTUNE_CL_ERROR(CL_INVALID_IMAGE_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_SAMPLER)
    MIRTUNE_CL_ERROR(CL_INVALID_BINARY)
    MIRTUNE_CL_ERROR(CL_INVALID_BUILD_OPTIONS)
    MIRTUNE_CL_ERROR(CL_INVALID_PROGRAM)
    MIRTUNE_CL_ERROR(CL_INVALID_PROGRAM_EXECUTABLE)
    MIRTUNE_CL_ERROR(CL_INVALID_KERNEL_NAME)
    MIRTUNE_CL_ERROR(CL_INVALID_KERNEL_DEFINITION)
    MIRTUNE_CL_ERROR(CL_INVALID_KERNEL)
    MIRTUNE_CL_ERROR(CL_INVALID_ARG_INDEX)
    MIRTUNE_CL_ERROR(CL_INVALID_ARG_VALUE)
    MIRTUNE_CL_ERROR(CL_INVALID_ARG_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_KERNEL_ARGS)
    MIRTUNE_CL_ERROR(CL_INVALID_WORK_DIMENSION)
    MIRTUNE_CL_ERROR(CL_INVALID_WORK_GROUP_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_WORK_ITEM_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_GLOBAL_OFFSET)
    MIRTUNE_CL_ERROR(CL_INVALID_EVENT_WAIT_LIST)
    MIRTUNE_CL_ERROR(CL_INVALID_EVENT)
    MIRTUNE_CL_ERROR(CL_INVALID_OPERATION)
    MIRTUNE_CL_ERROR(CL_INVALID_GL_OBJECT)
    MIRTUNE_CL_ERROR(CL_INVALID_BUFFER_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_MIP_LEVEL)
    MIRTUNE_CL_ERROR(CL_INVALID_GLOBAL_WORK_SIZE)
    MIRTUNE_CL_ERROR(CL_INVALID_PROPERTY)
    MIRTUNE_CL_ERROR(CL_INVALID_IMAGE_DESCRIPTOR)
    MIRTUNE_CL_ERROR(CL_INVALID_COMPILER_OPTIONS)
    MIRTUNE_CL_ERROR(CL_INVALID_LINKER_OPTIONS)
    MIRTUNE_CL_ERROR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef MIRTUNE_CL_ERROR
    default:
      return "CL_UNKNOWN_ERROR";
  }
}

/// A failure inside this file; caught at the two entry points and turned into the result's status.
struct Failure {
  std::string status;  ///< a measureStatusName, or kInvalidPlanStatusName
  std::string message;
  std::string buildLog;
  std::string openclError;
};

[[noreturn]] void fail(std::string_view status, std::string message) {
  throw Failure{std::string(status), std::move(message), "", ""};
}

/// Written names of the outcomes this file reports.
const std::string kOkName(measureStatusName(MeasureStatus::kOk));
const std::string kBuildFailedName(measureStatusName(MeasureStatus::kBuildFailed));
const std::string kRunFailedName(measureStatusName(MeasureStatus::kRunFailed));

void check(cl_int code, const char* what) {
  if (code != CL_SUCCESS) {
    throw Failure{kRunFailedName, fmt::format("{} failed: {} ({})", what, clErrorName(code), code), "",
                  clErrorName(code)};
  }
}

template <typename T, cl_int (*Release)(T)>
struct Releaser {
  void operator()(T handle) const {
    if (handle != nullptr) Release(handle);
  }
};
using Context = std::unique_ptr<std::remove_pointer_t<cl_context>, Releaser<cl_context, clReleaseContext>>;
using Queue = std::unique_ptr<std::remove_pointer_t<cl_command_queue>,
                              Releaser<cl_command_queue, clReleaseCommandQueue>>;
using Program = std::unique_ptr<std::remove_pointer_t<cl_program>, Releaser<cl_program, clReleaseProgram>>;
using Kernel = std::unique_ptr<std::remove_pointer_t<cl_kernel>, Releaser<cl_kernel, clReleaseKernel>>;
using Memory = std::unique_ptr<std::remove_pointer_t<cl_mem>, Releaser<cl_mem, clReleaseMemObject>>;
using Event = std::unique_ptr<std::remove_pointer_t<cl_event>, Releaser<cl_event, clReleaseEvent>>;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\0' || text.back() == ' ' || text.back() == '\n')) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && text[start] == ' ') ++start;
  return text.substr(start);
}

template <typename Query, typename Handle, typename Info>
std::string queryString(Query query, Handle handle, Info info) {
  std::size_t size = 0;
  if (query(handle, info, 0, nullptr, &size) != CL_SUCCESS) return "";
  std::string text(size, '\0');
  if (query(handle, info, size, text.data(), nullptr) != CL_SUCCESS) return "";
  return trimmed(std::move(text));
}

struct DeviceHandle {
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  nlohmann::json description;
};

DeviceHandle selectDevice(int platformIndex, int deviceIndex) {
  cl_uint platformCount = 0;
  cl_int status = clGetPlatformIDs(0, nullptr, &platformCount);
  if (status != CL_SUCCESS || platformCount == 0) {
    fail(kRunFailedName, "no OpenCL platform is installed (the ICD loader found none)");
  }
  std::vector<cl_platform_id> platforms(platformCount);
  check(clGetPlatformIDs(platformCount, platforms.data(), nullptr), "clGetPlatformIDs");
  if (platformIndex < 0 || static_cast<cl_uint>(platformIndex) >= platformCount) {
    fail(kInvalidPlanStatusName,
         fmt::format("no OpenCL platform {} (there are {})", platformIndex, platformCount));
  }
  DeviceHandle handle;
  handle.platform = platforms[static_cast<std::size_t>(platformIndex)];
  cl_uint deviceCount = 0;
  status = clGetDeviceIDs(handle.platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &deviceCount);
  if (status != CL_SUCCESS && status != CL_DEVICE_NOT_FOUND) check(status, "clGetDeviceIDs");
  if (deviceIndex < 0 || static_cast<cl_uint>(deviceIndex) >= deviceCount) {
    fail(kInvalidPlanStatusName,
         fmt::format("platform {} has no device {} (it has {})", platformIndex, deviceIndex, deviceCount));
  }
  std::vector<cl_device_id> devices(deviceCount);
  check(clGetDeviceIDs(handle.platform, CL_DEVICE_TYPE_ALL, deviceCount, devices.data(), nullptr),
        "clGetDeviceIDs");
  handle.device = devices[static_cast<std::size_t>(deviceIndex)];
  cl_device_type type = 0;
  clGetDeviceInfo(handle.device, CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
  std::string typeName = (type & CL_DEVICE_TYPE_GPU) != 0           ? "GPU"
                         : (type & CL_DEVICE_TYPE_CPU) != 0         ? "CPU"
                         : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "ACCEL"
                                                                    : "OTHER";
  handle.description = {{"platform_index", platformIndex},
                        {"device_index", deviceIndex},
                        {"platform", queryString(clGetPlatformInfo, handle.platform, CL_PLATFORM_NAME)},
                        {"name", queryString(clGetDeviceInfo, handle.device, CL_DEVICE_NAME)},
                        {"type", typeName},
                        {"vendor", queryString(clGetDeviceInfo, handle.device, CL_DEVICE_VENDOR)},
                        {"driver_version", queryString(clGetDeviceInfo, handle.device, CL_DRIVER_VERSION)}};
  return handle;
}

std::string readSource(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(kInvalidPlanStatusName,
         fmt::format("{}: cannot read the OpenCL source: {}", path, std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// Builds the program; a compiler rejection becomes build_failed with the log.
Program buildProgram(cl_context context, cl_device_id device, const std::string& source,
                     const std::string& buildOptions) {
  const char* text = source.c_str();
  const std::size_t length = source.size();
  cl_int status = CL_SUCCESS;
  Program program(clCreateProgramWithSource(context, 1, &text, &length, &status));
  check(status, "clCreateProgramWithSource");
  const std::string options =
      buildOptions.empty() ? "-cl-kernel-arg-info" : buildOptions + " -cl-kernel-arg-info";
  status = clBuildProgram(program.get(), 1, &device, options.c_str(), nullptr, nullptr);
  if (status != CL_SUCCESS) {
    std::string log;
    std::size_t size = 0;
    if (clGetProgramBuildInfo(program.get(), device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) == CL_SUCCESS) {
      log.assign(size, '\0');
      clGetProgramBuildInfo(program.get(), device, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
      log = trimmed(log);
    }
    throw Failure{kBuildFailedName,
                  fmt::format("clBuildProgram failed: {} (options '{}')", clErrorName(status), options), log,
                  clErrorName(status)};
  }
  return program;
}

std::vector<std::string> kernelNames(cl_program program) {
  std::string names = queryString(clGetProgramInfo, program, CL_PROGRAM_KERNEL_NAMES);
  std::vector<std::string> list;
  std::stringstream stream(names);
  std::string name;
  while (std::getline(stream, name, ';')) {
    if (!name.empty()) list.push_back(name);
  }
  return list;
}

struct KernelArgInfo {
  std::string name;
  std::string address;  ///< global, constant, local, private
  std::string typeName;
  std::string elementType;
  bool pointer = false;
  bool isConst = false;
  std::string access;
  bool supported = true;
  std::string unsupportedReason;
};

KernelArgInfo queryArgInfo(cl_kernel kernel, cl_uint index) {
  KernelArgInfo info;
  cl_kernel_arg_address_qualifier address = 0;
  check(
      clGetKernelArgInfo(kernel, index, CL_KERNEL_ARG_ADDRESS_QUALIFIER, sizeof(address), &address, nullptr),
      "clGetKernelArgInfo(CL_KERNEL_ARG_ADDRESS_QUALIFIER)");
  info.address = address == CL_KERNEL_ARG_ADDRESS_GLOBAL     ? "global"
                 : address == CL_KERNEL_ARG_ADDRESS_CONSTANT ? "constant"
                 : address == CL_KERNEL_ARG_ADDRESS_LOCAL    ? "local"
                                                             : "private";
  cl_kernel_arg_access_qualifier access = 0;
  check(clGetKernelArgInfo(kernel, index, CL_KERNEL_ARG_ACCESS_QUALIFIER, sizeof(access), &access, nullptr),
        "clGetKernelArgInfo(CL_KERNEL_ARG_ACCESS_QUALIFIER)");
  info.access = access == CL_KERNEL_ARG_ACCESS_READ_ONLY    ? "read_only"
                : access == CL_KERNEL_ARG_ACCESS_WRITE_ONLY ? "write_only"
                : access == CL_KERNEL_ARG_ACCESS_READ_WRITE ? "read_write"
                                                            : "none";
  cl_kernel_arg_type_qualifier typeQualifier = 0;
  clGetKernelArgInfo(kernel, index, CL_KERNEL_ARG_TYPE_QUALIFIER, sizeof(typeQualifier), &typeQualifier,
                     nullptr);
  info.isConst = (typeQualifier & CL_KERNEL_ARG_TYPE_CONST) != 0;
  auto argString = [&](cl_kernel_arg_info what) {
    std::size_t size = 0;
    if (clGetKernelArgInfo(kernel, index, what, 0, nullptr, &size) != CL_SUCCESS) return std::string();
    std::string text(size, '\0');
    clGetKernelArgInfo(kernel, index, what, size, text.data(), nullptr);
    return trimmed(text);
  };
  info.name = argString(CL_KERNEL_ARG_NAME);
  info.typeName = argString(CL_KERNEL_ARG_TYPE_NAME);
  std::string element = info.typeName;
  for (const char* prefix : {"const ", "volatile ", "restrict "}) {
    if (element.rfind(prefix, 0) == 0) element = element.substr(std::strlen(prefix));
  }
  while (!element.empty() && (element.back() == '*' || element.back() == ' ')) {
    if (element.back() == '*') info.pointer = true;
    element.pop_back();
  }
  info.elementType = element;
  if (element.find("image") != std::string::npos || element.find("sampler") != std::string::npos ||
      access != CL_KERNEL_ARG_ACCESS_NONE) {
    info.supported = false;
    info.unsupportedReason = fmt::format(
        "image/sampler argument '{}' ({}) is not supported: mirtune-run passes "
        "only buffers, scalars and __local memory",
        info.name, info.typeName);
  } else if (element.find("struct") != std::string::npos || element.find("union") != std::string::npos) {
    info.supported = false;
    info.unsupportedReason =
        fmt::format("struct/union argument '{}' ({}) is not supported", info.name, info.typeName);
  }
  return info;
}

/// Whether the kernel's element type (e.g. "float" or "float4") holds plan elements of `type`.
bool elementTypeMatches(const std::string& kernelElement, ElementType type) {
  const std::string name(elementTypeInfo(type).name);
  if (kernelElement == name) return true;
  auto parsed = parseElementType(kernelElement);
  if (parsed && *parsed == type) return true;
  if (kernelElement.rfind(name, 0) == 0) {
    const std::string width = kernelElement.substr(name.size());
    return width == "2" || width == "3" || width == "4" || width == "8" || width == "16";
  }
  return false;
}

void checkArguments(cl_kernel kernel, const RunPlan& plan, std::vector<KernelArgInfo>& infos) {
  cl_uint count = 0;
  check(clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, sizeof(count), &count, nullptr), "clGetKernelInfo");
  for (cl_uint i = 0; i < count; ++i) infos.push_back(queryArgInfo(kernel, i));
  for (const auto& info : infos) {
    if (!info.supported)
      fail(kInvalidPlanStatusName, fmt::format("kernel '{}': {}", plan.kernel, info.unsupportedReason));
  }
  if (count != plan.args.size()) {
    std::string signature;
    for (const auto& info : infos)
      signature +=
          fmt::format("{}{} {} {}", signature.empty() ? "" : ", ", info.address, info.typeName, info.name);
    fail(kInvalidPlanStatusName, fmt::format("kernel '{}' takes {} arguments ({}) but the plan gives {}",
                                             plan.kernel, count, signature, plan.args.size()));
  }
  for (std::size_t i = 0; i < infos.size(); ++i) {
    const KernelArgInfo& info = infos[i];
    const ArgSpec& arg = plan.args[i];
    const std::string typeName(elementTypeInfo(arg.type).name);
    std::string expected;
    bool matches = true;
    switch (arg.kind) {
      case ArgKind::kBuffer:
        expected = fmt::format("__global or __constant {}*", typeName);
        matches = (info.address == "global" || info.address == "constant") && info.pointer &&
                  elementTypeMatches(info.elementType, arg.type);
        break;
      case ArgKind::kLocal:
        expected = "a __local pointer";
        matches = info.address == "local" && info.pointer;
        break;
      case ArgKind::kScalar:
        expected = fmt::format("a {} passed by value", typeName);
        matches = info.address == "private" && !info.pointer &&
                  elementTypeMatches(info.elementType, arg.type) && info.elementType == typeName;
        break;
    }
    if (!matches) {
      fail(kInvalidPlanStatusName,
           fmt::format("kernel '{}' argument {} ('{}') is {} {} but the plan gives a {} argument ({})",
                       plan.kernel, i, info.name, info.address, info.typeName, argKindName(arg.kind),
                       expected));
    }
  }
}

std::vector<unsigned char> scalarBytes(const ArgSpec& arg) {
  HostArray one;
  ArgSpec constant = arg;
  constant.elements = 1;
  constant.generator = GeneratorSpec{};
  constant.generator.kind = GeneratorKind::kConstant;
  constant.generator.value = arg.scalarValue;
  one = generateBuffer(constant);
  if (!elementTypeInfo(arg.type).isFloat) {
    // Integers go through the exact 64-bit value, not the double.
    std::int64_t value = arg.scalarInt;
    std::memcpy(one.bytes.data(), &value, one.bytes.size());  // little-endian: low bytes first
  }
  return one.bytes;
}

std::string joinPath(const std::string& directory, const std::string& path) {
  if (path.empty() || path[0] == '/' || directory.empty()) return path;
  return directory + "/" + path;
}

nlohmann::json failureJson(const Failure& failure) {
  nlohmann::json json = {{"status", failure.status}, {"message", failure.message}};
  if (!failure.buildLog.empty() || failure.status == kBuildFailedName) json["build_log"] = failure.buildLog;
  if (!failure.openclError.empty()) json["opencl_error"] = failure.openclError;
  return json;
}

}  // namespace

nlohmann::json runOpenClPlan(const RunPlan& plan, const std::string& planDirectory, int platformIndex,
                             int deviceIndex, const RunListener& listener) {
  nlohmann::json result = {{"schema", "mirtune-run-opencl/1"},
                           {"kernel", plan.kernel},
                           {"global_size", plan.globalSize},
                           {"local_size", plan.localSize},
                           {"warmup", plan.warmup}};
  auto phase = [&](const std::string& text, bool building = false) {
    if (listener) listener(text, building, result);
  };
  try {
    phase(fmt::format("opening OpenCL device {}:{}", platformIndex, deviceIndex));
    DeviceHandle device = selectDevice(platformIndex, deviceIndex);
    result["device"] = device.description;
    phase("building the program", true);
    const std::string source = readSource(joinPath(planDirectory, plan.source));
    cl_int status = CL_SUCCESS;
    Context context(clCreateContext(nullptr, 1, &device.device, nullptr, nullptr, &status));
    check(status, "clCreateContext");
    Queue queue(clCreateCommandQueue(context.get(), device.device, CL_QUEUE_PROFILING_ENABLE, &status));
    check(status, "clCreateCommandQueue");
    const auto buildStart = std::chrono::steady_clock::now();
    Program program = buildProgram(context.get(), device.device, source, plan.buildOptions);
    result["build_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - buildStart).count();
    phase("setting up the arguments");
    Kernel kernel(clCreateKernel(program.get(), plan.kernel.c_str(), &status));
    if (status == CL_INVALID_KERNEL_NAME) {
      std::string names;
      for (const auto& name : kernelNames(program.get())) names += (names.empty() ? "" : ", ") + name;
      fail(kInvalidPlanStatusName,
           fmt::format("{}: no kernel named '{}' (kernels: {})", plan.source, plan.kernel, names));
    }
    check(status, "clCreateKernel");
    std::vector<KernelArgInfo> infos;
    checkArguments(kernel.get(), plan, infos);

    // Host arrays and device buffers; out buffers are written once, in/inout ones before every repetition.
    std::vector<HostArray> hostInputs(plan.args.size());
    std::vector<HostArray> hostOutputs(plan.args.size());
    std::vector<Memory> buffers(plan.args.size());
    for (std::size_t i = 0; i < plan.args.size(); ++i) {
      const ArgSpec& arg = plan.args[i];
      const auto index = static_cast<cl_uint>(i);
      if (arg.kind == ArgKind::kBuffer) {
        hostInputs[i] = generateBuffer(arg);
        buffers[i].reset(clCreateBuffer(context.get(), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, arg.bytes(),
                                        hostInputs[i].bytes.data(), &status));
        check(status, "clCreateBuffer");
        if (arg.role != ArgRole::kIn) hostOutputs[i] = hostInputs[i];
        cl_mem handle = buffers[i].get();
        check(clSetKernelArg(kernel.get(), index, sizeof(cl_mem), &handle), "clSetKernelArg(buffer)");
      } else if (arg.kind == ArgKind::kLocal) {
        check(clSetKernelArg(kernel.get(), index, arg.bytes(), nullptr), "clSetKernelArg(local)");
      } else {
        std::vector<unsigned char> bytes = scalarBytes(arg);
        check(clSetKernelArg(kernel.get(), index, bytes.size(), bytes.data()), "clSetKernelArg(scalar)");
      }
    }

    const auto dims = static_cast<cl_uint>(plan.globalSize.size());
    std::vector<std::size_t> global(plan.globalSize.begin(), plan.globalSize.end());
    std::vector<std::size_t> local(plan.localSize.begin(), plan.localSize.end());
    // One repetition: returns (kernel seconds, total seconds).
    auto repetition = [&]() {
      const auto start = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < plan.args.size(); ++i) {
        const ArgSpec& arg = plan.args[i];
        if (arg.kind != ArgKind::kBuffer || arg.role == ArgRole::kOut) continue;
        check(clEnqueueWriteBuffer(queue.get(), buffers[i].get(), CL_FALSE, 0, arg.bytes(),
                                   hostInputs[i].bytes.data(), 0, nullptr, nullptr),
              "clEnqueueWriteBuffer");
      }
      cl_event rawEvent = nullptr;
      check(clEnqueueNDRangeKernel(queue.get(), kernel.get(), dims, nullptr, global.data(),
                                   local.empty() ? nullptr : local.data(), 0, nullptr, &rawEvent),
            "clEnqueueNDRangeKernel");
      Event event(rawEvent);
      for (std::size_t i = 0; i < plan.args.size(); ++i) {
        const ArgSpec& arg = plan.args[i];
        if (arg.kind != ArgKind::kBuffer || arg.role == ArgRole::kIn) continue;
        check(clEnqueueReadBuffer(queue.get(), buffers[i].get(), CL_FALSE, 0, arg.bytes(),
                                  hostOutputs[i].bytes.data(), 0, nullptr, nullptr),
              "clEnqueueReadBuffer");
      }
      check(clFinish(queue.get()), "clFinish");
      const auto end = std::chrono::steady_clock::now();
      cl_int executionStatus = CL_COMPLETE;
      check(clGetEventInfo(event.get(), CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(executionStatus),
                           &executionStatus, nullptr),
            "clGetEventInfo");
      if (executionStatus < 0) check(executionStatus, "kernel execution");
      cl_ulong kernelStart = 0;
      cl_ulong kernelEnd = 0;
      check(clGetEventProfilingInfo(event.get(), CL_PROFILING_COMMAND_START, sizeof(kernelStart),
                                    &kernelStart, nullptr),
            "clGetEventProfilingInfo(START)");
      check(clGetEventProfilingInfo(event.get(), CL_PROFILING_COMMAND_END, sizeof(kernelEnd), &kernelEnd,
                                    nullptr),
            "clGetEventProfilingInfo(END)");
      return std::pair<double, double>(static_cast<double>(kernelEnd - kernelStart) * 1e-9,
                                       std::chrono::duration<double>(end - start).count());
    };

    for (int i = 0; i < plan.warmup; ++i) {
      phase(fmt::format("warm-up repetition {} of {}", i + 1, plan.warmup));
      repetition();
    }
    std::vector<double> kernelSeconds;
    std::vector<double> totalSeconds;
    double measured = 0;
    while (static_cast<int>(kernelSeconds.size()) < plan.maxRepetitions &&
           (static_cast<int>(kernelSeconds.size()) < plan.minRepetitions || measured < plan.minTimeSeconds)) {
      phase(fmt::format("repetition {}", kernelSeconds.size() + 1));
      auto [kernelTime, totalTime] = repetition();
      kernelSeconds.push_back(kernelTime);
      totalSeconds.push_back(totalTime);
      measured += totalTime;
    }
    const SampleSummary kernelSummary = summarise(kernelSeconds);
    const SampleSummary totalSummary = summarise(totalSeconds);
    result["repetitions"] = kernelSeconds.size();
    result["kernel_seconds"] = kernelSeconds;
    result["total_seconds"] = totalSeconds;
    result["median_kernel_s"] = kernelSummary.median;
    result["iqr_kernel_s"] = kernelSummary.iqr;
    result["median_total_s"] = totalSummary.median;
    result["iqr_total_s"] = totalSummary.iqr;

    phase("writing the output buffers");
    result["outputs"] = nlohmann::json::array();
    for (std::size_t i = 0; i < plan.args.size(); ++i) {
      const ArgSpec& arg = plan.args[i];
      if (arg.kind != ArgKind::kBuffer || arg.role == ArgRole::kIn) continue;
      nlohmann::json output = {{"arg", i},
                               {"name", arg.name.empty() ? infos[i].name : arg.name},
                               {"type", elementTypeInfo(arg.type).name},
                               {"elements", arg.elements}};
      if (!plan.outputDirectory.empty()) {
        ArgSpec named = arg;
        if (named.name.empty()) named.name = infos[i].name;
        const std::string path = plan.outputDirectory + "/" + outputFileName(i, named);
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        const std::string bytes = npyBytes(hostOutputs[i]);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) fail(kRunFailedName, fmt::format("{}: cannot write the output buffer", path));
        output["file"] = path;
      }
      result["outputs"].push_back(std::move(output));
    }
    result["status"] = kOkName;
    result["message"] = "";
  } catch (const Failure& failure) {
    result.update(failureJson(failure));
  } catch (const std::exception& exception) {
    result.update(
        failureJson(Failure{kRunFailedName, fmt::format("host error: {}", exception.what()), "", ""}));
  }
  return result;
}

nlohmann::json listOpenClKernelArgs(const std::string& sourcePath, const std::string& kernelName,
                                    const std::string& buildOptions, int platformIndex, int deviceIndex,
                                    const RunListener& listener) {
  nlohmann::json result = {{"schema", "mirtune-run-opencl-args/1"}, {"source", sourcePath}};
  auto phase = [&](const std::string& text, bool building = false) {
    if (listener) listener(text, building, result);
  };
  try {
    phase(fmt::format("opening OpenCL device {}:{}", platformIndex, deviceIndex));
    DeviceHandle device = selectDevice(platformIndex, deviceIndex);
    result["device"] = device.description;
    phase("building the program", true);
    const std::string source = readSource(sourcePath);
    cl_int status = CL_SUCCESS;
    Context context(clCreateContext(nullptr, 1, &device.device, nullptr, nullptr, &status));
    check(status, "clCreateContext");
    Program program = buildProgram(context.get(), device.device, source, buildOptions);
    phase("querying the kernels' arguments");
    std::vector<std::string> names = kernelNames(program.get());
    if (!kernelName.empty()) {
      if (std::find(names.begin(), names.end(), kernelName) == names.end()) {
        std::string list;
        for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
        fail(kInvalidPlanStatusName,
             fmt::format("{}: no kernel named '{}' (kernels: {})", sourcePath, kernelName, list));
      }
      names = {kernelName};
    }
    result["kernels"] = nlohmann::json::array();
    for (const auto& name : names) {
      Kernel kernel(clCreateKernel(program.get(), name.c_str(), &status));
      check(status, "clCreateKernel");
      cl_uint count = 0;
      check(clGetKernelInfo(kernel.get(), CL_KERNEL_NUM_ARGS, sizeof(count), &count, nullptr),
            "clGetKernelInfo");
      nlohmann::json args = nlohmann::json::array();
      for (cl_uint i = 0; i < count; ++i) {
        KernelArgInfo info = queryArgInfo(kernel.get(), i);
        nlohmann::json arg = {{"index", i},
                              {"name", info.name},
                              {"address", info.address},
                              {"type", info.typeName},
                              {"element_type", info.elementType},
                              {"pointer", info.pointer},
                              {"access", info.access},
                              {"const", info.isConst},
                              {"supported", info.supported}};
        if (!info.supported) arg["unsupported_reason"] = info.unsupportedReason;
        args.push_back(std::move(arg));
      }
      result["kernels"].push_back({{"name", name}, {"args", std::move(args)}});
    }
    result["status"] = kOkName;
    result["message"] = "";
  } catch (const Failure& failure) {
    result.update(failureJson(failure));
  }
  return result;
}

}  // namespace mirtune::runner
