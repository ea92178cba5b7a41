// The equivalences of LANGUAGE.md's "Identity" section, and what must not be
// equivalent.
#include "language/hyper_plan.hpp"
#include "tests/language/test_util.hpp"

#include <set>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using testing::parse_one;

constexpr std::string_view kBase = R"(
variant gemma2_local {
  dtype    bf16;
  head_dim 256;
  param    window: i32 = 4096;
  mask     causal && q - k < window;
  score    softcap(score, 50.0);
}
)";

std::string hash_of(std::string_view text) { return parse_one(text).hash(); }

TEST(Canonical, HashIs16LowercaseHexDigits) {
  const std::string hash = hash_of(kBase);
  ASSERT_EQ(hash.size(), 16U);
  for (const char c : hash) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(Canonical, WhitespaceAndCommentsDoNotMatter) {
  EXPECT_EQ(hash_of(kBase),
            hash_of("# a comment\nvariant gemma2_local{dtype bf16;head_dim 256;  # size\n"
                    "param window:i32=4096;mask causal&&q-k<window;score softcap(score,50.0);}"));
}

TEST(Canonical, TheNameDoesNotMatter) {
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant other_name {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask causal && q - k < window; score softcap(score, 50.0); })"));
}

TEST(Canonical, IndependentStatementOrderDoesNotMatter) {
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    score softcap(score, 50.0);
    mask causal && q - k < window;
    param window: i32 = 4096;
    head_dim 256;
    dtype bf16; })"));
}

TEST(Canonical, SplitMasksAndConjunctOrderDoNotMatter) {
  const std::string split = hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask q - k < window;
    mask causal;
    score softcap(score, 50.0); })");
  EXPECT_EQ(hash_of(kBase), split);
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask q - k < window && causal && causal;
    score softcap(score, 50.0); })"));
}

TEST(Canonical, RedundantParenthesesDoNotMatter) {
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask ((causal) && (((q - k)) < (window)));
    score (softcap((score), (50.0))); })"));
}

TEST(Canonical, DefaultsSpelledOutDoNotMatter) {
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    dtype bf16; out_dtype bf16; head_dim 256; head_dim_v 256;
    scale 1 / sqrt(head_dim);
    param window: i32 = 4096;
    mask true;
    mask causal && q - k < window;
    score softcap(score, 50.0); })"));
  EXPECT_EQ(hash_of("variant a { dtype fp16; head_dim 64; }"),
            hash_of("variant a { dtype fp16; head_dim 64; mask true; score score; scale 0.125; }"));
  EXPECT_EQ(hash_of("variant a { dtype fp8_e4m3; head_dim 64; }"),
            hash_of("variant a { dtype fp8_e4m3; out_dtype bf16; head_dim 64; }"));
}

TEST(Canonical, ConstantsWrittenDifferentlyDoNotMatter) {
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4000 + 96;
    mask causal && q - k < window;
    score softcap(score, 100.0 / 2); })"));
  EXPECT_EQ(hash_of("variant a { dtype bf16; head_dim 64; mask q - k < 4096; }"),
            hash_of("variant a { dtype bf16; head_dim 64; mask q - k < 2 * 2048 + 0 * 7; }"));
  EXPECT_EQ(hash_of("variant a { dtype bf16; head_dim 64; score score * 0.5; }"),
            hash_of("variant a { dtype bf16; head_dim 64; score score * (1 / 2.0); }"));
  EXPECT_EQ(hash_of("variant a { dtype bf16; head_dim 64; mask k < head_dim * 2; }"),
            hash_of("variant a { dtype bf16; head_dim 64; mask k < 128; }"));
}

TEST(Canonical, ChangesToTheFunctionChangeTheHash) {
  const std::string base = hash_of(kBase);
  const std::vector<std::string> changed = {
      // dtype, sizes, scale
      "variant g { dtype fp16; head_dim 256; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 128; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; head_dim_v 128; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; out_dtype fp16; head_dim 256; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; scale 0.1; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      // the interface: a param's default, type or name
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4095;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; param window: i32;"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; param win: i32 = 4096;"
      " mask causal && q - k < win; score softcap(score, 50.0); }",
      // mask and score
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4096;"
      " mask causal && q - k <= window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4096;"
      " mask q - k < window; score softcap(score, 50.0); }",
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4096;"
      " mask causal && q - k < window; score softcap(score, 30.0); }",
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4096;"
      " mask causal && q - k < window; }",
      // an unused tensor is still part of the interface
      "variant g { dtype bf16; head_dim 256; param window: i32 = 4096; tensor t: f32[heads];"
      " mask causal && q - k < window; score softcap(score, 50.0); }",
  };
  std::set<std::string> seen = {base};
  for (const std::string& text : changed) {
    EXPECT_TRUE(seen.insert(hash_of(text)).second) << text;
  }
}

