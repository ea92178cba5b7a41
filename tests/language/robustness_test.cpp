// Inputs that must neither crash, hang nor exhaust memory: each gets an error
// (or a result) quickly.
#include "tests/language/test_util.hpp"

#include <chrono>
#include <random>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

std::string body(std::string_view statements) {
  return "variant v { dtype bf16; head_dim 64; " + std::string(statements) + " }";
}

TEST(Robustness, DeepParenthesesAreRefused) {
  const std::string text =
      body("mask " + std::string(100000, '(') + "causal" + std::string(100000, ')') + ";");
  const ParseResult result = parse_variants(text, "deep.attn");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.errors.front().message.find("nested too deeply"), std::string::npos);
}

TEST(Robustness, LongOperatorChainsAreRefused) {
  std::string chain = "q";
  for (int i = 0; i < 100000; ++i) chain += " + q";
  const ParseResult result = parse_variants(body("mask " + chain + " > 0;"), "chain.attn");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.errors.front().message.find("nested too deeply"), std::string::npos);
}

TEST(Robustness, DeepUnaryChainsAreRefused) {
  const ParseResult result =
      parse_variants(body("mask " + std::string(100000, '!') + "causal;"), "not.attn");
  ASSERT_FALSE(result.ok());
}

TEST(Robustness, NestingJustUnderTheLimitIsAccepted) {
  const std::string text =
      body("mask " + std::string(100, '(') + "causal" + std::string(100, ')') + ";");
  EXPECT_TRUE(parse_variants(text, "ok.attn").ok());
}

TEST(Robustness, HugeLiteralsAreErrors) {
  EXPECT_FALSE(parse_variants(body("mask q < " + std::string(100000, '9') + ";"), "t").ok());
  EXPECT_FALSE(
      parse_variants(body("score score * 1" + std::string(100000, '0') + ".0;"), "t").ok());
  EXPECT_FALSE(parse_variants(body("score score * 1e99999999999999999999999;"), "t").ok());
  // Tiny floats underflow to zero, which is a value, not an error.
  EXPECT_TRUE(parse_variants(body("score score + 1e-99999999999999999999999;"), "t").ok());
  EXPECT_TRUE(parse_variants(body("score score + 0." + std::string(100000, '0') + "1;"), "t").ok());
}

TEST(Robustness, LongNamesAreErrors) {
  const ParseResult result = parse_variants(body("mask " + std::string(100000, 'x') + ";"), "t");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.errors.front().message, "name is longer than 128 characters");
}

TEST(Robustness, NonUtf8AndControlBytesAreErrors) {
  std::string text = body("mask causal;");
  text.insert(text.find("mask"), "\xc3\x28\x80\x00\xfe ", 6);
  const ParseResult result = parse_variants(text, "bytes.attn");
  ASSERT_FALSE(result.ok());
  for (const Diagnostic& error : result.errors) {
    for (const char c : error.render()) {
      const auto byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7f)) << int{byte};
    }
  }
}

TEST(Robustness, EmptyAndBlankFiles) {
  for (const std::string_view text : {"", " ", "\n\n\n", "#", "variant", "variant v", "}", "{"}) {
    EXPECT_FALSE(parse_variants(text, "t").ok()) << text;
  }
}

TEST(Robustness, ATenMegabyteFileIsHandledQuickly) {
  const auto start = std::chrono::steady_clock::now();
  std::string valid;
  for (int i = 0; valid.size() < (10U << 20); ++i) {
    valid += "variant v" + std::to_string(i) +
             " { dtype bf16; head_dim 128; param w: i32 = " + std::to_string(i) +
             "; mask causal && q - k < w; score softcap(score, 30.0); }\n";
  }
  const ParseResult many = parse_variants(valid, "big.attn");
  EXPECT_TRUE(many.ok());
  EXPECT_GT(many.variants.size(), 50000U);

  std::mt19937 random(7);
  std::string noise(10U << 20, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xff);
  EXPECT_FALSE(parse_variants(noise, "noise.attn").ok());

  const std::string one_line(10U << 20, '(');
  EXPECT_FALSE(parse_variants(one_line, "parens.attn").ok());

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0);
}

TEST(Robustness, FilesOverTheLimitAreRefusedUnread) {
  const std::string text(kMaxSourceBytes + 1, ' ');
  const ParseResult result = parse_variants(text, "huge.attn");
  ASSERT_EQ(result.errors.size(), 1U);
  EXPECT_NE(result.errors.front().message.find("larger than the limit"), std::string::npos);
}

TEST(Robustness, ArithmeticEdgeCasesFoldWithoutUndefinedBehaviour) {
  const Variant v = testing::parse_one(
      body("mask q < (-9223372036854775807 - 1) / -1 + 9223372036854775807 * 2 + 5 % 0 + 7 / 0 + "
           "abs(-9223372036854775807 - 1);"));
  EXPECT_EQ(v.mask().size(), 1U);
  const Variant zero = testing::parse_one(body("score score + (0.0 / 1.0 + log(1.0));"));
  EXPECT_EQ(zero.canonical().substr(zero.canonical().find("score ")), "score score + 0.0;\n");
}

}  // namespace
}  // namespace attnjit
