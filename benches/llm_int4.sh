#!/usr/bin/env bash
# LLM-scale benchmark: `tailwatch analyze --preset ww` on a synthetic Llama-shaped int4 export
# (com.microsoft MatMulNBits, laid out as onnxruntime-genai's model builder writes it), against
# the flop bound of the exact analysis at this machine's f64 GEMM rate.
#
#   benches/llm_int4.sh [1b|8b|tiny] [WORKDIR]          (defaults: 1b, target/llm-bench)
#
# 1. builds tailwatch (`cargo build --release`), unless TAILWATCH_BIN names a binary;
# 2. generates WORKDIR/models/<shape>-seed<SEED>[-<options>]/model.onnx (+ model.onnx.data,
#    manifest.json) with benches/llm_int4.py, unless that directory is complete already
#    (tiny: 0.2 MB; 1b: 1.9 GB, ≈ 40 s; 8b: 6.9 GB, a few minutes);
# 3. measures the f64 GEMM rate with numpy (2048² · 2048², best of 3, all cores);
# 4. runs `tailwatch analyze MODEL --preset ww --out WORKDIR/out-<shape>` under /usr/bin/time -v;
# 5. prints the machine, the model's sizes, wall time, peak RSS, the layers analysed and skipped
#    (from analysis.json), the flop bound and the ratio, and writes them to
#    WORKDIR/bench-<shape>.json.
#
# Environment:
#   TAILWATCH_BIN  tailwatch binary to time (skips the build)
#   PYTHON         interpreter with numpy and onnx (default: python3)
#   SEED           weight seed (default 0)
#   GEN_FLAGS      more `llm_int4.py generate` flags, part of the cache key: --asym, --scales fp16,
#                  --rule mlas, --packed-qkv, --scales-shape 1d, --align 0, --weights random
#   PRESET         analysis preset (default ww)
#   TW_FLAGS       more `tailwatch analyze` flags, e.g. "--set eigensolver=gram32"
#
# A relative WORKDIR is taken from the current directory; the default is the repository's
# target/llm-bench. Generated models are kept (they are the cache); delete WORKDIR/models to
# regenerate.
set -euo pipefail

SHAPE="${1:-1b}"
case "$SHAPE" in
  tiny|1b|8b) ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 [1b|8b|tiny] [WORKDIR]" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORKDIR="${2:-$ROOT/target/llm-bench}"
mkdir -p "$WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd)"
PY="${PYTHON:-python3}"
GEN="$ROOT/benches/llm_int4.py"
SEED="${SEED:-0}"
PRESET="${PRESET:-ww}"
read -r -a GEN_ARGS <<< "${GEN_FLAGS:-}"
read -r -a TW_ARGS <<< "${TW_FLAGS:-}"

"$PY" -c 'import numpy, onnx' 2>/dev/null || {
  echo "$PY needs numpy and onnx (set PYTHON to an interpreter that has them)" >&2; exit 1; }

if [ ! -x /usr/bin/time ]; then
  if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
    echo "== installing GNU time (Debian package \`time\`)"
    apt-get install -y -q time > /dev/null || { apt-get update -q > /dev/null && apt-get install -y -q time > /dev/null; }
  else
    echo "needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2; exit 1
  fi
fi

echo "== build"
if [ -n "${TAILWATCH_BIN:-}" ]; then
  TW="$TAILWATCH_BIN"
  echo "TAILWATCH_BIN=$TW (not built)"
else
  (cd "$ROOT" && cargo build --release --locked -q --bin tailwatch)
  TW="${CARGO_TARGET_DIR:-$ROOT/target}/release/tailwatch"
fi
[ -x "$TW" ] || { echo "no tailwatch binary at $TW" >&2; exit 1; }

echo "== machine"
CORES="$(nproc)"
ARCH="$(uname -m)"
CPU="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | xargs || true)"
echo "cores: $CORES  uname -m: $ARCH  cpu: ${CPU:-?}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

KEY="$("$PY" "$GEN" generate --shape "$SHAPE" --seed "$SEED" "${GEN_ARGS[@]}" --print-key)"
MDIR="$WORKDIR/models/$KEY"
MODEL="$MDIR/model.onnx"
MANIFEST="$MDIR/manifest.json"

