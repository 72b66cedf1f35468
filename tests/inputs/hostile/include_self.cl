#include "include_self.cl"
__kernel void k(__global int* a) { a[0] = 1; }
