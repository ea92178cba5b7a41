// Which masks get a tile class table, and its planes: one per batch and per
// head only where the mask names them, so that the table stays small.
#include "codegen/class_table.hpp"

#include "tests/language/test_util.hpp"

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

using testing::parse_one;

Variant with_mask(const char* mask, const char* decls = "") {
  return parse_one(std::string("variant v { dtype bf16; head_dim 64; ") + decls + " mask " + mask +
                   "; }");
}

TEST(ClassTable, MasksOfIndicesHaveNone) {
  EXPECT_FALSE(class_table(with_mask("causal && q - k < 1024")));
  EXPECT_FALSE(class_table(parse_one("variant v { dtype bf16; head_dim 64; }")));
  EXPECT_EQ(classify_kernel_source(with_mask("causal")), "");
}

TEST(ClassTable, ADocumentMaskIsOnePlanePerBatch) {
  const Variant variant =
      with_mask("causal && doc[b, q] == doc[b, k]", "tensor doc: i32[batch, kv_len];");
  const std::optional<ClassTable> table = class_table(variant);
  ASSERT_TRUE(table);
  EXPECT_TRUE(table->by_batch);
  EXPECT_EQ(table->heads, ClassTable::Heads::None);
  // 2 batches x ceil(1000 / 128) x ceil(300 / 64), whatever the 16 heads;
  // the 16 rows' spans after the 80 bytes, from 16-byte alignment.
  const ClassTableLayout layout = class_table_layout(*table, {2, 16, 4, 1000, 300}, 128, 64);
  EXPECT_EQ(layout.tiles, 2 * 8 * 5);
  EXPECT_EQ(layout.rows, 2 * 8);
  EXPECT_EQ(layout.spans_at, 80);
  EXPECT_EQ(layout.bytes(), 80 + 16 * 8);
  EXPECT_NE(classify_kernel_source(variant).find(kClassifyEntry), std::string::npos);
}

TEST(ClassTable, HeadsCountWhereTheMaskNamesThem) {
  const std::optional<ClassTable> query =
      class_table(with_mask("keep[h, k]", "tensor keep: bool[heads, kv_len];"));
  ASSERT_TRUE(query);
  EXPECT_FALSE(query->by_batch);
  EXPECT_EQ(query->heads, ClassTable::Heads::Query);
  EXPECT_EQ(class_table_layout(*query, {3, 8, 2, 64, 64}, 64, 64).tiles, 8);
  EXPECT_EQ(class_table_layout(*query, {3, 8, 2, 64, 64}, 64, 64).spans_at, 16);

  const std::optional<ClassTable> kv =
      class_table(with_mask("keep[hkv, k]", "tensor keep: bool[kv_heads, kv_len];"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->heads, ClassTable::Heads::Kv);
  EXPECT_EQ(class_table_layout(*kv, {3, 8, 2, 64, 64}, 64, 64).tiles, 2);
  EXPECT_EQ(class_table_layout(*kv, {3, 8, 2, 64, 0}, 64, 64).bytes(), 0);
}

}  // namespace
}  // namespace attnjit::codegen
