// Running a `sparsity hash` variant: buckets from an LSH of Q and K where the
// caller gives none, then either the decode kernel on the rows in place, or
// (prefill) the rows sorted by bucket, the forward kernel of the sorted
// variant (codegen/hash_order.hpp) on gathered copies of Q, K and V, and its
// O and LSE scattered back. Every step is enqueued on the stream, with
// stream-ordered scratch.
#pragma once

#include "runtime/fwd_launch.hpp"
#include "runtime/row_kernels.hpp"

namespace attnjit {

// The kernels of templates/attnjit/hash_sparsity.cuh in a module of a
// `sparsity hash` variant.
struct HashFunctions {
  RowFunctions rows;
  CUfunction lsh = nullptr;
};
HashFunctions hash_functions(const Module& module);

// `sorted` is the variant the module's forward kernel computes: the sorted
// form for a prefill family, null for the decode family (the variant itself).
// Throws InputError as launch_fwd does, and when only one bucket tensor is given.
void launch_hash(const Driver& driver, const FwdFunctions& functions, const HashFunctions& hash,
                 const Variant& variant, const Variant* sorted,
                 const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                 CUstream stream);

}  // namespace attnjit
