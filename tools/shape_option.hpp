// SHAPE of the command-line contract: b=2,h=16,hkv=4,sq=8192,sk=8192
// (hkv defaults to h, sk to sq).
#pragma once

#include <attnjit/reference.hpp>

#include <string_view>

namespace attnjit::cli {

// Throws CliError(kBadInput) naming the bad key or value.
AttentionShape parse_shape(std::string_view text);

}  // namespace attnjit::cli
