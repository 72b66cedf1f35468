#include "scale.h"
__kernel void scale(__global float* data) { data[get_global_id(0)] *= SCALE_FACTOR; }
