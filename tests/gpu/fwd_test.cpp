// Every example variant on the GPU against the CPU reference, over shapes that
// are not tile multiples, with GQA, q_len != kv_len, both memory layouts, and
// several configs. Skips visibly where there is no GPU.
#include "attnjit/hash_sparsity.cuh"
#include "codegen/family.hpp"
#include "harness/compare.hpp"
#include "harness/device_problem.hpp"
#include "harness/host_problem.hpp"
#include "runtime/cuda_driver.hpp"
#include "runtime/kernel_job.hpp"
#include "runtime/variant_launch.hpp"
#include <attnjit/language.hpp>
#include <attnjit/reference.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace attnjit {
namespace {

struct Gpu {
  Driver driver;
  Context context{driver, 0};
};

// One GPU context for the whole binary; null when there is no GPU.
Gpu* gpu() {
  static std::unique_ptr<Gpu> instance = []() -> std::unique_ptr<Gpu> {
    try {
      return std::make_unique<Gpu>();
    } catch (const NoGpuError&) {
      return nullptr;
    }
  }();
  return instance.get();
}

std::vector<std::filesystem::path> example_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(ATTNJIT_SOURCE_DIR "/examples")) {
    if (entry.path().extension() == ".attn") out.push_back(entry.path());
  }
  return out;
}

std::vector<Variant> example_variants() {
  std::vector<Variant> out;
  for (const std::filesystem::path& path : example_files()) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    ParseResult parsed = parse_variants(text.str(), path.string());
    for (Variant& v : parsed.variants) {
      if (v.dtype() == DType::BF16 || v.dtype() == DType::F16) out.push_back(std::move(v));
    }
  }
  return out;
}

struct Case {
  AttentionShape shape;
  harness::Layout layout;
  bool ragged = false;  // each batch entry its own number of keys (kv_lens)
};

// Lengths of 1, primes and tile-crossing sizes; q_len both below and above kv_len.
const std::vector<Case> kCases = {
    {{1, 1, 1, 1, 1}, harness::Layout::BHSD},     {{1, 2, 1, 17, 33}, harness::Layout::BSHD},
    {{2, 4, 2, 130, 130}, harness::Layout::BHSD}, {{1, 2, 2, 211, 77}, harness::Layout::BSHD},
    {{1, 3, 1, 77, 300}, harness::Layout::BHSD},  {{2, 2, 1, 1, 517}, harness::Layout::BSHD},
    {{1, 1, 1, 256, 256}, harness::Layout::BHSD}, {{1, 4, 4, 333, 0}, harness::Layout::BHSD},
};

// Decode: 1 to 16 query rows, GQA groups of 1 to 8 packed into row blocks,
// no keys, fewer keys than queries, ragged batches; tiny problems spread over
// the whole grid, so that most segments are split and merged; one segment
// split over every CTA, more partials than a merge CTA has threads.
const std::vector<Case> kDecodeCases = {
    {{1, 1, 1, 1, 1}, harness::Layout::BHSD},
    {{1, 2, 1, 1, 20000}, harness::Layout::BSHD},
    {{2, 8, 2, 1, 517}, harness::Layout::BSHD},
    {{3, 32, 8, 1, 1000}, harness::Layout::BSHD},
    {{1, 4, 1, 16, 300}, harness::Layout::BHSD},
    {{2, 6, 3, 5, 77}, harness::Layout::BHSD},
    {{1, 2, 2, 3, 0}, harness::Layout::BHSD},
    {{4, 16, 2, 2, 2049}, harness::Layout::BSHD},
    {{1, 8, 8, 1, 4096}, harness::Layout::BHSD},
    // 128 segments of several tiles: a CTA each on an H100, no merge.
    {{16, 16, 8, 1, 700}, harness::Layout::BSHD},
    {{1, 4, 2, 16, 5}, harness::Layout::BSHD},
    {{5, 8, 2, 1, 333}, harness::Layout::BHSD, true},
    {{3, 12, 4, 4, 1500}, harness::Layout::BSHD, true},
};