# The manifest is written last, so a complete directory has one whose data size matches, from
# the generator version in this checkout.
complete() {
  [ -f "$MANIFEST" ] && [ -f "$MODEL" ] && [ -f "$MODEL.data" ] &&
    "$PY" - "$MANIFEST" "$MODEL.data" "$ROOT/benches" <<'EOF'
import json, os, sys
sys.path.insert(0, sys.argv[3])
from llm_int4 import GENERATOR_VERSION
m = json.load(open(sys.argv[1]))
ok = m["files"]["data_bytes"] == os.path.getsize(sys.argv[2]) and m.get("generator_version") == GENERATOR_VERSION
sys.exit(0 if ok else 1)
EOF
}

echo "== model $KEY"
if complete; then
  GENERATED="cached"
  echo "cached: $MODEL"
else
  need_gb=$(case "$SHAPE" in tiny) echo 1 ;; 1b) echo 3 ;; 8b) echo 9 ;; esac)
  avail_gb=$(df -Pk "$WORKDIR" | awk 'NR==2 { print int($4 / 1048576) }')
  if [ "$avail_gb" -lt "$need_gb" ]; then
    echo "need ${need_gb} GB free in $WORKDIR, have ${avail_gb} GB" >&2; exit 1
  fi
  GENERATED="now"
  "$PY" "$GEN" generate --shape "$SHAPE" --seed "$SEED" "${GEN_ARGS[@]}" --out "$MDIR" --progress
fi

echo "== f64 GEMM rate (numpy, 2048² · 2048², best of 3)"
BOUND_JSON="$("$PY" "$GEN" bound --shape "$SHAPE" $(grep -q '"packed_qkv": true' "$MANIFEST" && echo --packed-qkv) --json)"
GFLOPS="$("$PY" -c 'import json, sys; print("%.1f" % json.loads(sys.argv[1])["gemm_gflops"])' "$BOUND_JSON")"
echo "$GFLOPS GFLOP/s"

OUT="$WORKDIR/out-$SHAPE"
TIMELOG="$WORKDIR/time-$SHAPE.log"
echo "== tailwatch analyze $MODEL --preset $PRESET --out $OUT ${TW_ARGS[*]}"
rm -rf "$OUT"
set +e
/usr/bin/time -v -o "$TIMELOG" "$TW" analyze "$MODEL" --preset "$PRESET" --out "$OUT" "${TW_ARGS[@]}"
RC=$?
set -e
if [ "$RC" != 0 ]; then
  echo "tailwatch exited with $RC" >&2; cat "$TIMELOG" >&2; exit "$RC"
fi

echo "== results ($SHAPE)"
"$PY" - "$MANIFEST" "$OUT" "$TIMELOG" "$BOUND_JSON" "$GENERATED" "$CORES" "$ARCH" \
  "$WORKDIR/bench-$SHAPE.json" "$TW" <<'EOF'
import collections, json, os, sys

manifest_path, out, timelog, bound_json, generated, cores, arch, bench_json, tw = sys.argv[1:]
man = json.load(open(manifest_path))
bound = json.loads(bound_json)
rate = bound["gemm_gflops"] * 1e9

def time_field(name):
    for line in open(timelog):
        if name in line:
            return line.split(": ", 1)[1].strip()
    return None

w = time_field("Elapsed (wall clock)")
wall = 0.0
for part in w.split(":"):
    wall = wall * 60 + float(part)
rss_mb = int(time_field("Maximum resident set size")) / 1024

an = json.load(open(os.path.join(out, "analysis.json")))
timings = json.load(open(os.path.join(out, "timings.json")))
rows = an.get("layers", [])
skipped = an.get("skipped", [])
counts = an.get("summary", {})

def field(d, *names):
    for n in names:
        if isinstance(d, dict) and n in d:
            return d[n]
    return None

# Which weight matrices got a row: match the rows' names against the manifest's matrices.
analysed_names = {str(field(r, "name", "layer_name")) for r in rows}
mats = man["matrices"]
def m_flops(m):
    k, n = m["K"], m["N"]
    lo, hi = min(k, n), max(k, n)
    return 2.0 * hi * lo * lo, 1.0 * hi * lo * lo, (4.0 / 3.0) * lo ** 3 * 2
def is_analysed(m):
    return any(m["weight"] in a or m["node"] in a for a in analysed_names)
done = [m for m in mats if is_analysed(m)]
def bound_of(ms):
    g = sum(m_flops(m)[0] for m in ms); gl = sum(m_flops(m)[1] for m in ms); e = sum(m_flops(m)[2] for m in ms)
    return (g + e) / rate, (gl + e) / rate
b_all, b_all_lower = bound["bound_s"], bound["bound_lower_s"]
b_done, b_done_lower = bound_of(done)

