// Column lists in the order the readers and writers of each table use, so
// that the store and import name the same columns.
#pragma once

#include "db/kernel_store.hpp"
#include "db/sqlite.hpp"

#include <string>
#include <string_view>

namespace attnjit::db {

inline constexpr std::string_view kVariantColumns = "hash, name, canonical, created";

// Every kernel column but the id, which is local to one database.
inline constexpr std::string_view kKernelColumns =
    "variant_hash, family, config, arch, toolchain, variant_name, source, source_hash, "
    "entry, threads, dynamic_smem, block_m, "
    "registers, static_smem, spill_bytes, stack_bytes, compile_ms, "
    "cubin, cubin_sha256, created, last_used";
inline constexpr int kKernelColumnCount = 21;

inline constexpr std::string_view kTuningColumns =
    "variant_hash, family, gpu, toolchain, log2_q_len, log2_kv_len, log2_rows, "
    "config, best_ms, default_ms, created";
inline constexpr int kTuningColumnCount = 11;

// "?, ?, ?" for `count` parameters.
std::string placeholders(int count);

KernelKey read_key(sqlite::RowReader& row);
LaunchShape read_launch(sqlite::RowReader& row);
ResourceUsage read_usage(sqlite::RowReader& row);

}  // namespace attnjit::db
