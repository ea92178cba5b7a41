#include "codegen/wgmma_code.hpp"

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

// "{%0, %1, ...}" over the n/2 accumulators, and their "+f" constraints.
std::string accumulator_list(int n) {
  std::string out = "{";
  for (int i = 0; i < n / 2; ++i) out += fmt::format("{}%{}", i == 0 ? "" : ", ", i);
  return out + "}";
}

std::string accumulator_operands(int n) {
  std::string out;
  for (int i = 0; i < n / 2; ++i) {
    out += fmt::format("{}\"+f\"(d[{}][{}])", i == 0 ? "" : ", ", i / 4, i % 4);
  }
  return out;
}

}  // namespace

std::string wgmma_struct(const std::string& name, int n_qk, int n_pv, bool bf16) {
  const char* type = bf16 ? "bf16" : "f16";
  const int qk_in = n_qk / 2;
  const int pv_in = n_pv / 2;
  return fmt::format(
      "struct {name} {{\n"
      "  static __device__ __forceinline__ void qk(float (&d)[{qk_tiles}][4], aj::u64 a, aj::u64 "
      "b,\n"
      "                                            int accumulate) {{\n"
      "    asm volatile(\n"
      "        \"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{qk_acc}, 0;\\n\"\n"
      "        \"wgmma.mma_async.sync.aligned.m64n{n_qk}k16.f32.{type}.{type} \"\n"
      "        \"{qk_list}, %{qk_a}, %{qk_b}, p, 1, 1, 0, 0;\\n}}\\n\"\n"
      "        : {qk_ops}\n"
      "        : \"l\"(a), \"l\"(b), \"r\"(accumulate));\n"
      "  }}\n"
      "  static __device__ __forceinline__ void pv(float (&d)[{pv_tiles}][4], const aj::u32 "
      "(&a)[4],\n"
      "                                            aj::u64 b) {{\n"
      "    asm volatile(\n"
      "        \"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{pv_one}, 0;\\n\"\n"
      "        \"wgmma.mma_async.sync.aligned.m64n{n_pv}k16.f32.{type}.{type} \"\n"
      "        \"{pv_list}, {{%{a0}, %{a1}, %{a2}, %{a3}}}, %{pv_b}, p, 1, 1, 1;\\n}}\\n\"\n"
      "        : {pv_ops}\n"
      "        : \"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), \"l\"(b), \"r\"(1));\n"
      "  }}\n"
      "}};\n",
      fmt::arg("name", name), fmt::arg("type", type), fmt::arg("n_qk", n_qk),
      fmt::arg("n_pv", n_pv), fmt::arg("qk_tiles", n_qk / 8), fmt::arg("pv_tiles", n_pv / 8),
      fmt::arg("qk_list", accumulator_list(n_qk)), fmt::arg("qk_ops", accumulator_operands(n_qk)),
      fmt::arg("qk_a", qk_in), fmt::arg("qk_b", qk_in + 1), fmt::arg("qk_acc", qk_in + 2),
      fmt::arg("pv_list", accumulator_list(n_pv)), fmt::arg("pv_ops", accumulator_operands(n_pv)),
      fmt::arg("a0", pv_in), fmt::arg("a1", pv_in + 1), fmt::arg("a2", pv_in + 2),
      fmt::arg("a3", pv_in + 3), fmt::arg("pv_b", pv_in + 4), fmt::arg("pv_one", pv_in + 5));
}

}  // namespace attnjit::codegen
