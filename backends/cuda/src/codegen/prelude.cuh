// hyv CUDA kernels: the helpers every generated kernel starts with.
//
// Storage types: f32 as float, f16 and bf16 as their 16 bits (unsigned short), bool as one
// byte (0 or 1). Every value computes in f32; 16-bit values widen exactly and narrow with
// round-to-nearest-even (PTX cvt.rn), as the CPU backend's `half` conversions do.

typedef unsigned short hyv_u16;
typedef unsigned char hyv_u8;

__device__ __forceinline__ float hyv_f16_to_f32(hyv_u16 h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}
__device__ __forceinline__ hyv_u16 hyv_f32_to_f16(float f) {
  hyv_u16 h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}
__device__ __forceinline__ float hyv_bf16_to_f32(hyv_u16 h) {
  return __uint_as_float(((unsigned int)h) << 16);
}
__device__ __forceinline__ hyv_u16 hyv_f32_to_bf16(float f) {
  hyv_u16 h;
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f));
  return h;
}

// Scalar reads and writes of element i, as f32.
__device__ __forceinline__ float hyv_ld_f32(const float* p, unsigned long long i) { return p[i]; }
__device__ __forceinline__ float hyv_ld_f16(const hyv_u16* p, unsigned long long i) { return hyv_f16_to_f32(p[i]); }
__device__ __forceinline__ float hyv_ld_bf16(const hyv_u16* p, unsigned long long i) { return hyv_bf16_to_f32(p[i]); }
__device__ __forceinline__ float hyv_ld_bool(const hyv_u8* p, unsigned long long i) { return p[i] ? 1.0f : 0.0f; }
__device__ __forceinline__ void hyv_st_f32(float* p, unsigned long long i, float v) { p[i] = v; }
__device__ __forceinline__ void hyv_st_f16(hyv_u16* p, unsigned long long i, float v) { p[i] = hyv_f32_to_f16(v); }
__device__ __forceinline__ void hyv_st_bf16(hyv_u16* p, unsigned long long i, float v) { p[i] = hyv_f32_to_bf16(v); }
__device__ __forceinline__ void hyv_st_bool(hyv_u8* p, unsigned long long i, float v) { p[i] = v != 0.0f; }

// Vector reads and writes of the 8 elements from element i (i a multiple of 8, the buffer
// 16-byte aligned): two float4 for f32, one uint4 for 16-bit types, one uint2 for bools.
__device__ __forceinline__ void hyv_ld8_f32(const float* p, unsigned long long i, float* x) {
  const float4 a = reinterpret_cast<const float4*>(p + i)[0];
  const float4 b = reinterpret_cast<const float4*>(p + i)[1];
  x[0] = a.x; x[1] = a.y; x[2] = a.z; x[3] = a.w;
  x[4] = b.x; x[5] = b.y; x[6] = b.z; x[7] = b.w;
}
__device__ __forceinline__ void hyv_unpack8(uint4 v, hyv_u16* h) {
  const unsigned int w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    h[2 * j] = (hyv_u16)(w[j] & 0xffffu);
    h[2 * j + 1] = (hyv_u16)(w[j] >> 16);
  }
}
__device__ __forceinline__ uint4 hyv_pack8(const hyv_u16* h) {
  return make_uint4(h[0] | ((unsigned int)h[1] << 16), h[2] | ((unsigned int)h[3] << 16),
                    h[4] | ((unsigned int)h[5] << 16), h[6] | ((unsigned int)h[7] << 16));
}
__device__ __forceinline__ void hyv_ld8_f16(const hyv_u16* p, unsigned long long i, float* x) {
  hyv_u16 h[8];
  hyv_unpack8(*reinterpret_cast<const uint4*>(p + i), h);
#pragma unroll
  for (int j = 0; j < 8; ++j) x[j] = hyv_f16_to_f32(h[j]);
}
__device__ __forceinline__ void hyv_ld8_bf16(const hyv_u16* p, unsigned long long i, float* x) {
  hyv_u16 h[8];
  hyv_unpack8(*reinterpret_cast<const uint4*>(p + i), h);
#pragma unroll
  for (int j = 0; j < 8; ++j) x[j] = hyv_bf16_to_f32(h[j]);
}
__device__ __forceinline__ void hyv_ld8_bool(const hyv_u8* p, unsigned long long i, float* x) {
  const uint2 v = *reinterpret_cast<const uint2*>(p + i);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    x[j] = ((v.x >> (8 * j)) & 0xffu) ? 1.0f : 0.0f;
    x[j + 4] = ((v.y >> (8 * j)) & 0xffu) ? 1.0f : 0.0f;
  }
}
__device__ __forceinline__ void hyv_st8_f32(float* p, unsigned long long i, const float* x) {
  reinterpret_cast<float4*>(p + i)[0] = make_float4(x[0], x[1], x[2], x[3]);
  reinterpret_cast<float4*>(p + i)[1] = make_float4(x[4], x[5], x[6], x[7]);
}
__device__ __forceinline__ void hyv_st8_f16(hyv_u16* p, unsigned long long i, const float* x) {
  hyv_u16 h[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) h[j] = hyv_f32_to_f16(x[j]);
  *reinterpret_cast<uint4*>(p + i) = hyv_pack8(h);
}
__device__ __forceinline__ void hyv_st8_bf16(hyv_u16* p, unsigned long long i, const float* x) {
  hyv_u16 h[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) h[j] = hyv_f32_to_bf16(x[j]);
  *reinterpret_cast<uint4*>(p + i) = hyv_pack8(h);
}
__device__ __forceinline__ void hyv_st8_bool(hyv_u8* p, unsigned long long i, const float* x) {
  unsigned int lo = 0, hi = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    lo |= (x[j] != 0.0f ? 1u : 0u) << (8 * j);
    hi |= (x[j + 4] != 0.0f ? 1u : 0u) << (8 * j);
  }
  *reinterpret_cast<uint2*>(p + i) = make_uint2(lo, hi);
}

// The scalar functions, with the CPU backend's semantics.
__device__ __forceinline__ float hyv_nan() { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ float hyv_neg_inf() { return __int_as_float(0xff800000); }
__device__ __forceinline__ float hyv_max(float a, float b) {
  return (a != a || b != b) ? hyv_nan() : fmaxf(a, b);
}
__device__ __forceinline__ float hyv_min(float a, float b) {
  return (a != a || b != b) ? hyv_nan() : fminf(a, b);
}
__device__ __forceinline__ float hyv_bool(bool b) { return b ? 1.0f : 0.0f; }
__device__ __forceinline__ float hyv_round_f16(float x) { return hyv_f16_to_f32(hyv_f32_to_f16(x)); }
__device__ __forceinline__ float hyv_round_bf16(float x) { return hyv_bf16_to_f32(hyv_f32_to_bf16(x)); }

// Block-wide reductions over blockDim.x threads (a multiple of 32, at most 1024): warp
// shuffles, then one value per warp through shared memory. Every thread gets the result.
__device__ __forceinline__ double hyv_block_sum(double v) {
  __shared__ double part[32];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return __shfl_sync(0xffffffffu, v, 0);
}
__device__ __forceinline__ float hyv_block_max(float v) {
  __shared__ float part[32];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = hyv_max(v, __shfl_down_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = lane < (int)(blockDim.x >> 5) ? part[lane] : hyv_neg_inf();
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = hyv_max(v, __shfl_down_sync(0xffffffffu, v, o));
  return __shfl_sync(0xffffffffu, v, 0);
}
