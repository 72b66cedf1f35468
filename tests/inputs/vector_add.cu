__global__ void add(float* out, const float* a, const float* b, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  __shared__ float tile[256];
  tile[threadIdx.x] = a[i];
  __syncthreads();
  if (i < n) out[i] = sqrtf(tile[threadIdx.x]) + b[i];
  atomicAdd(out, 1.0f);
}
