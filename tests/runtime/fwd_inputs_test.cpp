// Public tensor views to launch problems: DLPack conversion and the checks
// that happen before anything is enqueued. No GPU: pointers are never read.
#include "runtime/fwd_inputs.hpp"

#include <attnjit/language.hpp>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

Variant parse(const char* text) {
  ParseResult parsed = parse_variants(text, "test.attn");
  if (parsed.variants.size() != 1) throw std::logic_error("test variant does not parse");
  return parsed.variants.front();
}

void* fake_address(std::uintptr_t address) {
  // NOLINTNEXTLINE(performance-no-int-to-ptr,cppcoreguidelines-pro-type-reinterpret-cast)
  return reinterpret_cast<void*>(address);
}

// b=2, h=4, hkv=2, sq=33, sk=17, d=64.
FwdInputs inputs(ElemType type, ElemType out_type) {
  FwdInputs given;
  given.q = contiguous_view(fake_address(0x10000), type, {2, 4, 33, 64});
  given.k = contiguous_view(fake_address(0x20000), type, {2, 2, 17, 64});
  given.v = contiguous_view(fake_address(0x30000), type, {2, 2, 17, 64});
  given.o = contiguous_view(fake_address(0x40000), out_type, {2, 4, 33, 64});
  return given;
}

FwdInputs inputs(ElemType type) { return inputs(type, type); }

constexpr const char* kDocument = R"(
variant doc { dtype bf16; head_dim 64;
  tensor doc_id: i32[batch, kv_len];
  mask doc_id[b, q] == doc_id[b, k]; })";

TEST(FwdInputs, ShapeComesFromQAndK) {
  const AttentionShape shape = shape_of(inputs(ElemType::F16));
  EXPECT_EQ(shape.batch, 2);
  EXPECT_EQ(shape.heads, 4);
  EXPECT_EQ(shape.kv_heads, 2);
  EXPECT_EQ(shape.q_len, 33);
  EXPECT_EQ(shape.kv_len, 17);
  FwdInputs flat = inputs(ElemType::F16);
  flat.q.shape = {33, 64};
  EXPECT_THROW((void)shape_of(flat), InputError);
}

TEST(FwdInputs, ViewsBecomeTheLaunchProblem) {
  const Variant variant = parse("variant d { dtype fp16; head_dim 64; }");
  const FwdProblem problem = fwd_problem(variant, inputs(ElemType::F16), 0);
  EXPECT_EQ(problem.q.data, 0x10000U);
  EXPECT_EQ(problem.v.shape, (std::vector<std::int64_t>{2, 2, 17, 64}));
  EXPECT_EQ(problem.o.strides,
            (std::vector<std::int64_t>{std::int64_t{4} * 33 * 64, std::int64_t{33} * 64, 64, 1}));
  EXPECT_EQ(problem.lse, 0U);
}

TEST(FwdInputs, ElementTypesMustMatchTheVariant) {
  const Variant variant = parse("variant d { dtype bf16; head_dim 64; }");
  try {
    (void)fwd_problem(variant, inputs(ElemType::F16), 0);
    FAIL() << "f16 views taken for a bf16 variant";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "tensor 'q' must be bf16, not f16");
  }
}

TEST(FwdInputs, EveryViewMustBeOnTheEnginesDevice) {
  const Variant variant = parse("variant d { dtype fp16; head_dim 64; }");
  FwdInputs given = inputs(ElemType::F16);
  given.v.device = 1;
  EXPECT_THROW((void)fwd_problem(variant, given, 0), InputError);
}

TEST(FwdInputs, LseMustBeContiguousFloats) {
  const Variant variant = parse("variant d { dtype fp16; head_dim 64; }");
  FwdInputs given = inputs(ElemType::F16);
  given.lse = contiguous_view(fake_address(0x50000), ElemType::F32, {2, 4, 33});
  EXPECT_EQ(fwd_problem(variant, given, 0).lse, 0x50000U);
  given.lse->strides = {std::int64_t{4} * 34, 34, 1};
  EXPECT_THROW((void)fwd_problem(variant, given, 0), InputError);
  given.lse = contiguous_view(fake_address(0x50000), ElemType::F16, {2, 4, 33});
  EXPECT_THROW((void)fwd_problem(variant, given, 0), InputError);
}