reasons = collections.Counter()
for s in skipped:
    reasons[str(field(s, "reason", "why", "status") or "?")] += 1
statuses = collections.Counter(str(field(r, "status") or "?") for r in rows)

def size(b):
    return f"{b / 1e9:.3f} GB" if b >= 1e8 else f"{b / 1e6:.3f} MB" if b >= 1e5 else f"{b / 1e3:.1f} kB"
by = man["bytes_by_role"]
def secs(x):
    return f"{x:.2f} s" if x >= 1 else f"{x:.3g} s"
print(f"machine: {cores} cores, {arch}")
print(f"model: {man['key']} ({man['shape']}: {man['dims']['layers']} blocks, hidden {man['dims']['hidden']}, "
      f"MLP {man['dims']['mlp']}, vocab {man['dims']['vocab']}), {len(mats)} weight matrices")
print(f"files: model.onnx {size(man['files']['onnx_bytes'])}, model.onnx.data {size(man['files']['data_bytes'])}; "
      f"packed int4 weight bytes {size(by.get('int4_weight', 0))} ({by.get('int4_weight', 0)} B), "
      f"scales {size(by.get('int4_scales', 0))}, zero points {size(by.get('int4_zero_points', 0))}, "
      f"float embedding {size(by.get('embedding', 0))}")
print(f"generation: {man['generation_seconds']:.1f} s ({'this run' if generated == 'now' else 'cached, time of the original run'})")
print(f"wall: {wall:.2f} s   peak RSS: {rss_mb:.0f} MB   (tailwatch timings: " +
      ", ".join(f"{k} {v:.3f} s" for k, v in timings.items() if isinstance(v, (int, float))) + ")")
print(f"layers: {len(rows)} rows analysed ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}), "
      f"{len(skipped)} skipped ({', '.join(f'{k}: {v}' for k, v in reasons.most_common())}); "
      f"summary counts: " + ", ".join(f"{k} {v}" for k, v in counts.items() if k.startswith("n_")))
print(f"weight matrices with a row: {len(done)} of {len(mats)}")
print(f"f64 GEMM (numpy 2048², best of 3, all cores): {bound['gemm_gflops']:.1f} GFLOP/s")
print(f"flop bound, all {len(mats)} matrices: Gram 2·n·m² {bound['gram_flops']:.3e} (lower triangle {bound['gram_lower_flops']:.3e}) "
      f"+ eigensolver (4/3)·m³·2 {bound['eig_flops']:.3e} flops → {secs(b_all)} (lower-triangle Gram: {secs(b_all_lower)})")
print(f"flop bound, the {len(done)} analysed matrices: {secs(b_done)} (lower-triangle Gram: {secs(b_done_lower)})")
def ratio(b):
    return f"{wall / b:.2f}×" if b > 0 else "n/a"
print(f"measured / bound: {ratio(b_all)} of the full bound ({ratio(b_all_lower)} of the lower-triangle one); "
      f"{ratio(b_done)} of the analysed matrices' bound ({ratio(b_done_lower)})")
decode = {k: v for k, v in timings.items() if any(s in k.lower() for s in ("int4", "nbits", "decode", "dequant"))}
if decode:
    print("int4 decoding: " + ", ".join(f"{k} {v}" for k, v in decode.items()) +
          f" (packed bytes {size(by.get('int4_weight', 0))})")
else:
    print("int4 decoding rate: not part of an analyze run (decoding is fused with the Gram "
          "product); measure it with `cargo bench --bench decode`")
res = {"shape": man["shape"], "key": man["key"], "cores": int(cores), "arch": arch, "tailwatch": tw,
       "wall_s": wall, "peak_rss_mb": rss_mb, "rows": len(rows), "skipped": len(skipped),
       "skip_reasons": dict(reasons), "matrices": len(mats), "matrices_analysed": len(done),
       "data_bytes": man["files"]["data_bytes"], "packed_weight_bytes": by.get("int4_weight", 0),
       "generation_s": man["generation_seconds"], "gemm_gflops": bound["gemm_gflops"],
       "bound_s": b_all, "bound_lower_s": b_all_lower, "bound_analysed_s": b_done,
       "bound_analysed_lower_s": b_done_lower, "ratio": wall / b_all if b_all else None, "timings": timings}
with open(bench_json, "w") as f:
    json.dump(res, f, indent=1)
    f.write("\n")
print(f"written: {bench_json}")
EOF
