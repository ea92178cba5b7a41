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

// The n/2 accumulators of d, and their constraints.
std::string accumulator_operands(int n, const char* constraint) {
  std::string out;
  for (int i = 0; i < n / 2; ++i) {
    out += fmt::format("{}\"{}\"(d[{}][{}])", i == 0 ? "" : ", ", constraint, i / 4, i % 4);
  }
  return out;
}

}  // namespace

std::string wgmma_struct(const std::string& name, int n_qk, int n_pv, ProductTypes types) {
  // 8-bit operands: k32 steps, and no transpose immediates (both operands of
  // an fp8 wgmma are K-major, so the runtime hands the kernel V transposed).
  const bool qk8 = types.qk != "f16" && types.qk != "bf16";
  const bool v8 = types.v != "f16" && types.v != "bf16";
  const bool int8 = types.qk == "s8";
  // P, in [0, 1], wants mantissa more than range: e4m3 whatever V's type.
  const std::string_view p_type = v8 ? "e4m3" : types.v;
  // Integer products have no scale immediates, and accumulate int32.
  const char* qk_tail = int8 ? "" : qk8 ? ", 1, 1" : ", 1, 1, 0, 0";
  const char* pv_tail = v8 ? "" : ", 1";
  const int qk_in = n_qk / 2;
  const int pv_in = n_pv / 2;
  const std::string qk_body = fmt::format(
      "    asm volatile(\n"
      "        \"{{\\n.reg .pred p;\\nsetp.ne.b32 p, %{qk_acc}, 0;\\n\"\n"
      "        \"wgmma.mma_async.sync.aligned.m64n{n_qk}k{k}.{acc}.{type}.{type} \"\n"
      "        \"{qk_list}, %{qk_a}, %{qk_b}, p{qk_tail};\\n}}\\n\"\n"
      "        : {qk_ops}\n"
      "        : \"l\"(a), \"l\"(b), \"r\"(accumulate));\n",
      fmt::arg("type", types.qk), fmt::arg("acc", int8 ? "s32" : "f32"),
      fmt::arg("k", qk8 ? 32 : 16), fmt::arg("n_qk", n_qk), fmt::arg("qk_tail", qk_tail),
      fmt::arg("qk_list", accumulator_list(n_qk)),
      fmt::arg("qk_ops", accumulator_operands(n_qk, int8 ? "+r" : "+f")), fmt::arg("qk_a", qk_in),
      fmt::arg("qk_b", qk_in + 1), fmt::arg("qk_acc", qk_in + 2));
  return fmt::format(
      "struct {name} {{\n"
      "  static constexpr int kK = {k};\n"
      "  static __device__ __forceinline__ void qk({qk_acc_type} (&d)[{qk_tiles}][4], aj::u64 a, "
      "aj::u64 b,\n"
      "                                            int accumulate) {{\n"
      "{qk_body}"
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
      fmt::arg("name", name), fmt::arg("type", types.v), fmt::arg("p_type", p_type),
      fmt::arg("k", v8 ? 32 : 16), fmt::arg("n_pv", n_pv), fmt::arg("qk_tiles", n_qk / 8),
      fmt::arg("pv_tiles", n_pv / 8), fmt::arg("qk_body", qk_body),
      fmt::arg("qk_acc_type", int8 ? "int" : "float"), fmt::arg("pv_tail", pv_tail),
      fmt::arg("pv_list", accumulator_list(n_pv)),
      fmt::arg("pv_ops", accumulator_operands(n_pv, "+f")), fmt::arg("a0", pv_in),
      fmt::arg("a1", pv_in + 1), fmt::arg("a2", pv_in + 2), fmt::arg("a3", pv_in + 3),
      fmt::arg("pv_b", pv_in + 4), fmt::arg("pv_one", pv_in + 5));
}

}  // namespace attnjit::codegen