class Fwd : public ::testing::TestWithParam<std::string> {};

// The bucket of each row of `x` ([planes, rows, d]) as hash_sparsity.cuh's
// LSH picks it: the first bucket of the greatest dot product with the fixed
// +-1 directions.
HostTensor lsh_buckets(const std::vector<double>& x, std::vector<std::int64_t> shape,
                       std::int64_t d, int buckets) {
  HostTensor out{std::move(shape), {}};
  for (std::size_t row = 0; row * d < x.size(); ++row) {
    int best = 0;
    double best_dot = 0;
    for (int bucket = 0; bucket < buckets; ++bucket) {
      double dot = 0;
      for (std::int64_t c = 0; c < d; ++c) {
        dot += aj::lsh_sign(bucket, static_cast<int>(c)) * x[row * d + c];
      }
      if (bucket == 0 || dot > best_dot) {
        best_dot = dot;
        best = bucket;
      }
    }
    out.data.push_back(best);
  }
  return out;
}

// `lsh`: a `sparsity hash` variant given no bucket tensors, so that it
// hashes Q and K itself; the reference gets the buckets the same LSH gives
// on the CPU. `fp8_block_scales`: fp8 inputs with a factor per query row,
// per 64 keys and per V channel, not per head. `persistent_ctas`: a
// persistent kernel's grid at most that, so that every CTA runs several
// items even of small shapes; 0: the runtime's (a CTA per SM).
void check_config(const Variant& variant, codegen::Family family, const std::string& config,
                  const std::vector<Case>& cases = kCases, bool lsh = false,
                  bool fp8_block_scales = false, int persistent_ctas = 0) {
  Gpu& g = *gpu();
  const auto arch = codegen::parse_arch(g.context.arch());
  ASSERT_TRUE(arch);
  const codegen::Generated generated = codegen::generate(variant, family, config, *arch);
  const CompiledKernel compiled =
      compile_kernel(kernel_job(generated.kernel), CompileOptions{arch->name(), {}});
  const Module module(g.context, compiled.cubin);
  VariantKernels kernels =
      variant_kernels(g.driver, module, generated.kernel, compiled.lowered_name, variant);
  if (persistent_ctas > 0) {
    ASSERT_TRUE(generated.kernel.persistent) << config;
    kernels.functions.persistent_ctas = persistent_ctas;
  }
  const Stream stream(g.context);
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    harness::ProblemOptions options{seed++, true, {}, c.ragged};
    options.fp8_block_scales = fp8_block_scales;
    harness::HostProblem host = harness::random_problem(variant, c.shape, options);
    if (lsh) {
      const auto& s = c.shape;
      const int buckets = variant.hash_sparsity()->buckets;
      host.tensors["q_bucket"] =
          lsh_buckets(host.q, {s.batch, s.heads, s.q_len}, variant.head_dim(), buckets);
      host.tensors["k_bucket"] =
          lsh_buckets(host.k, {s.batch, s.kv_heads, s.kv_len}, variant.head_dim(), buckets);
    }
    harness::DeviceProblem device(g.context, variant, host, c.layout, true);
    device.poison_outputs();
    FwdProblem problem = device.problem();
    if (lsh) {
      problem.tensors.erase("q_bucket");
      problem.tensors.erase("k_bucket");
    }
    launch_variant(g.driver, kernels, variant, generated.kernel, problem, stream.get());
    stream.synchronize();
    const ReferenceOutput want = reference_attention(variant, host.reference_inputs());
    const auto& s = c.shape;
    const std::string where =
        fmt::format("{} {} {} b={} h={} hkv={} sq={} sk={}{}{}", variant.name(),
                    codegen::family_name(family), generated.config, s.batch, s.heads, s.kv_heads,
                    s.q_len, s.kv_len, c.ragged ? " ragged" : "", lsh ? " LSH" : "");
    const harness::Comparison out =
        harness::compare(device.output(), want.out, harness::output_tolerance(variant), "O");
    EXPECT_TRUE(out.ok()) << where << ": " << out.bad << " of " << out.checked << " wrong; first "
                          << out.first_bad;
    const harness::Comparison lse =
        harness::compare(device.lse(), want.lse, harness::lse_tolerance(variant), "LSE");
    EXPECT_TRUE(lse.ok()) << where << ": " << lse.first_bad;
  }
}

