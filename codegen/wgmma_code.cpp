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

std::string wgmma_struct(const std::string& name, int n_qk, int n_pv, DType dtype) {
  // 8-bit operands: k32 steps, and no transpose immediates (both operands of
  // an fp8 wgmma are K-major, so the runtime hands the kernel V transposed).
  const bool fp8 = dtype == DType::FP8E4M3 || dtype == DType::FP8E5M2;
  const char* type = dtype == DType::BF16      ? "bf16"
                     : dtype == DType::F16     ? "f16"
                     : dtype == DType::FP8E4M3 ? "e4m3"
                                               : "e5m2";
  // P, in [0, 1], wants mantissa more than range: e4m3 whatever V's type.
  const char* p_type = fp8 ? "e4m3" : type;
  const int k = fp8 ? 32 : 16;
  const char* qk_tail = fp8 ? "" : ", 0, 0";
  const char* pv_tail = fp8 ? "" : ", 1";
  const int qk_in = n_qk / 2;
  const int pv_in = n_pv / 2;
  return fmt::format(
      "struct {name} {{\n"
      "  static constexpr int kK = {k};\n"
      "  static __device__ __forceinline__ void qk(float (&d)[{qk_tiles}][4], aj::u64 a, aj::u64 "
      "b,\n"
      "                                            int accumulate) {{\n"
      "    asm volatile(\n"
      "        \"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{qk_acc}, 0;\\n\"\n"
      "        \"wgmma.mma_async.sync.aligned.m64n{n_qk}k{k}.f32.{type}.{type} \"\n"
      "        \"{qk_list}, %{qk_a}, %{qk_b}, p, 1, 1{qk_tail};\\n}}\\n\"\n"
      "        : {qk_ops}\n"
      "        : \"l\"(a), \"l\"(b), \"r\"(accumulate));\n"
      "  }}\n"
      "  static __device__ __forceinline__ void pv(float (&d)[{pv_tiles}][4], const aj::u32 "
      "(&a)[4],\n"
      "                                            aj::u64 b) {{\n"
      "    asm volatile(\n"
      "        \"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{pv_one}, 0;\\n\"\n"
      "        \"wgmma.mma_async.sync.aligned.m64n{n_pv}k{k}.f32.{p_type}.{type} \"\n"
      "        \"{pv_list}, {{%{a0}, %{a1}, %{a2}, %{a3}}}, %{pv_b}, p, 1, 1{pv_tail};\\n}}\\n\"\n"
      "        : {pv_ops}\n"
      "        : \"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), \"l\"(b), \"r\"(1));\n"
      "  }}\n"
      "}};\n",
      fmt::arg("name", name), fmt::arg("type", type), fmt::arg("p_type", p_type), fmt::arg("k", k),
      fmt::arg("n_qk", n_qk), fmt::arg("n_pv", n_pv), fmt::arg("qk_tiles", n_qk / 8),
      fmt::arg("pv_tiles", n_pv / 8), fmt::arg("qk_tail", qk_tail), fmt::arg("pv_tail", pv_tail),
      fmt::arg("qk_list", accumulator_list(n_qk)), fmt::arg("qk_ops", accumulator_operands(n_qk)),
      fmt::arg("qk_a", qk_in), fmt::arg("qk_b", qk_in + 1), fmt::arg("qk_acc", qk_in + 2),
      fmt::arg("pv_list", accumulator_list(n_pv)), fmt::arg("pv_ops", accumulator_operands(n_pv)),
      fmt::arg("a0", pv_in), fmt::arg("a1", pv_in + 1), fmt::arg("a2", pv_in + 2),
      fmt::arg("a3", pv_in + 3), fmt::arg("pv_b", pv_in + 4), fmt::arg("pv_one", pv_in + 5));
}

}  // namespace attnjit::codegen
