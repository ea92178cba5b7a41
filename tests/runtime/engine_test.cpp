// The engine's choice of kernel family. Needs a GPU (the engine owns a
// context); skipped without one.
#include "runtime/cuda_driver.hpp"
#include <attnjit/engine.hpp>
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

std::optional<Engine> engine_or_skip() {
  EngineOptions options;
  options.use_cache = false;
  try {
    return Engine(options);
  } catch (const NoGpuError&) {
    return std::nullopt;
  }
}

// Causal attention within documents, whose ids a tensor holds.
Variant document_variant() {
  ParseResult parsed = parse_variants(
      "variant d { dtype bf16; head_dim 64; tensor doc: i32[batch, kv_len];\n"
      "  mask causal && doc[b, q + kv_len - q_len] == doc[b, k]; }",
      "test.attn");
  EXPECT_EQ(parsed.variants.size(), 1U);
  return parsed.variants.front();
}

// Document ids [batch, kv_len], ascending, a new document after each key
// with probability `breaks`.
std::vector<std::int32_t> document_ids(const AttentionShape& shape, double breaks,
                                       std::mt19937_64& rng) {
  std::bernoulli_distribution next(breaks);
  std::vector<std::int32_t> doc;
  for (std::int64_t b = 0; b < shape.batch; ++b) {
    std::int32_t id = 0;
    for (std::int64_t k = 0; k < shape.kv_len; ++k) doc.push_back(id += next(rng) ? 1 : 0);
  }
  return doc;
}

TEST(Engine, AnExplicitConfigIsOfTheFamilyTheShapeTakes) {
  std::optional<Engine> engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  ParseResult parsed =
      parse_variants("variant c { dtype bf16; head_dim 128; mask causal; }", "test.attn");
  ASSERT_EQ(parsed.variants.size(), 1U);
  const Variant& variant = parsed.variants.front();
  AttentionShape decode{1, 32, 8, 1, 4096};
  const Kernel few_rows =
      engine->kernel(variant, decode, "rows=16,bn=64,warps=4,stages=2,split=0,tma=0");
  EXPECT_EQ(few_rows.family(), "decode");
  EXPECT_EQ(few_rows.config(), "rows=16,bn=64,warps=4,stages=2,split=0,tma=0");
  AttentionShape prefill{1, 8, 8, 1024, 1024};
  EXPECT_NE(engine->kernel(variant, prefill, "bn=64").family(), "decode");
}

