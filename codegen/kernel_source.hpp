// The generator: what is specific to one variant and config, as CUDA source
// that instantiates a family template (DESIGN.md, "The seam").
#pragma once

#include "codegen/arch.hpp"
#include "codegen/fa2_config.hpp"
#include <attnjit/variant.hpp>

#include <optional>
#include <string>
#include <vector>

namespace attnjit::codegen {

// The variant's hooks as a struct: params and tensors, the element mask, the
// score expression and the tile classifier. Plain C++ over attnjit/prelude.cuh,
// so host code can compile it as well as NVRTC.
std::string variant_struct(const Variant& variant);

// How a decode-family kernel is launched (fwd_decode.cuh): its stream-K grid
// and the KV layout it reads.
struct DecodeLaunch {
  int ctas_per_sm = 0;  // 0: as many as fit
  int page_size = 0;    // 0: contiguous K and V
};

struct GeneratedKernel {
  std::string file_name;  // for compiler messages
  std::string source;     // one translation unit; its includes are the embedded templates
  std::string entry;      // the extern "C" kernel
  int threads = 0;
  int smem_bytes = 0;  // dynamic shared memory per CTA
  int block_m = 0;     // query rows per CTA
  int block_n = 0;     // keys per K/V tile: the TMA box of K and V
  // Heads whose query tiles interleave (grid_head_group): the grid is
  // ceil(q_len / block_m) * head_group x ceil(heads / head_group) x batch.
  int head_group = 1;
  bool tma_maps = false;  // takes aj::FwdMaps (TMA maps of Q, K, V) right after aj::FwdArgs
  // A grid of at most a CTA per SM over the query tiles, handed out by
  // aj::FwdArgs::work_counter (fa3_sm90's persistent=1).
  bool persistent = false;
  // The decode family: block_m packed rows per CTA, a stream-K grid, and
  // aj::DecodeArgs right after aj::FwdArgs.
  std::optional<DecodeLaunch> decode;
};

// The variant's kernel arguments after the family's own: params then tensors,
// each in name order (the order the runtime packs them in), as a parameter
// list (", const int window, ...") and as the names alone ("window, ...").
struct VariantArguments {
  std::string signature;
  std::string names;
};
VariantArguments variant_arguments(const Variant& variant);

// How many heads share the prefill grid's x dimension (tile_walk.cuh's
// cta_tile, which says why it is a compile-time constant): 2 under a mask,
// whose last query tiles carry the most keys, so that the heavy tiles of 2
// heads go ahead of their light ones and the grid ends on short CTAs rather
// than on a long one started last (H100: causal b2 h16 s8192 and ALiBi 4-4.5%
// less time, s4096 1.3%, s16384 0.3-1%). 4 heads took more off s4096 but cost
// s16384 3-6%, their K and V together past half of L2. Without a mask every
// tile costs the same, and a head at a time reads the least K and V at once.
int grid_head_group(const Variant& variant);

// The violations as one SpecError message, or nothing when there are none.
void throw_violations(const std::vector<std::string>& violations, const std::string& config,
                      const Variant& variant, const Arch& arch);

// Throws SpecError listing every rule the config breaks for the variant or arch.
GeneratedKernel fa2_kernel(const Variant& variant, const Fa2Config& config, const Arch& arch);

}  // namespace attnjit::codegen