TEST(FwdInputs, TensorsAreCheckedByName) {
  const Variant variant = parse(kDocument);
  FwdInputs given = inputs(ElemType::BF16);
  given.tensors.emplace("doc_id", contiguous_view(fake_address(0x60000), ElemType::I32, {2, 17}));
  EXPECT_EQ(fwd_problem(variant, given, 0).tensors.at("doc_id").data, 0x60000U);

  given.tensors.at("doc_id").dtype = ElemType::F32;
  EXPECT_THROW((void)fwd_problem(variant, given, 0), InputError);
  given.tensors.clear();
  given.tensors.emplace("docs", contiguous_view(fake_address(0x60000), ElemType::I32, {2, 17}));
  EXPECT_THROW((void)fwd_problem(variant, given, 0), InputError);
}

TEST(FwdInputs, Fp8VariantsTakeFp8InputsAndTheirOutDtype) {
  const Variant variant = parse("variant f { dtype fp8_e4m3; head_dim 64; }");
  const FwdProblem problem = fwd_problem(variant, inputs(ElemType::F8E4M3, ElemType::BF16), 0);
  EXPECT_EQ(problem.k.data, 0x20000U);
  EXPECT_EQ(problem.q_descale.data, 0U);  // absent: 1
  try {
    (void)fwd_problem(variant, inputs(ElemType::F8E5M2, ElemType::BF16), 0);
    FAIL() << "e5m2 views taken for an e4m3 variant";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "tensor 'q' must be fp8_e4m3, not fp8_e5m2");
  }
  EXPECT_THROW((void)fwd_problem(variant, inputs(ElemType::F8E4M3), 0), InputError);  // o

  const Variant e5m2 = parse("variant f { dtype fp8_e5m2; out_dtype fp16; head_dim 64; }");
  EXPECT_NO_THROW((void)fwd_problem(e5m2, inputs(ElemType::F8E5M2, ElemType::F16), 0));
}

TEST(FwdInputs, DescalesAreFloatsPerHeadOrPerBlock) {
  const Variant variant = parse("variant f { dtype fp8_e4m3; head_dim 64; }");
  FwdInputs given = inputs(ElemType::F8E4M3, ElemType::BF16);
  given.q_descale = contiguous_view(fake_address(0x50000), ElemType::F32, {2, 4});
  given.k_descale = contiguous_view(fake_address(0x60000), ElemType::F32, {2, 2});
  // One factor for every head of every batch entry.
  given.v_descale = TensorView{fake_address(0x70000), ElemType::F32, {2, 2}, {0, 0}, 0};
  const FwdProblem problem = fwd_problem(variant, given, 0);
  EXPECT_EQ(problem.q_descale.data, 0x50000U);
  EXPECT_EQ(problem.q_descale.strides, (std::vector<std::int64_t>{4, 1}));
  EXPECT_EQ(problem.k_descale.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(problem.v_descale.data, 0x70000U);
  EXPECT_EQ(problem.v_descale.strides, (std::vector<std::int64_t>{0, 0}));
  // Per query row, per 64 keys (17 keys: one block) and per V channel.
  FwdInputs blocks = given;
  blocks.q_descale = contiguous_view(fake_address(0x50000), ElemType::F32, {2, 4, 33});
  blocks.k_descale = contiguous_view(fake_address(0x60000), ElemType::F32, {2, 2, 1});
  blocks.v_descale = contiguous_view(fake_address(0x70000), ElemType::F32, {2, 2, 64});
  const FwdProblem per_block = fwd_problem(variant, blocks, 0);
  EXPECT_EQ(per_block.q_descale.strides, (std::vector<std::int64_t>{132, 33, 1}));
  EXPECT_EQ(per_block.k_descale.shape, (std::vector<std::int64_t>{2, 2, 1}));
  EXPECT_EQ(per_block.v_descale.shape, (std::vector<std::int64_t>{2, 2, 64}));

  const auto error_of = [&variant](const FwdInputs& wrong) -> std::string {
    try {
      (void)fwd_problem(variant, wrong, 0);
    } catch (const InputError& error) {
      return error.what();
    }
    return "no error";
  };
  FwdInputs wrong = given;
  wrong.k_descale = contiguous_view(fake_address(0x60000), ElemType::F32, {2, 4});
  EXPECT_EQ(error_of(wrong),
            "k_descale must be [batch, kv_heads] = [2, 2] or [batch, kv_heads, ceil(kv_len / 64)] "
            "= [2, 2, 1], not [2, 4]");
  wrong = given;
  wrong.q_descale = contiguous_view(fake_address(0x50000), ElemType::F32, {8});
  EXPECT_EQ(error_of(wrong),
            "q_descale must be [batch, heads] = [2, 4] or [batch, heads, q_len] = [2, 4, 33], not "
            "[8]");
  wrong = given;
  wrong.v_descale = contiguous_view(fake_address(0x70000), ElemType::F32, {2, 2, 32});
  EXPECT_EQ(error_of(wrong),
            "v_descale must be [batch, kv_heads] = [2, 2] or [batch, kv_heads, head_dim_v] = "
            "[2, 2, 64], not [2, 2, 32]");
  wrong = given;
  wrong.q_descale->dtype = ElemType::F16;
  EXPECT_EQ(error_of(wrong), "tensor 'q_descale' must be f32, not f16");
  wrong = given;
  wrong.v_descale->strides = {2, -1};
  EXPECT_EQ(error_of(wrong), "v_descale has a negative stride: [2, -1]");
  wrong = given;
  wrong.k_descale->data = nullptr;
  EXPECT_EQ(error_of(wrong), "tensor 'k_descale' has no data");
}

TEST(FwdInputs, OnlyFp8VariantsTakeDescales) {
  const Variant variant = parse("variant x { dtype bf16; head_dim 64; }");
  FwdInputs given = inputs(ElemType::BF16);
  given.v_descale = contiguous_view(fake_address(0x50000), ElemType::F32, {2, 2});
  try {
    (void)fwd_problem(variant, given, 0);
    FAIL() << "descales taken for a bf16 variant";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "variant 'x' has bf16 inputs; descale factors are for fp8 variants");
  }
}

