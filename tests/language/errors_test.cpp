// Bad files: every error names its line and column, says what is wrong, and
// suggests the near-miss name where there is one.
#include "tests/language/test_util.hpp"

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using testing::first_error;

struct Case {
  std::string text;
  int line;
  int column;
  std::string message;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.text; }

class Errors : public ::testing::TestWithParam<Case> {};

TEST_P(Errors, AreLocatedAndExplained) {
  const Diagnostic error = first_error(GetParam().text);
  EXPECT_EQ(error.message, GetParam().message);
  EXPECT_EQ(error.location.line, GetParam().line);
  EXPECT_EQ(error.location.column, GetParam().column);
}

// Wraps statements in a variant with the required ones on line 1.
std::string body(std::string_view statements) {
  return "variant v { dtype bf16; head_dim 64;\n" + std::string(statements) + "\n}\n";
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, Errors,
    ::testing::Values(
        Case{"", 1, 1, "no variant in file"},
        Case{"# only a comment\n", 1, 1, "no variant in file"},
        Case{"varient v {}", 1, 1, "expected 'variant', got 'varient'"},
        Case{"variant {}", 1, 9, "expected a variant name, got '{'"},
        Case{"variant v dtype", 1, 11, "expected '{' after the variant name, got 'dtype'"},
        Case{"variant v { dtype bf16;", 1, 24, "expected '}' to close variant 'v'"},
        Case{body("mask causal"), 3, 1, "expected ';' to end the 'mask' statement, got '}'"},
        Case{body("maks causal;"), 2, 1, "unknown statement 'maks' (did you mean 'mask'?)"},
        Case{body("sparsity blok(128, 128);"), 2, 10,
             "unknown sparsity 'blok' (did you mean 'block'?)"},
        Case{body("sparsity block(128);"), 2, 19, "expected ',' between the block sizes, got ')'"},
        Case{body("sparsity block 128, 128;"), 2, 16, "expected '(' after 'block', got '128'"},
        Case{body("sparsity hash(bucket=8);"), 2, 15, "expected 'buckets', got 'bucket'"},
        Case{body("sparsity hash(buckets 8);"), 2, 23, "expected '=' after 'buckets', got '8'"},
        Case{body("sparsity hash(buckets=8;"), 2, 24,
             "expected ')' after the number of buckets, got ';'"},
        Case{body("approx hypr;"), 2, 8, "unknown approximation 'hypr' (did you mean 'hyper'?)"},
        Case{body("approx hyper(block 64);"), 2, 20,
             "expected '=' after the argument name, got '64'"},
        Case{body("approx hyper(block=64 samples=8);"), 2, 23,
             "expected ',' between the arguments, got 'samples'"},
        Case{body("quant int8;"), 2, 7, "unknown quantisation 'int8'"},
        Case{body("quant sag;"), 2, 7, "unknown quantisation 'sag' (did you mean 'sage'?)"},
        Case{body("quant sage(qk int8);"), 2, 15,
             "expected '=' after the argument name, got 'int8'"},
        Case{body("quant sage(qk=8);"), 2, 15, "expected a type, true or false, got '8'"},
        Case{body("kvv paged(16);"), 2, 1, "unknown statement 'kvv' (did you mean 'kv'?)"},
        Case{body("kv pagd(16);"), 2, 4, "unknown KV layout 'pagd' (did you mean 'paged'?)"},
        Case{body("kv blocked;"), 2, 4, "unknown KV layout 'blocked'"},
        Case{body("kv 16;"), 2, 4, "expected a KV layout ('contiguous' or 'paged'), got '16'"},
        Case{body("kv paged;"), 2, 9, "expected '(' after 'paged', got ';'"},
        Case{body("kv paged(16.0);"), 2, 10, "expected 'an integer' as the page size, got '16.0'"},
        Case{body("kv paged(n);"), 2, 10, "expected 'an integer' as the page size, got 'n'"},
        Case{body("kv paged(-16);"), 2, 10, "expected 'an integer' as the page size, got '-'"},
        Case{body("kv paged(16, 2);"), 2, 12, "expected ')' after the page size, got ','"},
        Case{body("kv contiguous(16);"), 2, 14, "expected ';' to end the 'kv' statement, got '('"},
        Case{body("mask q < ;"), 2, 10, "expected an expression, got ';'"},
        Case{body("mask (q < k;"), 2, 12, "expected ')' to close '(', got ';'"},
        Case{body("mask q @ k;"), 2, 8, "unexpected character '@'"},
        Case{body("mask q < 99999999999999999999;"), 2, 10,
             "integer literal is too large for a 64-bit int"},
        Case{body("score score * 1e39;"), 2, 15, "float literal is out of range for float"},
        // The largest exponent from_chars reads (the fuzzer's find: it overflowed).
        Case{body("score score * 1e9223372036854775807;"), 2, 15,
             "float literal is out of range for float"},
        Case{body("mask q < 12abc;"), 2, 10, "malformed number '12abc'"},
        Case{body("tensor t: f32[];"), 2, 15,
             "expected a dimension (a size name or an integer), got ']'"},
        Case{"variant v { dtype bf16; head_dim 64; mask q \xff k; }", 1, 45,
             "unexpected byte 0xff"},
        Case{"variant v { dtype bf16; head_dim 64; mask q \x01 k; }", 1, 45,
             "unexpected byte 0x01"}));

