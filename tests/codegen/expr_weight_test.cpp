// Which masks count as heavy code, which read tensors and which builtins they
// name: the bitmask mask loop and the tile class table rest on them.
#include "codegen/expr_weight.hpp"

#include "tests/language/test_util.hpp"
#include <attnjit/language.hpp>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

using testing::parse_one;

ir::ExprPtr mask_of(const char* mask, const char* decls = "") {
  return parse_one(std::string("variant v { dtype bf16; head_dim 64; ") + decls + " mask " + mask +
                   "; }")
      .mask_expr();
}

TEST(ExprWeight, IndexComparisonsAreLight) {
  const ir::ExprPtr mask = mask_of("causal && q - k < 1024");
  EXPECT_FALSE(heavy_code(mask));
  EXPECT_FALSE(reads_tensors(mask));
  EXPECT_FALSE(heavy_code(nullptr));
}

TEST(ExprWeight, DivisionsAreHeavyWithoutReadingTensors) {
  const ir::ExprPtr mask = mask_of("q / c == k / c", "param c: i32 = 64;");
  EXPECT_TRUE(heavy_code(mask));
  EXPECT_FALSE(reads_tensors(mask));
  EXPECT_TRUE(heavy_code(mask_of("q % 7 < 3")));
}

TEST(ExprWeight, TensorReadsAnywhereAreFound) {
  const ir::ExprPtr mask =
      mask_of("causal || (k < 8 && doc[k] == doc[q])", "tensor doc: i32[kv_len];");
  EXPECT_TRUE(heavy_code(mask));
  EXPECT_TRUE(reads_tensors(mask));
}

TEST(ExprWeight, ValuesComputedElsewhereAreLight) {
  const ir::ExprPtr mask = mask_of("causal && doc[k] == doc[q]", "tensor doc: i32[kv_len];");
  const auto* both = mask->as<ir::Binary>();
  const auto* same = both->rhs->as<ir::Binary>();
  EXPECT_FALSE(heavy_code(mask, {same->lhs.get(), same->rhs.get()}));
  EXPECT_TRUE(heavy_code(mask, {same->lhs.get()}));
}

TEST(ExprWeight, ReadsAtFixedIndicesAreLight) {
  const ir::ExprPtr mask = mask_of("causal && keep[h] > 0", "tensor keep: i32[heads];");
  EXPECT_FALSE(heavy_code(mask));
  EXPECT_TRUE(reads_tensors(mask));
  EXPECT_TRUE(heavy_code(mask_of("keep[h, k - q] > 0", "tensor keep: i32[heads, 64];")));
}

TEST(ExprWeight, BuiltinsInsideTensorIndicesAreFound) {
  const ir::ExprPtr mask = mask_of("doc[b, q] == doc[b, k] && bias[hkv] > 0",
                                   "tensor doc: i32[batch, kv_len]; tensor bias: f32[kv_heads];");
  EXPECT_TRUE(uses_builtin(mask, ir::Builtin::B));
  EXPECT_TRUE(uses_builtin(mask, ir::Builtin::Hkv));
  EXPECT_FALSE(uses_builtin(mask, ir::Builtin::H));
  EXPECT_FALSE(uses_builtin(mask_of("causal"), ir::Builtin::B));
}

}  // namespace
}  // namespace attnjit::codegen
