// Programmatic dependent launch (sm_90 and newer): a kernel that the runtime
// launches with programmatic stream serialisation may start while the kernel
// ahead of it on the stream still runs, hiding the launch gap between an
// auxiliary kernel (tile classes, plan, merge) and the one that reads its
// results. Both calls are no-ops for a kernel launched the ordinary way and
// before sm_90.
#pragma once

namespace aj {

// Blocks until the grids this one depends on have ended and their writes are
// visible; call before reading anything they wrote.
__device__ __forceinline__ void wait_for_prior_grids() {
#if __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

// Lets the next grid on the stream be scheduled now; it still waits for this
// one to end before reading its results.
__device__ __forceinline__ void allow_dependent_grids() {
#if __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

}  // namespace aj
