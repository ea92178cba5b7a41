// The messages between the tuner and its measuring process, one JSON object
// per line. The measuring side holds the GPU; the tuner never touches it, so
// a candidate that faults or hangs costs only that process.
#pragma once

#include <attnjit/reference.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace attnjit {

// Where argument-dependent lookup finds them for AttentionShape.
void to_json(nlohmann::json& json, const AttentionShape& shape);
void from_json(const nlohmann::json& json, AttentionShape& shape);

}  // namespace attnjit

namespace attnjit::tuner {

struct SetupRequest {
  std::string variant_text;  // a parseable `variant NAME { ... }`
  AttentionShape shape;
  std::uint64_t seed = 1;
  int check_rows = 256;  // query rows compared with the CPU reference
};

struct SetupReply {
  bool ok = false;
  bool no_gpu = false;  // no driver or device: the CLI exits with status 3
  std::string error;
  std::string gpu;   // device name, part of the tuning record's key
  std::string arch;  // what to compile for
  double flops = 0;  // of one forward pass, as peers.py counts them
};

struct MeasureRequest {
  std::string config;
  std::string cubin_path;
  std::string entry;  // lowered kernel name
  int threads = 0;
  int dynamic_smem = 0;
  int block_m = 0;
  int block_n = 0;
  bool tma_maps = false;
  int head_group = 1;       // GeneratedKernel's: the grid the kernel was built for
  bool persistent = false;  // GeneratedKernel's
  bool decode = false;      // the decode family, with these two of its launch
  int decode_ctas_per_sm = 0;
  int page_size = 0;
  int warmup = 3;
  int repetitions = 20;
};

struct MeasureReply {
  bool ok = false;
  std::string error;  // a launch failure or a wrong result
  double median_ms = 0;
  double min_ms = 0;
  double max_abs_error = 0;  // against the reference rows
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetupRequest, variant_text, shape, seed, check_rows)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SetupReply, ok, no_gpu, error, gpu, arch, flops)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MeasureRequest, config, cubin_path, entry, threads, dynamic_smem,
                                   block_m, block_n, tma_maps, head_group, persistent, decode,
                                   decode_ctas_per_sm, page_size, warmup, repetitions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(MeasureReply, ok, error, median_ms, min_ms, max_abs_error)

}  // namespace attnjit::tuner
