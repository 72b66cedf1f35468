// Deliberately broken: the corpus build must count it as failed and carry on.
__kernel void broken(__global float* x) {
  x[get_global_id(0)] = undefined_name + ;
}
