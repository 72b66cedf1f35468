/* mirtune CUDA shim: lets clang 14 compile CUDA device code to IR without a CUDA installation it can read
   (it accepts CUDA <= 11.5 headers only). Declares the execution-space qualifiers, the built-in index
   variables and the device functions kernels commonly call; calls to library math stay external. */
#pragma once

#define __host__ __attribute__((host))
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __managed__ __attribute__((managed))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __restrict__ __restrict

#include <__clang_cuda_builtin_vars.h>

typedef __SIZE_TYPE__ size_t;

#ifdef __CUDA_ARCH__
static __device__ __forceinline__ void __threadfence() { __nvvm_membar_gl(); }
static __device__ __forceinline__ void __threadfence_block() { __nvvm_membar_cta(); }
static __device__ __forceinline__ int atomicAdd(int* address, int value) {
  return __nvvm_atom_add_gen_i(address, value);
}
static __device__ __forceinline__ unsigned atomicAdd(unsigned* address, unsigned value) {
  return (unsigned)__nvvm_atom_add_gen_i((int*)address, (int)value);
}
static __device__ __forceinline__ float atomicAdd(float* address, float value) {
  return __nvvm_atom_add_gen_f(address, value);
}
static __device__ __forceinline__ int atomicMax(int* address, int value) {
  return __nvvm_atom_max_gen_i(address, value);
}
static __device__ __forceinline__ int atomicMin(int* address, int value) {
  return __nvvm_atom_min_gen_i(address, value);
}
static __device__ __forceinline__ int atomicCAS(int* address, int compare, int value) {
  return __nvvm_atom_cas_gen_i(address, compare, value);
}
static __device__ __forceinline__ float __shfl_down_sync(unsigned mask, float value, unsigned delta,
                                                         int width = 32) {
  return __nvvm_shfl_sync_down_f32(mask, value, delta, ((32 - width) << 8) | 0x1f);
}
static __device__ __forceinline__ int __shfl_down_sync(unsigned mask, int value, unsigned delta, int width = 32) {
  return __nvvm_shfl_sync_down_i32(mask, value, delta, ((32 - width) << 8) | 0x1f);
}
#endif

extern "C" {
__device__ float sqrtf(float);
__device__ float rsqrtf(float);
__device__ float expf(float);
__device__ float logf(float);
__device__ float powf(float, float);
__device__ float sinf(float);
__device__ float cosf(float);
__device__ float fabsf(float);
__device__ float fminf(float, float);
__device__ float fmaxf(float, float);
__device__ float floorf(float);
__device__ float ceilf(float);
__device__ float tanhf(float);
__device__ float erff(float);
__device__ double sqrt(double);
__device__ double rsqrt(double);
__device__ double exp(double);
__device__ double log(double);
__device__ double pow(double, double);
__device__ double sin(double);
__device__ double cos(double);
__device__ double fabs(double);
__device__ double fmin(double, double);
__device__ double fmax(double, double);
__device__ double floor(double);
__device__ double ceil(double);
__device__ double tanh(double);
__device__ int min(int, int);
__device__ int max(int, int);
}
