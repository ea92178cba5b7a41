"""Decode: attnjit against the peers' decode rows of the same device run, in
GB/s of K and V read (2 * b * kv_heads * sk * head_dim * 2 bytes), as peers.py counts.
The peers' rows are the JSON lines peers.py prints (its decode rows are not in peers.json)."""
import json
import sys

ours = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
peers = []
for line in open(sys.argv[2]):
    try:
        peers.append(json.loads(line))
    except ValueError:
        pass
copy = next((r for r in peers if r.get("name") == "ceiling.copy"), {}).get("GBps")
print(f"device copy ceiling: {copy} GB/s")
print(f"{'variant':<15} {'shape':<34} {'config':<36} {'ms':>8} {'GB/s':>6}   "
      f"{'peer':<18} {'ms':>8} {'GB/s':>6} {'speedup':>7}")
for row in ours:
    dims = dict(item.split("=") for item in row["shape"].split(","))
    b, h, hkv, sk = int(dims["b"]), int(dims["h"]), int(dims["hkv"]), int(dims["sk"])
    gbps = 2 * b * hkv * sk * 128 * 2 / (row["ms"] * 1e-3) / 1e9
    shape = f"b{b} hq{h} hkv{hkv} L{sk} d128"
    for name in ("sdpa.flash.decode", "sdpa.cudnn.decode", "flex.decode"):
        p = next((r for r in peers if r.get("name") == name and r.get("shape") == shape),
                 {"ms": float("nan"), "GBps": float("nan")})
        print(f"{row['variant']:<15} {row['shape']:<34} {row['config']:<36} {row['ms']:>8.4f} "
              f"{gbps:>6.0f}   {name:<18} {p['ms']:>8.4f} {p['GBps']:>6.0f} "
              f"{p['ms'] / row['ms']:>6.2f}x")