constexpr std::string_view kCausal = "variant causal { dtype bf16; head_dim 128; mask causal; }";

TEST(Canonical, ContiguousKvKeepsTheFormAndHashOfBefore) {
  // Hashes are cache keys: examples/causal.attn's must not move when statements are added.
  const Variant causal = parse_one(kCausal);
  EXPECT_EQ(causal.kv_page_size(), 0);
  EXPECT_EQ(causal.canonical(),
            "dtype bf16;\nout_dtype bf16;\nhead_dim 128;\nhead_dim_v 128;\nscale 0.088388346;\n"
            "mask causal;\nscore score;\n");
  EXPECT_EQ(causal.hash(), "2ff9fed177b10a74");
  const Variant spelled =
      parse_one("variant causal { dtype bf16; head_dim 128; kv contiguous; mask causal; }");
  EXPECT_EQ(spelled.kv_page_size(), 0);
  EXPECT_EQ(spelled.canonical(), causal.canonical());
  EXPECT_EQ(spelled.hash(), causal.hash());
}

TEST(Canonical, PagedKvHasItsOwnLineAndHash) {
  const Variant paged =
      parse_one("variant causal { dtype bf16; head_dim 128; kv paged(16); mask causal; }");
  EXPECT_EQ(paged.kv_page_size(), 16);
  EXPECT_EQ(paged.canonical(),
            "dtype bf16;\nout_dtype bf16;\nhead_dim 128;\nhead_dim_v 128;\nkv paged(16);\n"
            "scale 0.088388346;\nmask causal;\nscore score;\n");
  EXPECT_EQ(paged.hash(), "a36f0390f7e57ad7");
  EXPECT_NE(paged.hash(), hash_of(kCausal));
  EXPECT_NE(paged.hash(),
            hash_of("variant causal { dtype bf16; head_dim 128; kv paged(32); mask causal; }"));
  EXPECT_NE(hash_of("variant a { dtype bf16; head_dim 64; kv paged(1); }"),
            hash_of("variant a { dtype bf16; head_dim 64; kv paged(1024); }"));
}

// The tensor and the term the statement declares stay implicit, so that the
// form parses back to the same variant.
TEST(Canonical, BlockSparsityPrintsItsStatementAlone) {
  const Variant sparse =
      parse_one("variant s { dtype bf16; head_dim 64; sparsity block(128, 64); mask causal; }");
  EXPECT_EQ(sparse.canonical(),
            "dtype bf16;\nout_dtype bf16;\nhead_dim 64;\nhead_dim_v 64;\n"
            "sparsity block(128, 64);\nscale 0.125;\nmask causal;\nscore score;\n");
  EXPECT_EQ(sparse.hash(), hash_of("variant t { mask causal; sparsity block(128, 64); "
                                   "head_dim 64; dtype bf16; }"));
}

// Every argument printed, so that defaults spelled out or left out, in any
// order, give one hash, and the form parses back.
TEST(Canonical, ApproxHyperPrintsEveryArgument) {
  const Variant hyper = parse_one("variant h { dtype bf16; head_dim 64; approx hyper; }");
  EXPECT_EQ(hyper.canonical(),
            "dtype bf16;\nout_dtype bf16;\nhead_dim 64;\nhead_dim_v 64;\n"
            "approx hyper(block=256, samples=256, lsh_bits=7, min_seq=4096);\nscale 0.125;\n"
            "score score;\n");
  EXPECT_EQ(hyper.hash(), hash_of("variant g { approx hyper(min_seq=4096, block=256); "
                                  "dtype bf16; head_dim 64; }"));
  EXPECT_EQ(hyper.hash(), hash_of("variant g {\n" + hyper.canonical() + "}"));
  EXPECT_NE(hyper.hash(), hash_of("variant g { dtype bf16; head_dim 64; approx hyper(); "
                                  "mask causal; }"));
  EXPECT_NE(hyper.hash(), hash_of("variant g { dtype bf16; head_dim 64; "
                                  "approx hyper(samples=128); }"));
  EXPECT_NE(hyper.hash(), hash_of("variant g { dtype bf16; head_dim 64; }"));
}