INSTANTIATE_TEST_SUITE_P(
    Meaning, Errors,
    ::testing::Values(
        Case{"variant v { head_dim 64; }", 1, 9, "variant 'v' has no 'dtype' statement"},
        Case{"variant v { dtype bf16; }", 1, 9, "variant 'v' has no 'head_dim' statement"},
        Case{body("dtype fp16;"), 2, 1, "duplicate 'dtype' statement (the first is on line 1)"},
        Case{body("score score; score 2 * score;"), 2, 14,
             "duplicate 'score' statement (the first is on line 2)"},
        Case{"variant v { dtype bf17; head_dim 64; }", 1, 19,
             "unknown dtype 'bf17' (did you mean 'bf16'?)"},
        Case{"variant v { dtype bf16; head_dim 0; }", 1, 34, "head_dim must be in 1..1024, got 0"},
        Case{body("kv paged(0);"), 2, 10, "kv page size must be a power of two in 1..1024, got 0"},
        Case{body("kv paged(3);"), 2, 10, "kv page size must be a power of two in 1..1024, got 3"},
        Case{body("kv paged(48);"), 2, 10,
             "kv page size must be a power of two in 1..1024, got 48"},
        Case{body("kv paged(2048);"), 2, 10,
             "kv page size must be a power of two in 1..1024, got 2048"},
        // A literal past int's range must not wrap into a valid size on the way to the builder.
        Case{body("kv paged(4294967312);"), 2, 10,
             "kv page size must be a power of two in 1..1024, got 4294967312"},
        Case{body("sparsity block(0, 64);"), 2, 16,
             "sparse block sizes must be in 1..65536, got 0"},
        Case{body("sparsity block(64, 4294967360);"), 2, 20,
             "sparse block sizes must be in 1..65536, got 4294967360"},
        Case{body("sparsity hash(buckets=1025);"), 2, 23,
             "hash buckets must be in 1..1024, got 1025"},
        Case{body("approx hyper(blocks=64);"), 2, 14,
             "unknown argument 'blocks' of approx hyper (block, samples, lsh_bits, min_seq)"},
        Case{body("approx hyper(block=0);"), 2, 20,
             "approx hyper's block must be in 1..65536, got 0"},
        Case{body("approx hyper(lsh_bits=11);"), 2, 23,
             "approx hyper's lsh_bits must be in 1..10, got 11"},
        Case{body("approx hyper(block=64, block=128);"), 2, 24, "'block' is given twice"},
        Case{body("quant sage(qk=fp8_e4m3);"), 2, 15, "quant sage's qk is int8, not 'fp8_e4m3'"},
        Case{body("quant sage(pv=fp8_e5m2);"), 2, 15,
             "quant sage's pv is fp8_e4m3, fp16 or bf16, not 'fp8_e5m2'"},
        Case{body("quant sage(pv=fp16);"), 1, 9,
             "quant sage's pv=fp16 keeps V as given, so it must be the inputs' dtype, bf16"},
        Case{body("quant sage(smooth_k=yes);"), 2, 21,
             "quant sage's smooth_k is true or false, not 'yes'"},
        Case{body("quant sage(smooth=true);"), 2, 12,
             "unknown argument 'smooth' of quant sage (qk, pv, smooth_k, hadamard)"},
        Case{body("quant sage(qk=int8, qk=int8);"), 2, 21, "'qk' is given twice"},
        Case{"variant v { dtype fp8_e4m3; head_dim 128; quant sage; }", 1, 9,
             "quant sage quantises fp16 or bf16 inputs, not fp8 ones"},
        Case{body("quant sage; kv paged(16);"), 1, 9,
             "quant sage has one kernel, the Hopper family's, which takes no approx hyper, hash "
             "sparsity or paged KV"},
        Case{body("approx hyper; score score * 2.0;"), 1, 9,
             "approx hyper approximates plain attention: its variant may say 'mask causal;' and "
             "no score"},
        Case{body("approx hyper; mask causal && q - k < 64;"), 1, 9,
             "approx hyper approximates plain attention: its variant may say 'mask causal;' and "
             "no other mask"},
        Case{body("sparsity hash(buckets=8); sparsity block(128, 128);"), 2, 27,
             "duplicate 'sparsity' statement (the first is on line 2)"},
        Case{body("sparsity block(64, 64); sparsity block(128, 128);"), 2, 25,
             "duplicate 'sparsity' statement (the first is on line 2)"},
        Case{body("kv paged(16);\nkv paged(16);"), 3, 1,
             "duplicate 'kv' statement (the first is on line 2)"},
        Case{body("kv contiguous; kv paged(16);"), 2, 16,
             "duplicate 'kv' statement (the first is on line 2)"},
        Case{body("param w: i23;"), 2, 10, "unknown param type 'i23' (did you mean 'i32'?)"},
        Case{body("param w: i32; param w: f32;"), 2, 21, "'w' is already declared on line 2"},
        Case{body("param q: i32;"), 2, 7, "'q' is a built-in name and cannot be declared"},
        Case{body("param w: i32 = 3000000000;"), 2, 16,
             "default of an i32 param must be an integer that fits in 32 bits"},
        Case{body("param w: bool = 1;"), 2, 17, "default of a bool param must be true or false"},
        Case{body("param w: i32 = q;"), 2, 16,
             "'q' is not a constant; this must be a constant expression"},
        Case{body("tensor t: f33[heads];"), 2, 11,
             "unknown tensor element type 'f33' (did you mean 'f32'?)"},
        Case{body("tensor t: fp8_e4m3[heads];"), 2, 11,
             "a tensor cannot be fp8_e4m3 (only Q, K and V can, by dtype); its element type is "
             "one of i32, f32, f16, bf16, u8, bool"},
        Case{body("tensor t: fp8_e5m2[heads];"), 2, 11,
             "a tensor cannot be fp8_e5m2 (only Q, K and V can, by dtype); its element type is "
             "one of i32, f32, f16, bf16, u8, bool"},
        Case{body("tensor t: f32[0];"), 2, 15, "a fixed tensor dimension must be at least 1"},
        Case{body("param window: i32;\nmask causal && q - k < windw;"), 3, 24,
             "unknown name 'windw' (did you mean 'window'?)"},
        Case{body("mask q < head_dm;"), 2, 10, "unknown name 'head_dm' (did you mean 'head_dim'?)"},
        Case{body("score tanhh(score);"), 2, 7, "unknown function 'tanhh' (did you mean 'tanh'?)"},
        Case{body("score softcap(score);"), 2, 7, "'softcap' takes 2 arguments, got 1"},
        Case{body("mask score > 0;"), 2, 6, "'score' can only be used in a 'score' statement"},
        Case{body("mask q;"), 2, 6, "mask must be a bool expression, got int"},
        Case{body("score q < k;"), 2, 9, "score must be a number expression, got bool"},
        Case{body("mask q + causal;"), 2, 8, "operator '+' needs number operands, got bool"},
        Case{body("mask q % 2.0 == 0;"), 2, 8, "operator '%' needs int operands, got float"},
        Case{body("mask causal && q;"), 2, 13, "operator '&&' needs bool operands, got int"},
        Case{body("mask causal == 1;"), 2, 13, "operator '==' compares a bool with a number"},
        Case{body("mask !q;"), 2, 6, "operator '!' needs bool operands, got int"},
        Case{body("score -causal;"), 2, 7, "operator '-' needs number operands, got bool"},
        Case{body("mask q ? true : false;"), 2, 8, "condition of '?:' must be bool, got int"},
        Case{body("mask causal ? true : 1 == 1 ? q : k;"), 2, 13,
             "branches of '?:' have types bool and int"},
        Case{body("tensor doc: i32[batch, kv_len];\nmask doc[b] == 0;"), 3, 6,
             "tensor 'doc' has 2 dimensions, indexed with 1"},
        Case{body("tensor doc: i32[batch, kv_len];\nmask doc == 0;"), 3, 6,
             "tensor 'doc' must be indexed, as in doc[...]"},
        Case{body("tensor doc: i32[kv_len];\nmask doc[score > 0.0] == 0;"), 3, 10,
             "'score' can only be used in a 'score' statement"},
        Case{body("tensor s: f32[heads];\nmask s[1.5] > 0;"), 3, 6,
             "index of tensor 's' must be int, got float"},
        Case{body("mask dco[k] == 0;"), 2, 6, "unknown tensor 'dco'"},
        Case{body("param w: i32;\nmask w[k] == 0;"), 3, 6,
             "'w' is not a tensor and cannot be indexed"},
        Case{body("mask tanh > 0;"), 2, 6, "'tanh' is a function; call it as tanh(...)"},
        Case{body("mask q(1) > 0;"), 2, 6, "'q' is not a function"},
        Case{body("scale q;"), 2, 7, "'q' is not a constant; this must be a constant expression"},
        Case{body("scale 1.0 / 0.0;"), 1, 9,
             "scale must be a finite constant expression, got '1.0 / 0.0'"},
        Case{body("scale true;"), 2, 7, "scale must be a number"},
        Case{"variant v { dtype bf16; head_dim 64; }\nvariant v { dtype bf16; head_dim 64; }", 2, 9,
             "variant 'v' is already defined on line 1"}));