TEST(HashSparsity, HashesQAndKWhenNoBucketsAreGiven) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  ParseResult parsed = parse_variants(
      "variant lsh { dtype bf16; head_dim 128; sparsity hash(buckets=5); mask causal; }\n"
      "variant lsh16 { dtype fp16; head_dim 64; sparsity hash(buckets=3);\n"
      "  score score + (k - q) * 0.01; }",
      "lsh.attn");
  ASSERT_TRUE(parsed.ok());
  // Planes of more rows than a CTA of the sort takes.
  std::vector<Case> cases = kCases;
  cases.push_back({{1, 2, 1, 300, 4500}, harness::Layout::BHSD});
  const auto arch = codegen::parse_arch(gpu()->context.arch());
  for (const Variant& variant : parsed.variants) {
    check_config(variant, codegen::Family::Fa2Sm80, "", cases, true);
    check_config(variant, codegen::Family::Decode, "", kDecodeCases, true);
    if (codegen::preferred_family(variant, *arch) == codegen::Family::Fa3Sm90) {
      check_config(variant, codegen::Family::Fa3Sm90, "", cases, true);
    }
  }
}

// approx hyper with small blocks, few draws and a low min_seq, so that
// every stage runs at test sizes: hashing, sorting segments with padding,
// drawn columns, several causal levels merged into the exact part, GQA. The
// reference makes the same draws and hashes alike.
TEST(HyperAttention, MatchesTheReferenceWithTheSameDraws) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  ParseResult parsed = parse_variants(
      "variant hyper_causal { dtype bf16; head_dim 64; mask causal;\n"
      "  approx hyper(block=32, samples=16, lsh_bits=3, min_seq=64); }\n"
      "variant hyper_full { dtype fp16; head_dim 128;\n"
      "  approx hyper(block=48, samples=20, lsh_bits=4, min_seq=100); }\n"
      // More hash bits than 8: the hash kernel's wider reduce.
      "variant hyper_bits { dtype bf16; head_dim 64;\n"
      "  approx hyper(block=32, samples=12, lsh_bits=10, min_seq=64); }",
      "hyper.attn");
  ASSERT_TRUE(parsed.ok());
  const std::vector<Case> causal = {
      {{2, 4, 2, 301, 301}, harness::Layout::BHSD},
      {{1, 2, 1, 1000, 1000}, harness::Layout::BSHD},
      {{1, 3, 3, 129, 129}, harness::Layout::BHSD},
      {{1, 1, 1, 64, 64}, harness::Layout::BHSD},
      {{1, 2, 1, 40, 90}, harness::Layout::BSHD},
      // Rows of more than 64 key tiles, whose exact chunks start past the tile walk's first
      // step, and segments the sort cuts into several chunks.
      {{1, 1, 1, 9000, 9000}, harness::Layout::BHSD},
  };
  const std::vector<Case> full = {
      {{1, 2, 1, 200, 333}, harness::Layout::BHSD},  {{2, 4, 4, 150, 150}, harness::Layout::BSHD},
      {{1, 1, 1, 99, 500}, harness::Layout::BHSD},   {{1, 2, 2, 700, 37}, harness::Layout::BHSD},
      {{1, 2, 1, 700, 5000}, harness::Layout::BSHD},
  };
  const auto arch = codegen::parse_arch(gpu()->context.arch());
  for (const Variant& variant : parsed.variants) {
    const std::vector<Case>& cases = variant.mask().empty() ? full : causal;
    check_config(variant, codegen::Family::Fa2Sm80, "", cases);
    if (codegen::preferred_family(variant, *arch) == codegen::Family::Fa3Sm90) {
      check_config(variant, codegen::Family::Fa3Sm90, "", cases);
    }
  }
}

