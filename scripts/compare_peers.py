"""One table: attnjit's kernels against the peers measured in the same device run."""
import json
import sys

ours = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peers = json.load(open(sys.argv[2]))


def peer(name, shape):
    for row in peers:
        if row.get("name") == name and row.get("shape") == shape:
            return row
    return None


flex_names = {"dense_d128": "flex.dense", "causal_d128": "flex.causal",
              "sliding1024": "flex.sliding1024", "document_causal": "flex.document_causal",
              "prefixlm2048": "flex.prefixlm2048", "causal_alibi": "flex.causal_alibi",
              "causal_softcap": "flex.causal_softcap"}
print(f"{'variant':<16} {'shape':<18} {'from':<7} {'config':<21} {'attnjit ms':>10} {'TFLOP/s':>8}   {'peer':<28} {'ms':>8} {'TFLOP/s':>8} {'speedup':>7}")
for row in ours:
    dims = dict(item.split("=") for item in row["shape"].split(","))
    b, h, s = int(dims["b"]), int(dims["h"]), int(dims["sq"])
    name = row["variant"]
    d = 64 if name.endswith("_d64") else 128
    if name == "sliding1024" and s != 8192:
        candidates = [("(none)", "")]
    elif b == 2 and h == 16 and s == 8192 and name in flex_names:
        candidates = [(flex_names[name], f"b2 h16 s8192 d128 bf16")]
        if name == "causal_d128":
            candidates.append(("sdpa.flash.causal_same_shape", "b2 h16 s8192 d128 bf16"))
            candidates.append(("sdpa.cudnn.causal_same_shape", "b2 h16 s8192 d128 bf16"))
    else:
        causal = int(name.startswith("causal"))
        shape = f"b{b} h{h} s{s} d{d} causal={causal} bf16"
        candidates = [(f"sdpa.{be}", shape) for be in ("flash", "cudnn")]
    for peer_name, peer_shape in candidates:
        p = peer(peer_name, peer_shape) or {"ms": float("nan"), "tflops": float("nan")}
        speedup = p["ms"] / row["ms"] if row.get("ms") else float("nan")
        print(f"{name:<16} {row['shape']:<18} {row.get('label', ''):<7} {row['config']:<21} {row['ms']:>10.4f} {row['tflops']:>8.1f}   "
              f"{peer_name:<28} {p['ms']:>8.4f} {p['tflops']:>8.1f} {speedup:>6.2f}x")
