// Tile classes from data. A mask that reads tensors (document ids, say) is
// classified by a kernel of its own before the forward kernel: a warp per
// tile over the whole GPU, into a byte per tile that the forward kernel's
// tile walk reads (DESIGN.md, "Tile classes"). Classified inside the forward
// kernel, each tile's scans cost memory round trips that a CTA pays in
// series, tile after tile, while its tensor cores wait.
#pragma once

#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attnjit::codegen {

// Which fixed indices a tile's class depends on: the table holds a plane of
// (query tile x key tile) bytes per batch and per head only where the mask
// names them, so that a document mask is classified once for all heads.
struct ClassTable {
  enum class Heads : std::uint8_t { None, Query, Kv };
  bool by_batch = false;
  Heads heads = Heads::None;
};

// The table a variant's mask needs; nothing for masks of indices, sizes and
// params, which the tile walk classifies itself by interval arithmetic.
std::optional<ClassTable> class_table(const Variant& variant);

// Where a table's parts lie for a problem of `shape` tiled by block_m x
// block_n: a byte per tile, then a span per row of tiles (FwdArgs::tile_span).
struct ClassTableLayout {
  std::int64_t tiles = 0;
  std::int64_t rows = 0;
  std::int64_t spans_at = 0;  // bytes from the table's start, 16-byte aligned
  [[nodiscard]] std::int64_t bytes() const { return tiles == 0 ? 0 : spans_at + rows * 8; }
};
ClassTableLayout class_table_layout(const ClassTable& table, const AttentionShape& shape,
                                    int block_m, int block_n);

inline constexpr std::string_view kClassifyEntry = "attnjit_classify";
inline constexpr int kClassifyThreads = 256;
// Engine::block_mask's kernel (tile_walk.cuh's build_block_mask), in the same
// modules: a block mask from a mask that reads tensors.
inline constexpr std::string_view kBlockMaskEntry = "attnjit_block_mask";

// The classifier and block mask kernels, for a translation unit that defines
// Variant and Config (kBlockM, kBlockN); empty when the variant has no table.
std::string classify_kernel_source(const Variant& variant);

}  // namespace attnjit::codegen