TEST_P(Fwd, MatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  for (const Variant& variant : example_variants()) {
    if (variant.name() != GetParam()) continue;
    if (variant.quant()) GTEST_SKIP() << "quant sage runs in fa3_sm90 only";
    for (const std::string config :
         {"", "bm=64,bn=32,warps=4", "bm=128,bn=64,warps=8", "bm=128,bn=128,warps=8"}) {
      SCOPED_TRACE(config);
      check_config(variant, codegen::Family::Fa2Sm80, config);
    }
  }
}

// The Hopper family at its defaults and at configs that vary every knob:
// one and three consumer warpgroups, odd key tiles, deeper pipelines,
// exponentials shared with the FMA pipe, and the persistent grid both of a
// CTA per SM and of 3 CTAs, each of which then takes several items (its
// first by its index, the rest by the counter).
TEST_P(Fwd, HopperMatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  const auto arch = codegen::parse_arch(gpu()->context.arch());
  ASSERT_TRUE(arch);
  for (const Variant& variant : example_variants()) {
    if (variant.name() != GetParam()) continue;
    if (codegen::preferred_family(variant, *arch) != codegen::Family::Fa3Sm90) {
      GTEST_SKIP() << "fa3_sm90 does not apply to " << variant.name() << " on " << arch->name();
    }
    const std::vector<std::pair<std::string, int>> configs = {
        {"", 0},
        {"bm=64,bn=64,stages=2", 0},
        {"bm=192,bn=64,stages=3", 0},
        {"bm=128,bn=80,stages=2,exp_fma=4", 0},
        {"bm=64,bn=176,stages=2", 0},
        {"persistent=1,stages=2", 0},
        {"persistent=1,stages=2", 3},
        {"bm=64,bn=64,stages=3,persistent=1", 3},
        {"bm=192,bn=64,stages=2,persistent=1", 3}};
    for (const auto& [config, ctas] : configs) {
      try {
        (void)codegen::generate(variant, codegen::Family::Fa3Sm90, config, *arch);
      } catch (const SpecError&) {
        continue;  // does not fit this variant's head dims
      }
      SCOPED_TRACE(fmt::format("{} ctas {}", config, ctas));
      check_config(variant, codegen::Family::Fa3Sm90, config, kCases, false, false, ctas);
    }
  }
}

// The decode family at its default and at configs that vary every knob.
TEST_P(Fwd, DecodeMatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  for (const Variant& variant : example_variants()) {
    if (variant.name() != GetParam()) continue;
    // The default takes TMA on sm_90 (a knob left unset keeps the default's
    // value): the last two configs copy by cp.async there too.
    for (const std::string config :
         {"", "rows=32,bn=32,warps=2,stages=2", "rows=64,bn=128,warps=8,stages=2,split=1",
          "rows=16,bn=64,warps=4,stages=4,split=3,tma=0",
          "rows=16,bn=128,warps=4,stages=3,tma=0"}) {
      try {
        (void)codegen::generate(variant, codegen::Family::Decode, config,
                                *codegen::parse_arch(gpu()->context.arch()));
      } catch (const SpecError&) {
        continue;  // does not fit this variant's head dims
      }
      SCOPED_TRACE(config);
      check_config(variant, codegen::Family::Decode, config, kDecodeCases);
    }
  }
}

// The example as a paged variant: K and V on shuffled pages of 1, 16 and 64 rows.
TEST_P(Fwd, PagedDecodeMatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  for (const std::filesystem::path& file : example_files()) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    for (const int page : {1, 16, 64}) {
      std::string paged = text.str();
      paged.insert(paged.find('{') + 1, fmt::format("\n  kv paged({});", page));
      for (const Variant& variant : parse_variants(paged, file.string()).variants) {
        if (variant.name() != GetParam() ||
            (variant.dtype() != DType::BF16 && variant.dtype() != DType::F16)) {
          continue;
        }
        SCOPED_TRACE(page);
        check_config(variant, codegen::Family::Decode, "", kDecodeCases);
      }
    }
  }
}

