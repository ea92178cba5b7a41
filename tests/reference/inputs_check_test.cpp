// Inputs that do not fit the variant are refused with an InputError that
// names the problem, before anything is computed.
#include "tests/reference/naive_attention.hpp"
#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

constexpr char kChecked[] = R"(
  variant checked {
    dtype    fp16;
    head_dim 8;
    param    window: i32;
    param    cap: f32 = 30.0;
    tensor   doc: i32[batch, kv_len];
    tensor   other: u8[n];
    tensor   table: f32[n, 4];
    mask     causal && q - k < window && doc[b, k] >= 0;
    score    softcap(score, cap) + table[0, 0] + other[0];
  }
)";

// A valid call that each test breaks in one way.
class InputsCheck : public ::testing::Test {
 protected:
  InputsCheck()
      : variant_(reftest::parse_one(kChecked)),
        problem_({.batch = 2, .heads = 4, .kv_heads = 2, .q_len = 3, .kv_len = 5}, 8, 8, 31) {
    inputs_ = problem_.inputs();
    inputs_.params["window"] = std::int32_t{2};
    inputs_.tensors["doc"] = HostTensor{{2, 5}, std::vector<double>(10, 1.0)};
    inputs_.tensors["other"] = HostTensor{{3}, {1, 2, 255}};
    inputs_.tensors["table"] = HostTensor{{3, 4}, reftest::random_normal(12, 32)};
  }

  ReferenceInputs& inputs() { return inputs_; }
  [[nodiscard]] const Variant& variant() const { return variant_; }
  [[nodiscard]] ReferenceOutput run() const { return reference_attention(variant_, inputs_); }

  // Expects an InputError whose message contains `needle`.
  void expect_error(const std::string& needle) const {
    try {
      (void)run();
      ADD_FAILURE() << "no InputError; expected one mentioning \"" << needle << "\"";
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
          << "message: " << error.what() << "\nexpected to contain: " << needle;
    }
  }

 private:
  Variant variant_;
  reftest::Problem problem_;
  ReferenceInputs inputs_;
};

TEST_F(InputsCheck, ValidInputsPass) {
  const ReferenceOutput out = run();
  EXPECT_EQ(out.out.size(), 2U * 4U * 3U * 8U);
  EXPECT_EQ(out.lse.size(), 2U * 4U * 3U);
}

TEST_F(InputsCheck, QWithTheWrongSize) {
  inputs().q = inputs().q.first(inputs().q.size() - 1);
  expect_error("q has 191 values, but [batch, heads, q_len, head_dim] = [2, 4, 3, 8] needs 192");
}

TEST_F(InputsCheck, KWithTheWrongSize) {
  inputs().k = inputs().k.first(7);
  expect_error("k has 7 values");
}

TEST_F(InputsCheck, VWithTheWrongSize) {
  inputs().v = inputs().q;
  expect_error("v has 192 values");
}

TEST_F(InputsCheck, KvHeadsMustDivideHeads) {
  inputs().shape.kv_heads = 3;
  expect_error("kv_heads (3) must divide heads (4)");
}

TEST_F(InputsCheck, KvHeadsMustBePositive) {
  inputs().shape.kv_heads = 0;
  expect_error("kv_heads is 0");
}

TEST_F(InputsCheck, LengthsMustNotBeNegative) {
  inputs().shape.q_len = -1;
  expect_error("q_len is -1");
}

TEST_F(InputsCheck, SizesWhoseProductOverflows) {
  inputs().shape.batch = std::int64_t{1} << 62;
  expect_error("too large");
}

TEST_F(InputsCheck, KvLensNeedOnePerBatchEntry) {
  inputs().kv_lens = {5};
  expect_error("kv_lens has 1 values, but batch is 2: give one per batch entry");
  inputs().kv_lens = {5, 5, 5};
  expect_error("kv_lens has 3 values, but batch is 2");
}

TEST_F(InputsCheck, KvLensMustFitTheCapacity) {
  inputs().kv_lens = {5, 6};
  expect_error("kv_lens[1] is 6; it must be in 0..kv_len (5)");
  inputs().kv_lens = {-1, 5};
  expect_error("kv_lens[0] is -1; it must be in 0..kv_len (5)");
}

TEST_F(InputsCheck, KvLensAreCheckedByEveryEntryPoint) {
  inputs().kv_lens = {7, 1};
  const std::vector<RowIndex> rows = {{0, 0, 0}};
  EXPECT_THROW((void)reference_rows(variant(), inputs(), rows), InputError);
  EXPECT_THROW((void)unmasked_pairs(variant(), inputs(), 0, 0), InputError);
}

