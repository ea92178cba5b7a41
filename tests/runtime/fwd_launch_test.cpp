// The checks of a launch problem that run before anything is enqueued. No
// GPU: pointers are never read.
#include "runtime/fwd_launch.hpp"

#include "runtime/fwd_inputs.hpp"
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

void* fake_address(std::uintptr_t address) {
  // NOLINTNEXTLINE(performance-no-int-to-ptr,cppcoreguidelines-pro-type-reinterpret-cast)
  return reinterpret_cast<void*>(address);
}

FwdProblem problem(const Variant& variant) {
  FwdInputs given;
  given.q = contiguous_view(fake_address(0x10000), ElemType::BF16, {2, 4, 33, 64});
  given.k = contiguous_view(fake_address(0x20000), ElemType::BF16, {2, 2, 17, 64});
  given.v = contiguous_view(fake_address(0x30000), ElemType::BF16, {2, 2, 17, 64});
  given.o = contiguous_view(fake_address(0x40000), ElemType::BF16, {2, 4, 33, 64});
  return fwd_problem(variant, given, 0);
}

// The kernels copy rows in 16-byte pieces, so each row must start on 16
// bytes: the batch and head strides count as much as the row stride.
TEST(FwdLaunch, RowsMustStartOn16Bytes) {
  const ParseResult parsed = parse_variants("variant d { dtype bf16; head_dim 64; }", "t.attn");
  ASSERT_EQ(parsed.variants.size(), 1U);
  const Variant& variant = parsed.variants.front();
  EXPECT_NO_THROW(check_fwd_tensors(variant, false, problem(variant)));

  FwdProblem odd_head = problem(variant);
  odd_head.k.strides[1] = 17 * 64 + 4;  // 8 bytes past a multiple of 16
  EXPECT_THROW(check_fwd_tensors(variant, false, odd_head), InputError);
  EXPECT_THROW(check_fwd_tensors(variant, true, odd_head), InputError);

  FwdProblem odd_batch = problem(variant);
  odd_batch.o.strides[0] = 4 * 33 * 64 + 2;
  EXPECT_THROW(check_fwd_tensors(variant, false, odd_batch), InputError);

  FwdProblem odd_start = problem(variant);
  odd_start.q.data += 8;
  EXPECT_THROW(check_fwd_tensors(variant, false, odd_start), InputError);
}

}  // namespace
}  // namespace attnjit
