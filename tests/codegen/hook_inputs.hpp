// What the generated hooks of gen_hooks.cpp bind to: a problem's params (with
// defaults filled in) and tensors converted to their elements' storage types,
// as the kernel's launch would pass them, owned here on the host.
#pragma once

#include "attnjit/prelude.cuh"
#include "harness/host_problem.hpp"
#include <attnjit/variant.hpp>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen_test {

class HookInputs {
 public:
  HookInputs(const Variant& variant, const harness::HostProblem& problem);
  HookInputs(const HookInputs&) = delete;
  HookInputs& operator=(const HookInputs&) = delete;

  [[nodiscard]] int param_i32(std::string_view name) const;
  [[nodiscard]] float param_f32(std::string_view name) const;
  [[nodiscard]] bool param_bool(std::string_view name) const;

  template <int Rank>
  [[nodiscard]] aj::TensorArg<Rank> tensor(std::string_view name) const {
    const Stored& stored = find(name);
    if (stored.extent.size() != static_cast<std::size_t>(Rank)) {
      throw std::logic_error("tensor '" + std::string(name) + "' has another rank");
    }
    aj::TensorArg<Rank> arg{};
    arg.data = stored.bytes.data();
    for (int d = 0; d < Rank; ++d) {
      arg.extent[d] = stored.extent[static_cast<std::size_t>(d)];
      arg.stride[d] = stored.stride[static_cast<std::size_t>(d)];
    }
    return arg;
  }

 private:
  struct Stored {
    std::vector<unsigned char> bytes;  // the elements in their storage type
    std::vector<long long> extent;
    std::vector<long long> stride;
  };
  [[nodiscard]] const Stored& find(std::string_view name) const;
  [[nodiscard]] const ParamValue& param(std::string_view name) const;

  std::map<std::string, ParamValue, std::less<>> params_;
  std::map<std::string, Stored, std::less<>> tensors_;
};

// One variant's hooks bound to one problem.
struct Hooks {
  std::function<bool(const aj::Index&)> mask;
  std::function<bool(const aj::Index&)> mask_of_parts;       // the mask from its parts
  std::function<float(const aj::Index&, float, int)> score;  // k_step last
  // Only for a score that adds terms to `score` (Variant::kAdditiveScore).
  std::function<float(const aj::Index&, int)> bias_log2;
  std::function<int(const aj::Tile&)> classify;
};

// A row of the generated table.
struct HookEntry {
  const char* file;       // the .attn file it came from
  const char* variant;    // the variant's name
  const char* test_name;  // file stem and variant name, as a test name
  bool has_mask;          // Variant::kHasMask
  bool identity_score;    // Variant::kIdentityScore
  Hooks (*bind)(const HookInputs&);
};

}  // namespace attnjit::codegen_test
