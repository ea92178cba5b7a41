#include "db/columns.hpp"

namespace attnjit::db {

std::string placeholders(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

KernelKey read_key(sqlite::RowReader& row) {
  KernelKey key;
  key.variant_hash = row.text();
  key.family = row.text();
  key.config = row.text();
  key.arch = row.text();
  key.toolchain = row.text();
  return key;
}

LaunchShape read_launch(sqlite::RowReader& row) {
  LaunchShape launch;
  launch.entry = row.text();
  launch.threads = row.int32();
  launch.dynamic_smem = row.int32();
  launch.block_m = row.int32();
  return launch;
}

ResourceUsage read_usage(sqlite::RowReader& row) {
  ResourceUsage usage;
  usage.registers = row.int32();
  usage.static_smem = row.int32();
  usage.spill_bytes = row.int32();
  usage.stack_bytes = row.int32();
  usage.compile_ms = row.real();
  return usage;
}

}  // namespace attnjit::db