// Odd lengths (partial blocks at the ends), more keys than queries, blocks
// that are not squares; document ids ascending with random breaks.
TEST(Engine, BuildsABlockMaskFromADocumentMask) {
  std::optional<Engine> engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  const Variant variant = document_variant();
  const AttentionShape shape{2, 3, 1, 300, 333};
  const BlockSparsity blocks{64, 48};
  const std::int64_t q_blocks = 5;
  const std::int64_t k_blocks = 7;
  std::mt19937_64 rng(5);
  const std::vector<std::int32_t> doc = document_ids(shape, 0.01, rng);

  Driver driver;
  const Context context(driver, 0);
  DeviceBuffer doc_buffer(context, doc.size() * sizeof(std::int32_t));
  doc_buffer.upload(doc.data(), doc.size() * sizeof(std::int32_t));
  const auto count = static_cast<std::size_t>(shape.batch * shape.heads * q_blocks * k_blocks);
  DeviceBuffer out_buffer(context, count);
  out_buffer.fill_bytes(0xab);  // neither 0 nor 1: every block must be written
  MaskInputs inputs{shape, {}, {}};
  inputs.tensors["doc"] =
      contiguous_view(device_pointer(doc_buffer.ptr()), ElemType::I32, {shape.batch, shape.kv_len});
  const TensorView out = contiguous_view(device_pointer(out_buffer.ptr()), ElemType::Bool,
                                         {shape.batch, shape.heads, q_blocks, k_blocks});
  engine->block_mask(variant, inputs, blocks, out, nullptr);
  std::vector<unsigned char> got(count);
  out_buffer.download(got.data(), count);

  std::size_t listed = 0;
  for (std::int64_t b = 0; b < shape.batch; ++b) {
    const auto id = [&](std::int64_t k) {
      return doc[static_cast<std::size_t>(b * shape.kv_len + k)];
    };
    for (std::int64_t h = 0; h < shape.heads; ++h) {
      for (std::int64_t i = 0; i < q_blocks; ++i) {
        for (std::int64_t j = 0; j < k_blocks; ++j) {
          bool any = false;
          for (std::int64_t q = i * 64; q < std::min<std::int64_t>(i * 64 + 64, shape.q_len); ++q) {
            const std::int64_t last = q + shape.kv_len - shape.q_len;
            for (std::int64_t k = j * 48; k < std::min<std::int64_t>(j * 48 + 48, shape.kv_len);
                 ++k) {
              any = any || (last >= k && id(last) == id(k));
            }
          }
          const auto at =
              static_cast<std::size_t>(((b * shape.heads + h) * q_blocks + i) * k_blocks + j);
          EXPECT_EQ(got[at], any ? 1 : 0) << "b=" << b << " h=" << h << " block " << i << "," << j;
          listed += any ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(listed, 0U);
  EXPECT_LT(listed, count);

  ParseResult causal =
      parse_variants("variant c { dtype bf16; head_dim 64; mask causal; }", "c.attn");
  EXPECT_THROW(
      engine->block_mask(causal.variants.front(), MaskInputs{shape, {}, {}}, blocks, out, nullptr),
      InputError);
}

// Tile classes made once (Kernel::classify) give what a launch that makes its
// own gives, bit for bit, on odd lengths; and a launch refuses tables made
// for another shape, as classify refuses masks that have none.
TEST(Engine, TileClassesMadeOnceServeLaterLaunches) {
  std::optional<Engine> engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  const Variant variant = document_variant();
  const AttentionShape shape{2, 3, 1, 300, 333};
  const std::int64_t d = 64;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal;
  auto bf16_values = [&](std::size_t count) {
    std::vector<std::uint16_t> out(count);
    for (std::uint16_t& x : out) {
      const float f = normal(rng);
      std::uint32_t bits = 0;
      std::memcpy(&bits, &f, sizeof bits);
      x = static_cast<std::uint16_t>(bits >> 16U);
    }
    return out;
  };
  const std::vector<std::int32_t> doc = document_ids(shape, 0.02, rng);

  Driver driver;
  const Context context(driver, 0);
  auto upload = [&](const auto& values) {
    const std::size_t bytes = values.size() * sizeof(values[0]);
    DeviceBuffer buffer(context, bytes);
    buffer.upload(values.data(), bytes);
    return buffer;
  };
  const auto o_count = static_cast<std::size_t>(shape.batch * shape.heads * shape.q_len * d);
  const auto kv_count = static_cast<std::size_t>(shape.batch * shape.kv_len * d);
  DeviceBuffer q = upload(bf16_values(o_count));
  DeviceBuffer k = upload(bf16_values(kv_count));
  DeviceBuffer v = upload(bf16_values(kv_count));
  DeviceBuffer ids = upload(doc);
  DeviceBuffer o(context, o_count * 2);
  auto inputs_of = [&](std::int64_t q_len) {
    FwdInputs in;
    in.q = contiguous_view(device_pointer(q.ptr()), ElemType::BF16,
                           {shape.batch, shape.heads, q_len, d});
    in.k = contiguous_view(device_pointer(k.ptr()), ElemType::BF16,
                           {shape.batch, shape.kv_heads, shape.kv_len, d});
    in.v = contiguous_view(device_pointer(v.ptr()), ElemType::BF16,
                           {shape.batch, shape.kv_heads, shape.kv_len, d});
    in.o = contiguous_view(device_pointer(o.ptr()), ElemType::BF16,
                           {shape.batch, shape.heads, q_len, d});
    in.tensors["doc"] =
        contiguous_view(device_pointer(ids.ptr()), ElemType::I32, {shape.batch, shape.kv_len});
    return in;
  };
  FwdInputs inputs = inputs_of(shape.q_len);
  const Kernel kernel = engine->kernel(variant, shape);
  ASSERT_TRUE(kernel.takes_tile_classes());
  auto run = [&](const FwdInputs& in) {
    o.fill_bytes(0xff);  // NaN in bf16: every element must be written
    kernel.launch(in, nullptr);
    std::vector<std::uint16_t> out(o_count);
    o.download(out.data(), o_count * 2);  // synchronous: after the launch
    return out;
  };
  const std::vector<std::uint16_t> own = run(inputs);
  EXPECT_EQ(std::count(own.begin(), own.end(), std::uint16_t{0xffff}), 0);
  inputs.tile_classes = kernel.classify(inputs, nullptr);
  EXPECT_EQ(run(inputs), own);
  EXPECT_EQ(run(inputs), own);  // the table is read, never consumed

  FwdInputs shorter = inputs_of(shape.q_len - 100);
  shorter.tile_classes = inputs.tile_classes;
  EXPECT_THROW(kernel.launch(shorter, nullptr), InputError);

  ParseResult causal =
      parse_variants("variant c { dtype bf16; head_dim 64; mask causal; }", "c.attn");
  const Kernel of_indices = engine->kernel(causal.variants.front(), shape);
  EXPECT_FALSE(of_indices.takes_tile_classes());
  FwdInputs plain = inputs;
  plain.tensors.clear();
  plain.tile_classes.reset();
  EXPECT_THROW(static_cast<void>(of_indices.classify(plain, nullptr)), InputError);
  of_indices.launch(plain, nullptr);
  plain.tile_classes = inputs.tile_classes;
  EXPECT_THROW(of_indices.launch(plain, nullptr), InputError);  // a table of another kernel
}

}  // namespace
}  // namespace attnjit
