// Kernel arguments shared by the host runtime and the generated device code:
// one definition, so their layouts cannot drift apart. Plain C++ that both
// a host compiler and NVRTC accept.
#pragma once

namespace aj {

// quant sage (sage_quant.cuh): Q is quantised per kSageQRows rows, K per
// kSageKKeys keys, V per channel.
constexpr int kSageQRows = 16;
constexpr int kSageKKeys = 64;

// Dequantisation factors of an fp8 Q, K or V, per (batch, head) and, with
// a third stride, per query row (Q), per block of kFp8KBlockKeys keys (K) or
// per channel (V): factor (b, h, i) at data[b * stride[0] + h * stride[1] +
// i * stride[2]]; stride[2] 0: one per head; data null: 1.
struct Descale {
  const float* data;
  long long stride[3];
};
constexpr int kFp8KBlockKeys = kSageKKeys;

// What the quantisation kernels of quant sage leave for the forward kernel,
// contiguous: the factors that take Q's and K's codes back to values, each
// query's dot product with its K head's mean over the keys (which smoothing
// took out of K), and V's largest magnitude per channel.
struct SageScales {
  const float* q;      // [batch, heads, ceil(q_len / kSageQRows)]
  const float* k;      // [batch, kv_heads, ceil(kv_len / kSageKKeys)]
  const float* mean;   // [batch, heads, q_len], or null without smoothing
  const float* v_max;  // [batch, kv_heads, head_dim_v], or null for 16-bit V
};

// Arguments every forward kernel takes, whatever the variant.
struct FwdArgs {
  const void* q;            // [batch, heads, q_len, head_dim]
  const void* k;            // [batch, kv_heads, kv_len, head_dim]
  const void* v;            // [batch, kv_heads, kv_len, head_dim_v]
  void* o;                  // [batch, heads, q_len, head_dim_v]
  float* lse;               // [batch, heads, q_len] or null; natural log
  long long lse_stride[2];  // of batch and head; rows are contiguous
  // Element strides of the batch, head and row dimensions; the last dimension is contiguous.
  long long q_stride[3];
  long long k_stride[3];
  long long v_stride[3];
  long long o_stride[3];
  int batch;
  int heads;
  int kv_heads;
  int q_len;
  int kv_len;
  float scale;       // the variant's scale
  float scale_log2;  // scale * log2(e), for the exp2-based softmax
  // The tile class table of a mask that reads tensors (DESIGN.md, "Tile
  // classes"), a byte per tile, which the classifier kernel writes; else null.
  unsigned char* tile_class;
  // Beside it, per row of tiles (plane, query tile), the span of its tiles
  // that are not empty, as {key tiles - first, last + 1} (zeros: none), which
  // the classifier raises from zeros: the walk skips the runs of empty tiles
  // before and after it without reading them.
  unsigned* tile_span;
  // Tiles a warp of the classifier takes, one a lane (a power of two up to
  // 32): fewer where tiles are few, so that their tensor reads spread over
  // more warps.
  int class_lanes;
  // fp8 inputs (the Hopper family): the factors, and V transposed by the
  // runtime (fp8_layout.cuh), which the kernel reads through its TMA map.
  Descale q_descale;
  Descale k_descale;
  Descale v_descale;
  SageScales sage;  // quant sage's; else nulls
  // A persistent Hopper grid (fa3_sm90's persistent=1): CTA i takes work item
  // i first, then items gridDim.x + atomicAdd(work_counter, 1) until none is
  // left; the runtime zeroes it before the launch. Else null.
  unsigned* work_counter;
};

// What the decode family takes besides FwdArgs (fwd_decode.cuh). Its rows
// are the queries of all heads that share a KV head, packed; its work is the
// key tiles of every (batch, KV head, row block) segment laid end to end and
// cut into `ctas` equal ranges (stream-K), so any batch and length fills the GPU.
struct DecodeArgs {
  const int* kv_lens;      // [batch] keys per batch entry, or null: kv_len each
  const int* page_table;   // [batch, page_stride] page ids, or null: contiguous K and V
  long long page_stride;   // elements between batch entries of the page table
  long long pages;         // pages in K and V; an id outside [0, pages) reads zeros
  long long* tile_prefix;  // [batch + 1] key tiles before each entry (plan kernel); or null
  float* part_o;           // [slots, rows, head_dim_v] normalised partial outputs
  float* part_lse;         // [slots, rows] their log2 sums of exponentials
  int row_blocks;          // ceil(heads / kv_heads * q_len / rows)
  int ctas;                // the grid
};

// A TMA tensor map (CUtensorMap): built by the host driver, read by the
// copy engine from a __grid_constant__ kernel parameter.
struct alignas(64) TmaMap {
  unsigned long long opaque[16];
};

// What the Hopper family takes besides FwdArgs: Q, K and V as TMA maps of
// 4-D tensors [batch, heads, rows, head_dim], boxes of 64 columns.
struct FwdMaps {
  TmaMap q;
  TmaMap k;
  TmaMap v;
};

// fp8 V [batch, kv_heads, kv_len, head_dim_v] (byte strides) copied to the
// transposed layout of fp8_layout.cuh: vt [batch, kv_heads, head_dim_v,
// padded_len] contiguous, padded_len a multiple of 16.
struct Fp8VLayoutArgs {
  const unsigned char* v;
  long long v_stride[3];
  unsigned char* vt;
  int kv_heads;
  int kv_len;
  int padded_len;
  int head_dim_v;
};

// The quantisation kernels of quant sage (sage_quant.cuh) over 16-bit Q, K
// and V (element strides of batch, head and row): K's sums over its keys and
// V's largest magnitudes per channel (zeroed before), then Q and K as 8-bit
// codes in contiguous [batch, heads, rows, head_dim] tensors, V as
// fp8_layout.cuh's transposed fp8, and the factors of SageScales. With
// 16-bit PV, V, v_max and vt are not touched.
struct SageQuantArgs {
  const unsigned short* q;
  const unsigned short* k;
  const unsigned short* v;
  long long q_stride[3];
  long long k_stride[3];
  long long v_stride[3];
  int heads;
  int kv_heads;
  int q_len;
  int kv_len;
  int padded_len;  // of vt
  // [batch, kv_heads, head_dim]: K's sums over the keys of every
  // k_sample_stride-th CTA of sage_stats, k_sample_rows of them; null
  // without smoothing.
  float* k_sum;
  int k_sample_stride;
  int k_sample_rows;
  float* v_max;  // [batch, kv_heads, head_dim_v], or null for 16-bit V
  unsigned char* q8;
  unsigned char* k8;
  unsigned char* vt;
  float* q_scale;
  float* k_scale;
  float* mean;  // null without smoothing
};

// A run-time tensor of the variant, read bounds-safely by the generated code.
template <int Rank>
struct TensorArg {
  const void* data;
  long long extent[Rank];
  long long stride[Rank];  // in elements
};

// The kernels of hash sparsity (hash_sparsity.cuh), which approx hyper
// (hyper.cuh) shares. A plane is one segment of one (batch, head) of a
// [batch, heads, rows] int32 tensor: planes go (batch, segment, head), and
// plane p's row r is row first + segment * step + r of its (batch, head),
// which starts at element batch * stride[0] + head * stride[1]; rows are
// stride[2] elements apart. Rows at or past valid_rows are padding: they sort
// last. Hash sparsity has one segment of all rows. The sort runs in two
// passes over chunks of chunk_rows rows of each plane, a CTA a chunk: counts
// ([planes, chunks, buckets + 1]) holds the first pass's key counts.
struct HashSortArgs {
  const int* bucket;  // [batch, heads, rows], any strides
  long long stride[3];
  int heads;  // of the bucket tensor: query heads or KV heads
  int segments;
  long long first, step, valid_rows;
  int rows;            // of a plane
  int order_pitch;     // elements from one plane's order to the next
  int* order;          // [planes, order_pitch]: the (batch, head) row of each sorted row
  int* sorted_bucket;  // [planes, rows] contiguous: the bucket of each sorted row; may be null
  int chunk_rows;
  int chunks;  // of a plane
  int* counts;
};

// Rows of `row_bytes` bytes copied between a [batch, heads, rows, *] tensor
// and a compact one of planes (as HashSortArgs's, byte strides of batch, head,
// row each): compact row r of plane p is row order[p * rows + r] of the
// plane's (batch, head). Gather: compact[r] = original[order[r]], zeros for a
// padding row (at or past valid_rows); else scatter: original[order[r]] =
// compact[r], padding rows dropped.
struct PermuteRowsArgs {
  const unsigned char* src;
  unsigned char* dst;
  long long src_stride[3];
  long long dst_stride[3];
  const int* order;
  int heads;
  int segments;
  long long valid_rows;
  int rows;
  int planes;
  int row_bytes;
  int gather;
};

// The bucket of each row of a [batch, heads, rows, head_dim] tensor of
// 16-bit elements (element strides): argmax over the buckets of its dot
// product with a fixed pseudo-random +-1 direction per bucket.
struct LshArgs {
  const unsigned short* x;
  long long stride[3];
  int heads;
  int rows;
  int planes;
  int head_dim;
  int* bucket;  // [planes, rows] contiguous
};

// The hash and merge kernels give a row to a group of kHyperRowLanes lanes,
// eight 16-bit columns a lane a step.
constexpr int kHyperRowLanes = 16;
constexpr int kHyperRowColumns = kHyperRowLanes * 8;

// The kernels of approx hyper (hyper.cuh). The hash code of each row of a
// [batch, heads, rows, head_dim] 16-bit tensor: the signs of its dot products
// with `bits` fixed +-1 directions, in Gray-code order, into [planes, rows].
struct HyperHashArgs {
  const unsigned short* x;
  long long stride[3];
  int heads;
  int rows;
  int planes;
  int head_dim;
  int* code;
};

// For each key plane, `samples` key columns drawn uniformly from the first
// k_rows sorted keys and appended after them, in the order of the sorted keys
// they draw where there are at most kHyperSortedDraws (so that a tile of them
// spans few diagonal blocks, and the classifier finds it full for the
// queries of every other block), else in the order drawn: entry k_rows + m of
// the plane's order (pitch k_rows + samples) is the order of a drawn sorted
// key, and of sample_block its diagonal block (the sorted key / block).
// sample_block is -1 for the sorted keys themselves (set by the runtime).
constexpr int kHyperSortedDraws = 1024;

struct HyperSampleArgs {
  int* order;
  int* sample_block;
  int planes;
  int k_rows;
  int samples;
  int block;
  unsigned seed;
};

// A level's outputs (compact planes as HashSortArgs's, [planes, rows, dv]
// 16-bit and [planes, rows] LSE, contiguous): its diagonal blocks' and, unless
// null, its drawn keys', whose LSE is raised by drawn_log_weight, merged into
// the call's output (element strides of batch, head, row; LSE [batch, heads,
// valid_rows] contiguous) by log-sum-exp, or put there where `replace`.
struct HyperMergeArgs {
  const unsigned short* part;
  const float* part_lse;
  const unsigned short* drawn;
  const float* drawn_lse;
  float drawn_log_weight;
  const int* order;
  unsigned short* out;
  long long out_stride[3];
  float* lse;
  int heads;
  int segments;
  int rows;
  int planes;
  long long valid_rows;
  int head_dim_v;
  int replace;
};

}  // namespace aj