TEST(Errors, RenderQuotesTheLineAndUnderlinesTheToken) {
  const Diagnostic error =
      first_error("variant v {\n\tdtype bf16; head_dim 64;\n\tmask qq < k;\n}");
  EXPECT_EQ(error.render(),
            "test.attn:3:7: error: unknown name 'qq' (did you mean 'q'?)\n"
            "\tmask qq < k;\n"
            "\t     ^~\n");
}

TEST(Errors, RenderShowsAWindowOfLongLines) {
  const std::string text = "variant v { dtype bf16; head_dim 64; mask " + std::string(500, '(') +
                           "q" + std::string(500, ')') + " < windw; }";
  const ParseResult result = parse_variants(text, "long.attn");
  ASSERT_FALSE(result.ok());
  const std::string rendered = result.errors.front().render();
  EXPECT_LT(rendered.size(), 500U) << rendered;
  EXPECT_NE(rendered.find("..."), std::string::npos);
}

TEST(Errors, ReportsSeveralIndependentErrors) {
  const ParseResult result = parse_variants(
      "variant a { dtype bf16; head_dim 64; mask qq; }\n"
      "variant b { dtype bf16; head_dim 64; mask kk; }\n"
      "variant c { dtype bf16; head_dim 64; }\n",
      "t.attn");
  ASSERT_EQ(result.errors.size(), 2U);
  EXPECT_EQ(result.errors[0].location.line, 1);
  EXPECT_EQ(result.errors[1].location.line, 2);
  ASSERT_EQ(result.variants.size(), 1U);
  EXPECT_EQ(result.variants[0].name(), "c");
}

TEST(Errors, StopAfterAHundredfoldMistakes) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "variant v" + std::to_string(i) + " { bad; }\n";
  const ParseResult result = parse_variants(text, "t.attn");
  EXPECT_EQ(result.errors.size(), 50U);
}

}  // namespace
}  // namespace attnjit
