// The spellings and expression types of the IR's enums.
#include <attnjit/variant.hpp>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

TEST(ElemTypes, SpellingsRoundTrip) {
  for (const ElemType type : {ElemType::I32, ElemType::F32, ElemType::F16, ElemType::BF16,
                              ElemType::U8, ElemType::Bool, ElemType::F8E4M3, ElemType::F8E5M2}) {
    EXPECT_EQ(parse_elem_type(elem_type_name(type)), type) << elem_type_name(type);
  }
  // fp8 elements are spelled as the dtypes that give Q, K and V them.
  EXPECT_EQ(elem_type_name(ElemType::F8E4M3), dtype_name(DType::FP8E4M3));
  EXPECT_EQ(elem_type_name(ElemType::F8E5M2), dtype_name(DType::FP8E5M2));
}

TEST(ElemTypes, Fp8ElementsReadAsFloats) {
  EXPECT_EQ(value_type(ElemType::F8E4M3), ir::Type::Float);
  EXPECT_EQ(value_type(ElemType::F8E5M2), ir::Type::Float);
}

}  // namespace
}  // namespace attnjit
