// The shape bucket a problem falls in, for tuning records: nearby shapes share
// a tuned config.
#pragma once

#include "db/kernel_store.hpp"
#include <attnjit/reference.hpp>

namespace attnjit {

// Powers of two, rounded up: q_len, kv_len and batch * heads.
db::ShapeBucket shape_bucket(const AttentionShape& shape);

}  // namespace attnjit
