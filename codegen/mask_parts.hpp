// A mask that reads tensors per element (document ids, buckets) on a
// partial tile, in parts: its reads that depend on the query row alone are
// computed once per row, those of the key alone once per key, and only what
// joins them once per element, as FlexAttention's vectorised mask functions
// get from broadcasting. A document mask then reads doc[q] twice and doc[k]
// BN / 32 times per thread and tile (the warp's lanes share the keys'
// parts), instead of each 64 times.
#pragma once

#include <attnjit/variant.hpp>

#include <string>

namespace attnjit::codegen {

// Members of the generated Variant struct: kMaskParts (whether the mask has
// such parts), RowPart and ColPart, row_part(p, ix) (ix.q set), col_part(p,
// ix) (ix.k set) and mask_of_parts(p, ix, row, col), which equals mask(p, ix);
// kLightParts when mask_of_parts is light code (expr_weight.hpp), which the
// families then unroll per element.
std::string mask_parts_members(const Variant& variant);

}  // namespace attnjit::codegen
