#error this file refuses to compile
__kernel void k(__global int* a) { a[0] = 1; }