TEST_F(InputsCheck, UnmaskedPairsOfAnEntryOutsideARaggedBatch) {
  inputs().kv_lens = {5, 1};
  EXPECT_NO_THROW((void)unmasked_pairs(variant(), inputs(), 1, 0));
  try {
    (void)unmasked_pairs(variant(), inputs(), 2, 0);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "batch entry 2 has no kv_lens value: batch is 2");
  }
}

TEST_F(InputsCheck, KvLenTensorsKeepTheCapacityInARaggedBatch) {
  inputs().kv_lens = {3, 0};
  EXPECT_NO_THROW((void)run());
  inputs().tensors["doc"] = HostTensor{{2, 3}, std::vector<double>(6, 1.0)};
  expect_error("tensor 'doc' has extent 3 in dimension 1, but kv_len is 5");
}

TEST_F(InputsCheck, MissingParamWithoutDefault) {
  inputs().params.erase("window");
  expect_error("param 'window: i32' has no value and no default");
}

TEST_F(InputsCheck, GivenValueOverridesTheDefault) {
  const ReferenceOutput with_default = run();
  inputs().params["cap"] = 30.0F;
  EXPECT_EQ(run().out, with_default.out);
  inputs().params["cap"] = 0.5F;
  EXPECT_NE(run().out, with_default.out);
}

TEST_F(InputsCheck, ParamOfTheWrongType) {
  inputs().params["window"] = 2.0F;
  expect_error("param 'window' is i32 but was given a f32 value");
}

TEST_F(InputsCheck, UnknownParam) {
  inputs().params["windw"] = std::int32_t{2};
  expect_error("'windw' is not a param of variant 'checked'");
}

TEST_F(InputsCheck, MissingTensor) {
  inputs().tensors.erase("doc");
  expect_error("tensor 'doc: i32[batch, kv_len]' is missing");
}

TEST_F(InputsCheck, UnknownTensor) {
  inputs().tensors["dock"] = HostTensor{{1}, {0}};
  expect_error("'dock' is not a tensor of variant 'checked'");
}

TEST_F(InputsCheck, TensorOfTheWrongRank) {
  inputs().tensors["doc"] = HostTensor{{10}, std::vector<double>(10, 1.0)};
  expect_error("tensor 'doc' has rank 1, but is declared doc: i32[batch, kv_len]");
}

TEST_F(InputsCheck, TensorExtentDisagreesWithTheShape) {
  inputs().tensors["doc"] = HostTensor{{2, 6}, std::vector<double>(12, 1.0)};
  expect_error("tensor 'doc' has extent 6 in dimension 1, but kv_len is 5");
}

TEST_F(InputsCheck, TensorExtentDisagreesWithAFixedSize) {
  inputs().tensors["table"] = HostTensor{{3, 5}, std::vector<double>(15, 1.0)};
  expect_error("tensor 'table' has extent 5 in dimension 1, but is declared table: f32[n, 4]");
}

TEST_F(InputsCheck, FreeDimensionDisagreesBetweenTensors) {
  inputs().tensors["other"] = HostTensor{{4}, {1, 2, 3, 4}};
  expect_error("tensor 'table' has extent 3 in dimension 0, but 'n' is 4 in tensor 'other'");
}

TEST_F(InputsCheck, NegativeExtent) {
  inputs().tensors["table"] = HostTensor{{-3, 4}, {}};
  expect_error("tensor 'table' has extent -3 in dimension 0");
}

TEST_F(InputsCheck, DataSizeDisagreesWithTheShape) {
  inputs().tensors["doc"] = HostTensor{{2, 5}, std::vector<double>(9, 1.0)};
  expect_error("tensor 'doc' holds 9 values, but its shape [2, 5] needs 10");
}

TEST_F(InputsCheck, I32ElementOutOfRange) {
  inputs().tensors["doc"].data[3] = 3e9;
  expect_error("tensor 'doc' element 3 is 3000000000, which is not a valid i32");
}

TEST_F(InputsCheck, I32ElementNaN) {
  inputs().tensors["doc"].data[0] = std::numeric_limits<double>::quiet_NaN();
  expect_error("tensor 'doc' element 0 is nan");
}

TEST_F(InputsCheck, U8ElementOutOfRange) {
  inputs().tensors["other"].data[1] = 256;
  expect_error("tensor 'other' element 1 is 256, which is not a valid u8");
  inputs().tensors["other"].data[1] = -1;
  expect_error("tensor 'other' element 1 is -1, which is not a valid u8");
}

TEST_F(InputsCheck, IntElementsAreTruncated) {
  // 255.9 and -0.5 truncate to 255 and 0, both valid u8 values.
  inputs().tensors["other"] = HostTensor{{3}, {-0.5, 2, 255.9}};
  const ReferenceOutput truncated = run();
  inputs().tensors["other"] = HostTensor{{3}, {0, 2, 255}};
  EXPECT_EQ(run().out, truncated.out);
}

}  // namespace
}  // namespace attnjit
