#include "tests/language/test_util.hpp"
#include <attnjit/language.hpp>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using testing::first_error;
using testing::parse_one;

TEST(ParseVariants, ReadsTheLanguageExample) {
  const ParseResult result = parse_variants(R"(
    # Gemma-2 local layer: causal sliding window with logit soft-capping
    variant gemma2_local {
      dtype    bf16;
      head_dim 256;
      param    window: i32 = 4096;
      mask     causal && q - k < window;
      score    softcap(score, 50.0);
    }

    variant packed_docs {
      dtype    fp16;
      head_dim 128;
      tensor   doc: i32[batch, kv_len];
      mask     causal && doc[b, q + kv_len - q_len] == doc[b, k];
    }

    variant alibi {
      dtype    bf16;
      head_dim 128;
      tensor   slope: f32[heads];
      mask     causal;
      score    score + slope[h] * (k - (q + kv_len - q_len));
    }
  )",
                                            "example.attn");
  ASSERT_TRUE(result.ok()) << result.errors.front().render();
  ASSERT_EQ(result.variants.size(), 3U);
  const Variant& gemma = result.variants[0];
  EXPECT_EQ(gemma.name(), "gemma2_local");
  EXPECT_EQ(gemma.dtype(), DType::BF16);
  EXPECT_EQ(gemma.out_dtype(), DType::BF16);
  EXPECT_EQ(gemma.head_dim(), 256);
  EXPECT_EQ(gemma.head_dim_v(), 256);
  EXPECT_FLOAT_EQ(gemma.scale(), 0.0625F);
  EXPECT_EQ(gemma.canonical(),
            "dtype bf16;\n"
            "out_dtype bf16;\n"
            "head_dim 256;\n"
            "head_dim_v 256;\n"
            "scale 0.0625;\n"
            "param window: i32 = 4096;\n"
            "mask causal;\n"
            "mask q - k < window;\n"
            "score softcap(score, 50.0);\n");
  EXPECT_EQ(gemma.hash().size(), 16U);
  EXPECT_EQ(result.variants[1].canonical(),
            "dtype fp16;\n"
            "out_dtype fp16;\n"
            "head_dim 128;\n"
            "head_dim_v 128;\n"
            "scale 0.088388346;\n"
            "tensor doc: i32[batch, kv_len];\n"
            "mask causal;\n"
            "mask doc[b, q + kv_len - q_len] == doc[b, k];\n"
            "score score;\n");
}

TEST(ParseVariants, ErrorNamesFileLineColumnAndSuggests) {
  const Diagnostic error = first_error(
      "variant g {\n  dtype bf16;\n  head_dim 64;\n  param window: i32 = 8;\n"
      "  mask causal && q - k < windw;\n}\n");
  EXPECT_EQ(error.file, "test.attn");
  EXPECT_EQ(error.location.line, 5);
  EXPECT_EQ(error.location.column, 26);
  EXPECT_EQ(error.message, "unknown name 'windw' (did you mean 'window'?)");
  EXPECT_EQ(error.render(),
            "test.attn:5:26: error: unknown name 'windw' (did you mean 'window'?)\n"
            "  mask causal && q - k < windw;\n"
            "                         ^~~~~\n");
}

}  // namespace
}  // namespace attnjit
