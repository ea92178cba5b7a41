// The SQLite store behind the kernel cache: variants (canonical text),
// compiled kernels (cubin with checksum and the report it was built with) and
// tuning records. One file, WAL mode, safe for many threads and processes at
// once; every write is one transaction, so a killed writer leaves nothing half
// done.
#pragma once

#include <attnjit/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnjit::db {

// SQLite failed: the message names what was being done and SQLite's error.
class DbError : public Error {
 public:
  using Error::Error;
};

// What determines a kernel binary (DESIGN.md: variant hash, family, config,
// GPU arch, toolchain). At most one kernel per key is stored.
struct KernelKey {
  std::string variant_hash;
  std::string family;     // "fa2_sm80"
  std::string config;     // full config, defaults filled in: "bm=128,bn=64,warps=4"
  std::string arch;       // "sm_90a"
  std::string toolchain;  // NVRTC version, options and template version, as one string
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const KernelKey&, const KernelKey&) = default;
};

// How to launch the kernel, as the generator described it.
struct LaunchShape {
  std::string entry;     // the lowered symbol to look up in the module
  int threads = 0;       // per CTA
  int dynamic_smem = 0;  // bytes per CTA
  int block_m = 0;       // query rows per CTA
};

// What ptxas reported, and how long the compile took.
struct ResourceUsage {
  int registers = 0;
  int static_smem = 0;
  int spill_bytes = 0;  // stores plus loads
  int stack_bytes = 0;
  double compile_ms = 0;
};

struct KernelRecord {
  KernelKey key;
  std::string variant_name;
  std::string canonical;    // the variant's canonical text
  std::string source;       // the generated translation unit the cubin was built from
  std::string source_hash;  // SHA-256 hex of the source and every template it includes
  LaunchShape launch;
  ResourceUsage usage;
  std::vector<char> cubin;
};

// A stored kernel as read back: the record, its identity and bookkeeping.
struct StoredKernel {
  std::int64_t id = 0;
  KernelRecord record;
  std::string cubin_sha256;  // as stored; compare with checksum_hex(record.cubin)
  std::int64_t created = 0;  // unix seconds
  std::int64_t last_used = 0;
};

// One row of `attnjit cache ls`: everything but the source and the cubin.
struct KernelSummary {
  std::int64_t id = 0;
  KernelKey key;
  std::string variant_name;
  LaunchShape launch;  // its dynamic_smem is part of the kernel's shared memory
  ResourceUsage usage;
  std::int64_t cubin_bytes = 0;
  std::int64_t created = 0;
  std::int64_t last_used = 0;
};

// The shape a tuning result is valid for, in powers of two (rounded up), so
// that nearby shapes share a record.
struct ShapeBucket {
  int log2_q_len = 0;
  int log2_kv_len = 0;
  int log2_rows = 0;  // batch * heads
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const ShapeBucket&, const ShapeBucket&) = default;
};

struct TuningKey {
  std::string variant_hash;
  std::string family;
  std::string gpu;  // the device's name, e.g. "NVIDIA H100 80GB HBM3"
  std::string toolchain;
  ShapeBucket bucket;
  friend auto operator<=>(const TuningKey&, const TuningKey&) = default;
};

struct TuningRecord {
  TuningKey key;
  std::string config;     // the best config found
  double best_ms = 0;     // its median time on the tuned shape
  double default_ms = 0;  // the default config's, on the same shape (0: not measured)
  std::int64_t created = 0;
};

struct Stats {
  std::int64_t variants = 0;
  std::int64_t kernels = 0;
  std::int64_t tuning_records = 0;
  std::int64_t cubin_bytes = 0;  // sum over kernels
  std::int64_t file_bytes = 0;   // the database file with its WAL
};

struct VerifyReport {
  std::vector<std::string> integrity;       // SQLite's integrity_check lines other than "ok"
  std::vector<std::int64_t> bad_checksums;  // kernel ids whose cubin does not match its
                                            // checksum or is not a CUDA ELF file
  [[nodiscard]] bool ok() const { return integrity.empty() && bad_checksums.empty(); }
};

struct ImportCounts {
  std::int64_t variants = 0;
  std::int64_t kernels = 0;
  std::int64_t tuning_records = 0;
};

class KernelStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the database file (not its directory) and brings its
  // schema up to kSchemaVersion. ":memory:" gives a private in-memory store.
  // Throws DbError when the file cannot be opened or written, or was written
  // by a newer attnjit (a schema version above kSchemaVersion).
  explicit KernelStore(const std::filesystem::path& file,
                       std::chrono::milliseconds busy_timeout = std::chrono::seconds(60));
  KernelStore(const KernelStore&) = delete;
  KernelStore& operator=(const KernelStore&) = delete;
  KernelStore(KernelStore&& other) noexcept;
  KernelStore& operator=(KernelStore&& other) noexcept;
  ~KernelStore();

  [[nodiscard]] const std::filesystem::path& file() const;

  // The kernel stored under `key`, with its cubin; the checksum is not checked here.
  [[nodiscard]] std::optional<StoredKernel> find(const KernelKey& key) const;
  [[nodiscard]] std::optional<StoredKernel> get(std::int64_t id) const;
  // Stores the variant (once) and the kernel unless one with the same key is
  // already there, in which case the stored one stays. Returns the stored id.
  std::int64_t put(const KernelRecord& record);
  void touch(std::int64_t id);   // last_used = now
  void remove(std::int64_t id);  // no error when absent

  [[nodiscard]] std::vector<KernelSummary> list() const;  // by id
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] VerifyReport verify() const;

  // Removes kernels last used before `older_than` ago, then the least recently
  // used until the cubins total at most `max_bytes`; variants no kernel or
  // tuning record refers to go with them. Returns the kernels removed.
  std::int64_t prune(std::optional<std::chrono::seconds> older_than,
                     std::optional<std::int64_t> max_bytes);
  // Everything: variants, kernels, tuning records. Returns the kernels removed.
  std::int64_t clear();

  // Writes every variant, kernel and tuning record to a new database file
  // (which must not exist); import adds those of such a file that are not
  // here yet (same keys stay as they are).
  void export_to(const std::filesystem::path& file) const;
  ImportCounts import_from(const std::filesystem::path& file);

  // Replaces the record under the same key.
  void put_tuning(const TuningRecord& record);
  // The record for the variant, family, GPU and toolchain whose bucket is
  // nearest `key.bucket` (sum of the log2 distances; ties to the newest).
  [[nodiscard]] std::optional<TuningRecord> nearest_tuning(const TuningKey& key) const;
  [[nodiscard]] std::vector<TuningRecord> tuning_records() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SHA-256 of bytes, as 64 lowercase hex digits.
std::string checksum_hex(const void* data, std::size_t size);

}  // namespace attnjit::db
