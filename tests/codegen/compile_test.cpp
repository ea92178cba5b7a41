// Every fp16/bf16 example's default through NVRTC for sm_80 and sm_90a: the
// candidate the runtime keeps compiles, fits the register file and the arch's
// shared memory, and does not spill. No GPU needed; the kernel cache compiles
// the variants on every core.
#include "codegen/family.hpp"
#include "runtime/kernel_cache.hpp"
#include <attnjit/language.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

std::vector<Variant> examples() {
  std::vector<std::filesystem::path> files;
  for (const auto& file :
       std::filesystem::directory_iterator(std::string(ATTNJIT_SOURCE_DIR) + "/examples")) {
    if (file.path().extension() == ".attn") files.push_back(file.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Variant> out;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    ParseResult result = parse_variants(text.str(), path.string());
    EXPECT_TRUE(result.ok()) << path;
    for (Variant& variant : result.variants) out.push_back(std::move(variant));
  }
  return out;
}

TEST(DefaultConfigs, CompileWithoutSpills) {
  const std::vector<Variant> all = examples();
  std::vector<const Variant*> variants;
  // fp8 inputs and quant sage have the Hopper family only (lit's compile/sass_sm90a_*.test).
  for (const Variant& variant : all) {
    if ((variant.dtype() == DType::F16 || variant.dtype() == DType::BF16) && !variant.quant())
      variants.push_back(&variant);
  }
  ASSERT_GE(variants.size(), 11U);
  for (const std::string_view name : {"sm_80", "sm_90a"}) {
    const Arch arch = *parse_arch(name);
    KernelCache cache(std::string(name), nullptr,
                      [](const std::string& warning) { ADD_FAILURE() << warning; });
    std::vector<const Variant*> each;
    std::vector<Family> families;
    for (const Family family : {Family::Fa2Sm80, Family::Decode}) {
      each.insert(each.end(), variants.begin(), variants.end());
      families.insert(families.end(), variants.size(), family);
    }
    const std::vector<KernelCache::Outcome> outcomes = cache.get_all(each, families, "");
    ASSERT_EQ(outcomes.size(), each.size());
    for (std::size_t i = 0; i < each.size(); ++i) {
      SCOPED_TRACE(each[i]->name() + " " + std::string(family_name(families[i])) + " " +
                   std::string(name));
      ASSERT_TRUE(outcomes[i].kernel) << outcomes[i].error;
      const CachedKernel& kernel = *outcomes[i].kernel;
      const CompileReport& report = kernel.compiled.report;
      SCOPED_TRACE(kernel.generated.config);
      EXPECT_EQ(report.spill_store_bytes, 0) << report.log;
      EXPECT_EQ(report.spill_load_bytes, 0) << report.log;
      EXPECT_GT(report.registers, 0);
      EXPECT_LE(report.registers, 255);
      EXPECT_LE(report.static_smem_bytes + kernel.generated.kernel.smem_bytes,
                arch.max_smem_per_block());
      EXPECT_FALSE(kernel.compiled.cubin.empty());
    }
  }
}

}  // namespace
}  // namespace attnjit::codegen
