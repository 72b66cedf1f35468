// CUDA devices through the driver API, looked up with dlopen so that no CUDA library is linked.
#include "tasks/tune/CudaDevices.h"

#include <fmt/format.h>

#include <dlfcn.h>

namespace mirtune::tune {
namespace {

// The driver API's few entry points used here (cuda.h: CUresult is an int enum, CUdevice an int).
using CuInit = int (*)(unsigned int);
using CuDeviceGetCount = int (*)(int*);
using CuDeviceGet = int (*)(int*, int);
using CuDeviceGetName = int (*)(char*, int, int);
using CuDeviceGetAttribute = int (*)(int*, int, int);
using CuGetErrorString = int (*)(int, const char**);

constexpr int kComputeCapabilityMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kComputeCapabilityMinor = 76;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

}  // namespace

std::string CudaDevice::arch() const {
  return fmt::format("sm_{}{}", major, minor);
}

Expected<std::vector<CudaDevice>> localCudaDevices() {
  // Kept open: unloading a driver that started threads is not safe.
  void* driver = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (driver == nullptr) {
    return makeError(ErrorCode::kNotFound, "no NVIDIA driver: libcuda.so.1 cannot be loaded");
  }
  const auto init = reinterpret_cast<CuInit>(::dlsym(driver, "cuInit"));
  const auto count = reinterpret_cast<CuDeviceGetCount>(::dlsym(driver, "cuDeviceGetCount"));
  const auto get = reinterpret_cast<CuDeviceGet>(::dlsym(driver, "cuDeviceGet"));
  const auto name = reinterpret_cast<CuDeviceGetName>(::dlsym(driver, "cuDeviceGetName"));
  const auto attribute = reinterpret_cast<CuDeviceGetAttribute>(::dlsym(driver, "cuDeviceGetAttribute"));
  const auto errorString = reinterpret_cast<CuGetErrorString>(::dlsym(driver, "cuGetErrorString"));
  if (!init || !count || !get || !name || !attribute) {
    return makeError(ErrorCode::kNotFound,
                     "libcuda.so.1 lacks the driver API (cuInit, cuDeviceGetCount, ...)");
  }
  const auto describe = [&](int status) -> std::string {
    const char* text = nullptr;
    if (errorString && errorString(status, &text) == 0 && text) return fmt::format("{} ({})", text, status);
    return fmt::format("error {}", status);
  };
  if (const int status = init(0); status != 0) {
    return makeError(ErrorCode::kNotFound, "the NVIDIA driver does not start: {}", describe(status));
  }
  int devices = 0;
  if (const int status = count(&devices); status != 0) {
    return makeError(ErrorCode::kNotFound, "the NVIDIA driver lists no devices: {}", describe(status));
  }
  if (devices == 0) return makeError(ErrorCode::kNotFound, "the NVIDIA driver lists no CUDA device");
  std::vector<CudaDevice> found;
  for (int ordinal = 0; ordinal < devices; ++ordinal) {
    int device = 0;
    char text[256] = {};
    CudaDevice entry;
    entry.index = ordinal;
    if (get(&device, ordinal) != 0 || name(text, sizeof text - 1, device) != 0 ||
        attribute(&entry.major, kComputeCapabilityMajor, device) != 0 ||
        attribute(&entry.minor, kComputeCapabilityMinor, device) != 0) {
      return makeError(ErrorCode::kNotFound, "the NVIDIA driver cannot describe device {}", ordinal);
    }
    entry.name = text;
    found.push_back(std::move(entry));
  }
  return found;
}

}  // namespace mirtune::tune
