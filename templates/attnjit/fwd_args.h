// Kernel arguments shared by the host runtime and the generated device code:
// one definition, so their layouts cannot drift apart. Plain C++ that both
// a host compiler and NVRTC accept.
#pragma once

namespace aj {

// Arguments every forward kernel takes, whatever the variant.
struct FwdArgs {
  const void* q;  // [batch, heads, q_len, head_dim]
  const void* k;  // [batch, kv_heads, kv_len, head_dim]
  const void* v;  // [batch, kv_heads, kv_len, head_dim_v]
  void* o;        // [batch, heads, q_len, head_dim_v]
  float* lse;     // [batch, heads, q_len] or null; natural log
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

// A run-time tensor of the variant, read bounds-safely by the generated code.
template <int Rank>
struct TensorArg {
  const void* data;
  long long extent[Rank];
  long long stride[Rank];  // in elements
};

// The kernels of hash sparsity (hash_sparsity.cuh). A plane is one (batch,
// head) of a [batch, heads, rows] int32 tensor; plane p starts at element
// (p / heads) * stride[0] + (p % heads) * stride[1], and row r of it is
// stride[2] elements further on.
struct HashSortArgs {
  const int* bucket;  // [batch, heads, rows], any strides
  long long stride[3];
  int heads;  // of the bucket tensor: query heads or KV heads
  int rows;
  int* order;          // [planes, rows] contiguous: the original row of each sorted row
  int* sorted_bucket;  // [planes, rows] contiguous: the bucket of each sorted row
};

// Rows of `row_bytes` bytes copied between [batch, heads, rows, *] tensors
// (byte strides of batch, head, row): sorted row r of a plane is original
// row order[plane * rows + r]. Gather: dst[r] = src[order[r]]; else scatter:
// dst[order[r]] = src[r].
struct PermuteRowsArgs {
  const unsigned char* src;
  unsigned char* dst;
  long long src_stride[3];
  long long dst_stride[3];
  const int* order;
  int heads;
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

}  // namespace aj
