// OpenCL device listing through the ICD loader (PoCL, NVIDIA, ...); it loads drivers, so it runs only here.
#include "tuner/runner/OpenClProbe.h"

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace mirtune::runner {

namespace {

// cl_khr_icd's CL_PLATFORM_NOT_FOUND_KHR: the loader found no installed platform (not an error for a probe).
constexpr cl_int kPlatformNotFoundKhr = -1001;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\0' || text.back() == ' ' || text.back() == '\n')) text.pop_back();
  return text;
}

template <typename Query, typename Handle, typename Info>
cl_int queryString(Query query, Handle handle, Info info, std::string& out) {
  std::size_t size = 0;
  cl_int status = query(handle, info, 0, nullptr, &size);
  if (status != CL_SUCCESS) return status;
  std::string text(size, '\0');
  status = query(handle, info, size, text.data(), nullptr);
  if (status == CL_SUCCESS) out = trimmed(std::move(text));
  return status;
}

template <typename T>
cl_int queryDeviceValue(cl_device_id device, cl_device_info info, T& out) {
  return clGetDeviceInfo(device, info, sizeof(T), &out, nullptr);
}

std::string deviceTypeName(cl_device_type type) {
  if ((type & CL_DEVICE_TYPE_GPU) != 0) return "GPU";
  if ((type & CL_DEVICE_TYPE_CPU) != 0) return "CPU";
  if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) return "ACCEL";
  if ((type & CL_DEVICE_TYPE_CUSTOM) != 0) return "CUSTOM";
  return "OTHER";
}

nlohmann::json describeDevice(cl_device_id device) {
  nlohmann::json object = nlohmann::json::object();
  std::vector<std::string> failures;
  auto text = [&](const char* key, cl_device_info info) {
    std::string value;
    cl_int status = queryString(clGetDeviceInfo, device, info, value);
    if (status == CL_SUCCESS)
      object[key] = value;
    else
      failures.push_back(fmt::format("{}: OpenCL error {}", key, status));
  };
  auto number = [&](const char* key, cl_device_info info, auto zero) {
    auto value = zero;
    cl_int status = queryDeviceValue(device, info, value);
    if (status == CL_SUCCESS)
      object[key] = static_cast<std::uint64_t>(value);
    else
      failures.push_back(fmt::format("{}: OpenCL error {}", key, status));
  };
  text("name", CL_DEVICE_NAME);
  cl_device_type type = 0;
  if (queryDeviceValue(device, CL_DEVICE_TYPE, type) == CL_SUCCESS)
    object["type"] = deviceTypeName(type);
  else
    failures.push_back("type: query failed");
  text("vendor", CL_DEVICE_VENDOR);
  text("driver_version", CL_DRIVER_VERSION);
  text("device_version", CL_DEVICE_VERSION);
  text("opencl_c_version", CL_DEVICE_OPENCL_C_VERSION);
  number("compute_units", CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint{0});
  number("global_memory_bytes", CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong{0});
  number("local_memory_bytes", CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong{0});
  number("max_work_group_size", CL_DEVICE_MAX_WORK_GROUP_SIZE, std::size_t{0});
  number("max_clock_mhz", CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint{0});
  if (!failures.empty()) object["error"] = fmt::format("{}", fmt::join(failures, "; "));
  return object;
}

nlohmann::json describePlatform(cl_platform_id platform) {
  nlohmann::json object = nlohmann::json::object();
  std::vector<std::string> failures;
  for (auto [key, info] : {std::pair{"name", CL_PLATFORM_NAME}, std::pair{"vendor", CL_PLATFORM_VENDOR},
                           std::pair{"version", CL_PLATFORM_VERSION}}) {
    std::string value;
    cl_int status = queryString(clGetPlatformInfo, platform, info, value);
    if (status == CL_SUCCESS)
      object[key] = value;
    else
      failures.push_back(fmt::format("{}: OpenCL error {}", key, status));
  }
  object["devices"] = nlohmann::json::array();
  cl_uint count = 0;
  cl_int status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, nullptr, &count);
  if (status == CL_SUCCESS && count > 0) {
    std::vector<cl_device_id> devices(count);
    status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, count, devices.data(), nullptr);
    if (status == CL_SUCCESS) {
      for (cl_device_id device : devices) object["devices"].push_back(describeDevice(device));
    }
  }
  if (status != CL_SUCCESS && status != CL_DEVICE_NOT_FOUND) {
    failures.push_back(fmt::format("clGetDeviceIDs: OpenCL error {}", status));
  }
  if (!failures.empty()) object["error"] = fmt::format("{}", fmt::join(failures, "; "));
  return object;
}

}  // namespace

OpenClListing probeOpenCl() {
  OpenClListing listing;
  listing.json = {{"platforms", nlohmann::json::array()}};
  cl_uint count = 0;
  cl_int status = clGetPlatformIDs(0, nullptr, &count);
  if (status == kPlatformNotFoundKhr || (status == CL_SUCCESS && count == 0)) return listing;
  if (status != CL_SUCCESS) {
    listing.error = fmt::format("clGetPlatformIDs: OpenCL error {}", status);
    return listing;
  }
  std::vector<cl_platform_id> platforms(count);
  status = clGetPlatformIDs(count, platforms.data(), nullptr);
  if (status != CL_SUCCESS) {
    listing.error = fmt::format("clGetPlatformIDs: OpenCL error {}", status);
    return listing;
  }
  for (cl_platform_id platform : platforms) listing.json["platforms"].push_back(describePlatform(platform));
  return listing;
}

}  // namespace mirtune::runner
