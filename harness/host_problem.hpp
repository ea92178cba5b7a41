// A random attention problem for a variant, held on the host: Q, K, V rounded
// to the variant's storage type (fp8 with a scale per head), tensors and
// params drawn to exercise the mask.
#pragma once

#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace attnjit::harness {

struct HostProblem {
  AttentionShape shape;
  // Contiguous [batch, heads, len, dim]: the elements in the variant's storage
  // (half.hpp's store), and the values they stand for, for the reference: an
  // fp8 element times its head's descale.
  std::vector<std::uint8_t> q_bytes, k_bytes, v_bytes;
  std::vector<double> q, k, v;
  // An fp8 variant's dequantisation factors, contiguous float [batch, heads]
  // for Q and [batch, kv_heads] for K and V, or with fp8_block_scales [batch,
  // heads, q_len], [batch, kv_heads, ceil(kv_len / 64)] and [batch,
  // kv_heads, head_dim_v] (FwdInputs' shapes); empty for other variants.
  std::vector<float> q_descale, k_descale, v_descale;
  bool fp8_block_scales = false;
  std::map<std::string, ParamValue, std::less<>> params;
  std::map<std::string, HostTensor, std::less<>> tensors;
  std::vector<std::int64_t> kv_lens;  // a ragged batch's keys per entry; empty: kv_len each

  [[nodiscard]] ReferenceInputs reference_inputs() const;
};

struct ProblemOptions {
  std::uint64_t seed = 1;
  // Draw params that have defaults too, so that a window of 4096 still bites
  // at test lengths.
  bool draw_defaulted_params = true;
  std::map<std::string, ParamValue, std::less<>> params;  // given values win over drawn ones
  // A ragged batch: each entry's keys drawn in [0, kv_len], the first entry
  // with kv_len and, from two entries on, the second with none.
  bool ragged = false;
  // Q and K drawn with this standard deviation: above 1 the softmax peaks on
  // a few keys per query, the regime that approximations such as
  // HyperAttention are built for.
  double qk_scale = 1.0;
  // Channels of Q and K (the same ones) scaled by factors drawn in [10, 100]:
  // the outliers of LLM activations that SageAttention smooths K against.
  int outlier_channels = 0;
  // fp8 inputs quantised with a factor per query row, per 64 keys and per V
  // channel, not per head.
  bool fp8_block_scales = false;
};

// FLOPs of one forward pass as ../shared/bench/peers.py counts them:
// 4 * batch * heads * head_dim * (unmasked pairs of batch entry 0, head 0).
double attention_flops(const Variant& variant, const HostProblem& problem);

HostProblem random_problem(const Variant& variant, const AttentionShape& shape,
                           const ProblemOptions& options);

}  // namespace attnjit::harness
