// The parts of a cache key that say how a kernel was built, beyond the
// variant and its config: the compiler and its options, the templates, and
// the exact source.
#pragma once

#include "runtime/nvrtc_compiler.hpp"

#include <string>

namespace attnjit {

// NVRTC's version, the options every compile gets (the arch aside: it is a
// key of its own) and a hash of the embedded templates. Two kernels built
// under different toolchains are never mixed up.
std::string toolchain_id();

// SHA-256 hex of a compile job: the main source and every header it may include.
std::string source_hash(const KernelSource& source);

// Whether a cubin is an ELF image for `arch` ("sm_90a": SM 90), read from its
// header; a damaged or foreign image is not.
bool cubin_matches_arch(const std::vector<char>& cubin, const std::string& arch);

}  // namespace attnjit
