// European call and put prices under Black-Scholes, one option per work-item. The normal CDF uses the
// Abramowitz-Stegun polynomial (formula 26.2.17, absolute error below 7.5e-8).
float normalCdf(float d) {
  const float k = 1.0f / (1.0f + 0.2316419f * fabs(d));
  const float poly =
      k * (0.319381530f + k * (-0.356563782f + k * (1.781477937f + k * (-1.821255978f + k * 1.330274429f))));
  const float tail = 0.39894228040143267794f * exp(-0.5f * d * d) * poly;
  return d > 0.0f ? 1.0f - tail : tail;
}

__kernel void black_scholes(__global const float* price, __global const float* strike, __global const float* years,
                            __global float* call, __global float* put, const float riskFree, const float volatility,
                            const int n) {
  const int i = get_global_id(0);
  if (i >= n) return;
  const float s = price[i];
  const float x = strike[i];
  const float t = years[i];
  const float sqrtT = sqrt(t);
  const float d1 = (log(s / x) + (riskFree + 0.5f * volatility * volatility) * t) / (volatility * sqrtT);
  const float d2 = d1 - volatility * sqrtT;
  const float discounted = x * exp(-riskFree * t);
  call[i] = s * normalCdf(d1) - discounted * normalCdf(d2);
  put[i] = discounted * normalCdf(-d2) - s * normalCdf(-d1);
}
