// Needs OpenCL C 2.0: a generic-address-space pointer parameter.
void add_one(int* p) { *p += 1; }
__kernel void bump(__global int* data) { add_one(&data[get_global_id(0)]); }
