/* A stand-in for the NVIDIA driver library (built as libcuda.so.1 by the test): it lists one device, "Host
   stand-in", of compute capability 9.0, so that a live session runs where there is no GPU. */
#include <stdio.h>

int cuInit(unsigned int flags) { return (int)(flags != 0); }
int cuDeviceGetCount(int* count) { *count = 1; return 0; }
int cuDeviceGet(int* device, int ordinal) { *device = ordinal; return 0; }
int cuDeviceGetName(char* name, int length, int device) {
  (void)device;
  snprintf(name, (size_t)length, "Host stand-in");
  return 0;
}
int cuDeviceGetAttribute(int* value, int attribute, int device) {
  (void)device;
  *value = attribute == 75 ? 9 : 0; /* compute capability 9.0 */
  return 0;
}