TEST(Canonical, QuantSagePrintsEveryArgument) {
  const Variant sage = parse_one("variant s { dtype bf16; head_dim 128; quant sage; }");
  EXPECT_EQ(sage.canonical(),
            "dtype bf16;\nout_dtype bf16;\nhead_dim 128;\nhead_dim_v 128;\n"
            "quant sage(qk=int8, pv=fp8_e4m3, smooth_k=true, hadamard=true);\nscale 0.088388346;\n"
            "score score;\n");
  EXPECT_EQ(sage.hash(), hash_of("variant t { quant sage(smooth_k=true, qk=int8); head_dim 128; "
                                 "dtype bf16; }"));
  EXPECT_EQ(sage.hash(), hash_of("variant g {\n" + sage.canonical() + "}"));
  EXPECT_NE(sage.hash(), hash_of("variant g { dtype bf16; head_dim 128; "
                                 "quant sage(smooth_k=false); }"));
  EXPECT_NE(sage.hash(), hash_of("variant g { dtype bf16; head_dim 128; "
                                 "quant sage(hadamard=false); }"));
  EXPECT_NE(sage.hash(), hash_of("variant g { dtype bf16; head_dim 128; "
                                 "quant sage(pv=bf16); }"));
  EXPECT_NE(sage.hash(), hash_of("variant g { dtype bf16; head_dim 128; }"));
  ASSERT_TRUE(sage.quant().has_value());
  EXPECT_EQ(*sage.quant(), (SageQuant{true, true}));
  // What it approximates (`run --vs-exact`): the same variant, unquantised.
  EXPECT_EQ(exact_of(sage).hash(), hash_of("variant g { dtype bf16; head_dim 128; }"));
  const Variant sixteen = parse_one("variant s { dtype fp16; head_dim 128; quant sage(pv=fp16); }");
  EXPECT_NE(sixteen.canonical().find("quant sage(qk=int8, pv=fp16, smooth_k=true, hadamard=true);"),
            std::string::npos);
  EXPECT_EQ(sixteen.hash(), hash_of("variant g {\n" + sixteen.canonical() + "}"));
}

TEST(Canonical, KvStatementOrderDoesNotMatter) {
  const std::string first = hash_of(R"(variant g {
    kv paged(64); dtype bf16; head_dim 256; param window: i32 = 4096;
    mask causal && q - k < window; score softcap(score, 50.0); })");
  EXPECT_EQ(first, hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask causal && q - k < window; score softcap(score, 50.0); kv paged(64); })"));
  EXPECT_EQ(first, hash_of(R"(variant g {
    score softcap(score, 50.0); mask causal && q - k < window; kv paged(64);
    param window: i32 = 4096; head_dim 256; dtype bf16; })"));
  EXPECT_NE(first, hash_of(kBase));
  EXPECT_EQ(hash_of(kBase), hash_of(R"(variant g {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask causal && q - k < window; score softcap(score, 50.0); kv contiguous; })"));
}

TEST(Canonical, IntAndFloatConstantsAreDistinct) {
  // `k < 2` and `k < 2.0` compare differently typed values: same result
  // here, but the printer keeps the float's spelling so the text reparses.
  const Variant as_float = parse_one("variant a { dtype bf16; head_dim 64; mask k < 2.0; }");
  EXPECT_EQ(as_float.mask().front()->type(), ir::Type::Bool);
  EXPECT_NE(as_float.canonical().find("mask k < 2.0;"), std::string::npos) << as_float.canonical();
}

TEST(Canonical, MinimalParenthesesKeepMeaning) {
  const Variant v = parse_one(R"(variant a { dtype bf16; head_dim 64;
    param p: i32 = 3;
    mask (q - (k - p)) * 2 > (q - k) - p && !(q < k) && (causal ? q > 0 : (k > 1 ? true : false));
    score -(score * -2.0) / (1.0 - score); })");
  EXPECT_EQ(v.canonical().substr(v.canonical().find("param")),
            "param p: i32 = 3;\n"
            "mask !(q < k);\n"
            "mask (q - (k - p)) * 2 > q - k - p;\n"
            "mask causal ? q > 0 : k > 1 ? true : false;\n"
            "score -(score * -2.0) / (1.0 - score);\n");
}

TEST(Canonical, CanonicalFormParsesBackToItself) {
  for (const std::string_view text : {
           kBase,
           std::string_view("variant a { dtype fp16; head_dim 80; param s: f32 = -1.5e-7;"
                            " tensor t: bool[batch, 7, n]; tensor u: u8[n];"
                            " mask t[b, q, k] || u[k] % 3 == -1; score score * s - 1e30; }"),
           std::string_view("variant p { dtype fp16; head_dim 64; kv paged(256); mask causal; }"),
       }) {
    const Variant first = parse_one(text);
    const Variant second = parse_one("variant again {\n" + first.canonical() + "}\n");
    EXPECT_EQ(first.canonical(), second.canonical());
    EXPECT_EQ(first.hash(), second.hash());
  }
}

}  // namespace
}  // namespace attnjit
