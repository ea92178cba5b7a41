// The key order of fp8_layout.cuh's transposed V against the two register
// layouts it reconciles: wgmma's k32 A fragment (what the PV product reads)
// and its f32 accumulator (where the scores, and so P, are).
#include "attnjit/fp8_layout.cuh"

#include <set>

#include <gtest/gtest.h>

namespace {

// Byte `byte` of A register `reg` of lane group g, thread t: row g + 8 *
// (reg % 2), logical key 16 * (reg / 2) + 4 * t + byte (the PTX ISA's
// register fragment of an 8-bit wgmma A operand).
int logical_key(int reg, int t, int byte) { return 16 * (reg / 2) + 4 * t + byte; }

// The real key whose score fwd_sm90.cuh's pack_a_fp8 puts in that byte: the
// accumulator holds keys 8 * n + 2 * t and + 1 of each 8-key tile n, and
// register reg takes tiles 2 * (reg / 2) and + 1, two bytes each.
int packed_key(int reg, int t, int byte) {
  return 8 * (2 * (reg / 2) + byte / 2) + 2 * t + byte % 2;
}

TEST(Fp8VLayout, OrdersKeysAsThePFragmentsHoldThem) {
  for (int reg = 0; reg < 4; ++reg) {
    for (int t = 0; t < 4; ++t) {
      for (int byte = 0; byte < 4; ++byte) {
        EXPECT_EQ(aj::fp8_v_key(logical_key(reg, t, byte)), packed_key(reg, t, byte))
            << "register " << reg << " thread " << t << " byte " << byte;
      }
    }
  }
}

TEST(Fp8VLayout, PermutesEachSixteenKeysAmongThemselves) {
  for (int base = 0; base < 64; base += 16) {
    std::set<int> keys;
    for (int p = base; p < base + 16; ++p) keys.insert(aj::fp8_v_key(p));
    EXPECT_EQ(keys.size(), 16U);
    EXPECT_EQ(*keys.begin(), base);
    EXPECT_EQ(*keys.rbegin(), base + 15);
  }
}

}  // namespace