TEST(FromDlpack, ConvertsCudaTensorsWithAndWithoutStrides) {
  std::int64_t shape[] = {2, 3, 8};
  std::int64_t strides[] = {48, 16, 1};
  DLTensor tensor{};
  tensor.data = fake_address(0x1000);
  tensor.device = {kDLCUDA, 0};
  tensor.ndim = 3;
  tensor.dtype = {kDLBfloat, 16, 1};
  tensor.shape = shape;
  tensor.byte_offset = 64;
  TensorView view = from_dlpack(tensor);
  EXPECT_EQ(view.data, fake_address(0x1040));
  EXPECT_EQ(view.dtype, ElemType::BF16);
  EXPECT_EQ(view.strides, (std::vector<std::int64_t>{24, 8, 1}));
  tensor.strides = strides;
  tensor.dtype = {kDLInt, 32, 1};
  view = from_dlpack(tensor);
  EXPECT_EQ(view.strides, (std::vector<std::int64_t>{48, 16, 1}));
  EXPECT_EQ(view.dtype, ElemType::I32);
}

// DLPack 1.1's codes, which PyTorch's float8_e4m3fn and float8_e5m2 export.
TEST(FromDlpack, ConvertsFp8) {
  std::int64_t shape[] = {4};
  DLTensor tensor{};
  tensor.data = fake_address(0x1000);
  tensor.device = {kDLCUDA, 0};
  tensor.ndim = 1;
  tensor.shape = shape;
  tensor.dtype = {10, 8, 1};  // kDLFloat8_e4m3fn
  EXPECT_EQ(from_dlpack(tensor).dtype, ElemType::F8E4M3);
  tensor.dtype = {12, 8, 1};  // kDLFloat8_e5m2
  EXPECT_EQ(from_dlpack(tensor).dtype, ElemType::F8E5M2);
  // e4m3 with infinities (8), and the fnuz forms (11, 13), are other formats.
  for (const std::uint8_t code : {8, 11, 13}) {
    tensor.dtype = {code, 8, 1};
    EXPECT_THROW((void)from_dlpack(tensor), InputError) << int{code};
  }
  tensor.dtype = {10, 16, 1};
  EXPECT_THROW((void)from_dlpack(tensor), InputError);
}

TEST(FromDlpack, RefusesHostMemoryAndUnknownTypes) {
  std::int64_t shape[] = {4};
  DLTensor tensor{};
  tensor.data = fake_address(0x1000);
  tensor.device = {kDLCPU, 0};
  tensor.ndim = 1;
  tensor.dtype = {kDLFloat, 16, 1};
  tensor.shape = shape;
  EXPECT_THROW((void)from_dlpack(tensor), InputError);
  tensor.device = {kDLCUDA, 0};
  tensor.dtype = {kDLFloat, 64, 1};
  EXPECT_THROW((void)from_dlpack(tensor), InputError);
  tensor.dtype = {kDLFloat, 16, 2};
  EXPECT_THROW((void)from_dlpack(tensor), InputError);
}

}  // namespace
}  // namespace attnjit
