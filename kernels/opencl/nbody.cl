// One explicit Euler step of an all-pairs gravitational n-body system. Bodies are float4 (x, y, z, mass);
// every work-item sums the softened pull of all bodies on its own, updates its velocity and writes its new
// position (the mass is carried over).
__kernel void nbody(__global const float4* position, __global float4* velocity, __global float4* newPosition,
                    const float dt, const float softening, const int n) {
  const int i = get_global_id(0);
  if (i >= n) return;
  const float4 self = position[i];
  float3 acceleration = (float3)(0.0f, 0.0f, 0.0f);
  const float soft2 = softening * softening;
  for (int j = 0; j < n; ++j) {
    const float4 other = position[j];
    const float3 d = other.xyz - self.xyz;
    const float distance2 = dot(d, d) + soft2;
    const float inverse = 1.0f / sqrt(distance2);
    acceleration += d * (other.w * inverse * inverse * inverse);
  }
  float4 v = velocity[i];
  v.xyz += acceleration * dt;
  velocity[i] = v;
  newPosition[i] = (float4)(self.xyz + v.xyz * dt, self.w);
}
