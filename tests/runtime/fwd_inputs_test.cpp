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

FwdInputs inputs(ElemType type) {
  return FwdInputs{contiguous_view(fake_address(0x10000), type, {2, 4, 33, 64}),
                   contiguous_view(fake_address(0x20000), type, {2, 2, 17, 64}),
                   contiguous_view(fake_address(0x30000), type, {2, 2, 17, 64}),
                   contiguous_view(fake_address(0x40000), type, {2, 4, 33, 64}),
                   std::nullopt,
                   {},
                   {},
                   std::nullopt,
                   std::nullopt};
}

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