// Every example, rewritten as `rewrite` makes each of `versions` of it, on
// the Hopper family where it takes the result: at its default config, and
// the first version also with three consumer warpgroups and exponentials
// shared with the FMA pipe, and on a persistent grid of 3 CTAs.
void check_rewritten_examples(
    const codegen::Arch& arch, const std::vector<std::string>& versions,
    const std::function<std::string(const std::string& text, const std::string& version)>& rewrite,
    bool fp8_block_scales = false) {
  for (const std::filesystem::path& file : example_files()) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    for (const std::string& version : versions) {
      for (const Variant& variant :
           parse_variants(rewrite(text.str(), version), file.string()).variants) {
        if (codegen::preferred_family(variant, arch) != codegen::Family::Fa3Sm90) continue;
        for (const std::string config :
             {"", "bm=192,bn=128,stages=3,exp_fma=3", "stages=2,persistent=1"}) {
          if (!config.empty() && version != versions.front()) continue;
          try {
            (void)codegen::generate(variant, codegen::Family::Fa3Sm90, config, arch);
          } catch (const SpecError&) {
            continue;  // three consumers' (or two Q buffers') tiles of head_dim 256 outgrow it
          }
          SCOPED_TRACE(fmt::format("{} {}", version, config));
          const int ctas = config.find("persistent=1") != std::string::npos ? 3 : 0;
          check_config(variant, codegen::Family::Fa3Sm90, config, kCases, false, fp8_block_scales,
                       ctas);
        }
      }
    }
  }
}

// Every example the Hopper family can run with fp8 inputs (head_dim 128 or
// 256; not hash sparsity or approx hyper), as e4m3 and as e5m2, with
// factors per head, and as e4m3 with factors per query row, 64 keys and V
// channel: every mask and score at fp8.
TEST(Fp8, EveryExampleMatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  const auto arch = codegen::parse_arch(gpu()->context.arch());
  ASSERT_TRUE(arch);
  if (!arch->arch_specific) GTEST_SKIP() << "fp8 inputs need sm_90a, not " << arch->name();
  const std::regex dtype(R"(\bdtype\s+\w+;)");
  const auto retype = [&](const std::string& text, const std::string& type) {
    return std::regex_replace(text, dtype, fmt::format("dtype {};", type));
  };
  check_rewritten_examples(*arch, {"fp8_e4m3", "fp8_e5m2"}, retype);
  SCOPED_TRACE("factors per query row, 64 keys and V channel");
  check_rewritten_examples(*arch, {"fp8_e4m3"}, retype, true);
}

// Every example the Hopper family can run under quant sage (head_dim 128 or
// 256; not hash sparsity or approx hyper), with and without smoothing and
// the rotation, and with 16-bit PV: every mask and score on quantised products.
TEST(Sage, EveryExampleMatchesTheReference) {
  if (gpu() == nullptr)
    GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  const auto arch = codegen::parse_arch(gpu()->context.arch());
  ASSERT_TRUE(arch);
  if (!arch->arch_specific) GTEST_SKIP() << "quant sage needs sm_90a, not " << arch->name();
  const std::regex opening(R"((variant\s+\w+\s*\{))");
  // 16-bit PV is in the inputs' own type: placed after each dtype statement.
  const std::regex sixteen_bit(R"((dtype\s+(fp16|bf16)\s*;))");
  const std::string pv16 = "quant sage(pv=input);";
  check_rewritten_examples(
      *arch, {"quant sage;", "quant sage(smooth_k=false, hadamard=false);", pv16},
      [&](const std::string& text, const std::string& quant) {
        if (quant == pv16) return std::regex_replace(text, sixteen_bit, "$1 quant sage(pv=$2);");
        return std::regex_replace(text, opening, fmt::format("$1\n  {}", quant));
      });
}

std::vector<std::string> example_names() {
  std::vector<std::string> names;
  for (const Variant& v : example_variants()) names.push_back(v.name());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Examples, Fwd, ::testing::ValuesIn(example_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace attnjit
