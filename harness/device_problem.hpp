// A host problem uploaded to the GPU in a chosen memory layout, with an output
// that is poisoned before each run so that unwritten elements show.
#pragma once

#include "harness/host_problem.hpp"
#include "runtime/cuda_driver.hpp"
#include "runtime/fwd_launch.hpp"
#include <attnjit/engine.hpp>
#include <attnjit/variant.hpp>

#include <map>
#include <string>
#include <vector>

namespace attnjit::harness {

// BHSD: [batch, heads, seq, dim] contiguous. BSHD: [batch, seq, heads, dim] in
// memory (the layout most models keep), so the kernel sees non-trivial strides.
enum class Layout : std::uint8_t { BHSD, BSHD };

class DeviceProblem {
 public:
  DeviceProblem(const Context& context, const Variant& variant, const HostProblem& host,
                Layout layout, bool with_lse);

  [[nodiscard]] const FwdProblem& problem() const { return problem_; }
  // The same problem as the public API's views.
  [[nodiscard]] FwdInputs inputs() const;
  // Every output byte to 0xff: NaN in every storage format and in the LSE.
  void poison_outputs();
  // O as doubles in [batch, heads, q_len, head_dim_v] order, whatever the layout.
  [[nodiscard]] std::vector<double> output() const;
  [[nodiscard]] std::vector<double> lse() const;

 private:
  DeviceTensor place(DeviceBuffer& buffer, long long heads, long long len, long long dim) const;
  // A paged variant's K or V: the rows of each batch entry on pages in a
  // shuffled order, which page_table_ records.
  DeviceTensor upload_paged(const Context& context, const std::vector<std::uint8_t>& bytes,
                            long long dim, int page);

  DType in_type_;
  DType out_type_;
  int device_;
  Layout layout_;
  AttentionShape shape_;
  int head_dim_v_;
  // q, k, v, o, lse, then the variant's tensors, the page table, kv_lens,
  // the descales
  std::vector<DeviceBuffer> buffers_;
  std::vector<std::int32_t> page_ids_;  // [batch, pages per entry]
  FwdProblem problem_;
  std::map<std::string, ElemType, std::less<>> tensor_types_;
};

}  // namespace attnjit::harness
