// Hopper's asynchronous copies: mbarriers, on which copies and threads
// complete phases, and the tensor memory accelerator (TMA), which copies boxes
// of a tensor described by a map into shared memory. Shared by the families
// that stream through TMA (fwd_sm90.cuh, fwd_decode.cuh on sm_90).
#pragma once

#include "attnjit/prelude.cuh"

namespace aj {

// --- mbarriers ------------------------------------------------------------
__device__ __forceinline__ void mbar_init(u64* bar, u32 count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(count));
}
// Makes barriers just initialised by this thread visible to the CTA's other
// threads and to the copy engine; a CTA barrier must follow before their use.
__device__ __forceinline__ void mbar_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
// Arrives and announces `bytes` of TMA traffic that completes the phase.
__device__ __forceinline__ void mbar_expect_tx(u64* bar, u32 bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)),
               "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbar_arrive(u64* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_addr(bar)) : "memory");
}
// Returns once the phase of parity `parity` has completed. A fresh barrier
// counts its phase before the first as completed, so waiting for parity 1 on
// it returns at once: how the producer finds every stage free at the start.
__device__ __forceinline__ void mbar_wait(u64* bar, u32 parity) {
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT;\n"
      "}\n" ::"r"(smem_addr(bar)),
      "r"(parity)
      : "memory");
}

// --- TMA --------------------------------------------------------------------
// A box of the 4-D tensor [batch, heads, rows, cols] at (col, row, head, batch)
// into shared memory; rows past the tensor's end arrive as zeros.
__device__ __forceinline__ void tma_load(void* dst, const TmaMap& map, u64* bar, int col, int row,
                                         int head, int batch) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(smem_addr(dst)),
      "l"(reinterpret_cast<u64>(&map)), "r"(col), "r"(row), "r"(head), "r"(batch),
      "r"(smem_addr(bar))
      : "memory");
}

// Fetches a TMA map into the descriptor cache ahead of its first load, which
// would otherwise wait for it.
__device__ __forceinline__ void tma_prefetch_map(const TmaMap& map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<u64>(&map)) : "memory");
}

// Orders this thread's generic-proxy accesses of shared memory before later
// TMA writes to it: a buffer written or read by threads and then refilled by
// TMA needs it between the two, before the barrier that lets the copy start.
__device__ __forceinline__ void fence_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

}  // namespace aj
