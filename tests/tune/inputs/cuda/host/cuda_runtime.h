// A host-only stand-in for the CUDA runtime, for testing mirtune's generated harness where there is no GPU: device
// memory is host memory, a "kernel" is a plain function the harness calls directly (the test removes the launch
// brackets), events read a steady clock. MIRTUNE_STUB_DEVICES=0 plays a machine without a device,
// MIRTUNE_STUB_LAUNCH_ERROR=1 a launch the device refuses.
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static

using cudaError_t = int;
constexpr cudaError_t cudaSuccess = 0;
constexpr cudaError_t cudaErrorInvalidConfiguration = 9;
constexpr cudaError_t cudaErrorNoDevice = 100;
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };

struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

inline const char* cudaGetErrorName(cudaError_t status) {
  return status == cudaErrorNoDevice ? "cudaErrorNoDevice" : "cudaErrorInvalidConfiguration";
}
inline const char* cudaGetErrorString(cudaError_t status) {
  return status == cudaErrorNoDevice ? "no CUDA-capable device is detected" : "invalid configuration argument";
}
inline cudaError_t cudaGetDeviceCount(int* count) {
  const char* devices = std::getenv("MIRTUNE_STUB_DEVICES");
  *count = devices ? std::atoi(devices) : 1;
  return *count == 0 ? cudaErrorNoDevice : cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
template <typename T>
cudaError_t cudaMalloc(T** pointer, std::size_t bytes) {
  *pointer = static_cast<T*>(std::calloc(bytes + 1, 1));
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* to, const void* from, std::size_t bytes, cudaMemcpyKind) {
  std::memcpy(to, from, bytes);
  return cudaSuccess;
}
template <typename T>
cudaError_t cudaMemcpyToSymbol(T& symbol, const void* from, std::size_t bytes) {
  std::memcpy(&symbol, from, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaGetLastError() {
  return std::getenv("MIRTUNE_STUB_LAUNCH_ERROR") ? cudaErrorInvalidConfiguration : cudaSuccess;
}

struct CUevent_st {
  std::chrono::steady_clock::time_point at;
};
using cudaEvent_t = CUevent_st*;
inline cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t event) {
  event->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t stop) {
  *milliseconds = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
  return cudaSuccess;
}
