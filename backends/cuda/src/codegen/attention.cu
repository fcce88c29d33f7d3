// hyv flash attention (SIMT): softmax(scale * q k^T + mask) v with an online softmax over
// tiles of keys, never materialising the score matrix. Included after the prelude and the
// defines HYV_D (head dim), HYV_T (storage type), HYV_LD / HYV_ST (its
// scalar load and store) and HYV_NAME (the entry point).
//
// q, out: [B, H, Sq, D]; k, v: [B, H, Sk, D], all contiguous. key_mask: [B, Sk] bytes or
// null (0 hides a key); causal hides key j from query i when j > i. A query that sees no
// key gets zeros. f32 accumulation whatever the storage type.
//
// Block: HYV_WARPS warps, one query row each (blockIdx.x: tile of queries, blockIdx.y:
// batch * head). Per tile of 32 keys, the block stages K and V in shared memory; lane j of
// a warp scores key j, the warp takes the tile's max and sum with shuffles, and each lane
// accumulates the output columns lane, lane + 32, ... (HYV_COLS of them).

#define HYV_WARPS 8
#define HYV_KEYS 32
#define HYV_COLS ((HYV_D + 31) / 32)

extern "C" __global__ void __launch_bounds__(HYV_WARPS * 32)
HYV_NAME(const HYV_T* __restrict__ q, const HYV_T* __restrict__ k, const HYV_T* __restrict__ v,
         const hyv_u8* __restrict__ key_mask, HYV_T* __restrict__ out, int heads, int sq, int sk,
         float scale, int causal) {
  __shared__ float ks[HYV_KEYS][HYV_D + 1];
  __shared__ float vs[HYV_KEYS][HYV_D];
  __shared__ float qs[HYV_WARPS][HYV_D];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int bh = blockIdx.y, b = bh / heads;
  const int qi = blockIdx.x * HYV_WARPS + warp;
  const bool active = qi < sq;
  const unsigned long long qbase = ((unsigned long long)bh * sq + (active ? qi : 0)) * HYV_D;
  const unsigned long long kbase = (unsigned long long)bh * sk * HYV_D;
  for (int d = lane; d < HYV_D; d += 32) qs[warp][d] = active ? HYV_LD(q, qbase + d) : 0.0f;

  float m = hyv_neg_inf(), total = 0.0f;
  float acc[HYV_COLS];
#pragma unroll
  for (int c = 0; c < HYV_COLS; ++c) acc[c] = 0.0f;

  for (int k0 = 0; k0 < sk; k0 += HYV_KEYS) {
    __syncthreads();  // the previous tile is no longer read
    for (int i = tid; i < HYV_KEYS * HYV_D; i += HYV_WARPS * 32) {
      const int j = i / HYV_D, d = i % HYV_D, key = k0 + j;
      const unsigned long long at = kbase + (unsigned long long)key * HYV_D + d;
      ks[j][d] = key < sk ? HYV_LD(k, at) : 0.0f;
      vs[j][d] = key < sk ? HYV_LD(v, at) : 0.0f;
    }
    __syncthreads();
    const int key = k0 + lane;
    const bool visible = active && key < sk && (key_mask == 0 || key_mask[(unsigned long long)b * sk + key]) &&
                         !(causal && key > qi);
    float s = hyv_neg_inf();
    if (visible) {
      float dot = 0.0f;
#pragma unroll 8
      for (int d = 0; d < HYV_D; ++d) dot = fmaf(qs[warp][d], ks[lane][d], dot);
      s = dot * scale;
    }
    float tile_max = s;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, o));
    const float m_new = fmaxf(m, tile_max);
    if (m_new == hyv_neg_inf()) continue;  // no visible key so far (uniform over the warp)
    const float p = visible ? expf(s - m_new) : 0.0f;
    const float alpha = m == hyv_neg_inf() ? 0.0f : expf(m - m_new);
    float tile_sum = p;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) tile_sum += __shfl_xor_sync(0xffffffffu, tile_sum, o);
    total = total * alpha + tile_sum;
#pragma unroll
    for (int c = 0; c < HYV_COLS; ++c) acc[c] *= alpha;
    for (int j = 0; j < HYV_KEYS; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
#pragma unroll
      for (int c = 0; c < HYV_COLS; ++c) {
        const int col = c * 32 + lane;
        if (col < HYV_D) acc[c] = fmaf(pj, vs[j][col], acc[c]);
      }
    }
    m = m_new;
  }
  if (active) {
#pragma unroll
    for (int c = 0; c < HYV_COLS; ++c) {
      const int col = c * 32 + lane;
      if (col < HYV_D) HYV_ST(out, qbase + col, total > 0.0f ? acc[c] / total : 0.0f);
    }
  }
}
