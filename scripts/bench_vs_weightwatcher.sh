#!/usr/bin/env bash
# End-to-end benchmark: tailwatch against WeightWatcher 0.7.7 on the same VGG16-size ONNX file.
#
#   scripts/bench_vs_weightwatcher.sh [--reps N] [--ww-reps N] [--llm | --only-llm] [--keep]
#
# 1. builds tailwatch and the model generator (release);
# 2. writes a VGG16-shape model (138 M f32 parameters, heavy-tailed random weights, in-file like
#    a torchvision export) into a temp dir, and with --llm an ≥ 8 GB external-data model of LLM
#    shapes (tailwatch only: WeightWatcher's ONNX path loads the whole model into memory);
# 3. sets up a Python venv in the temp dir with weightwatcher==0.7.7 onnx powerlaw==1.5 (no torch);
# 4. runs `tailwatch analyze --preset ww` --reps times and WeightWatcher's analyze() --ww-reps
#    times on the same file under /usr/bin/time -v, and prints wall times (median), peak RSS,
#    the ratio, whether OPENBLAS_CORETYPE was set, and the largest alpha difference per layer.
# The temp dir (several GB) is deleted at the end unless --keep.
set -euo pipefail

REPS=3
WW_REPS=1
LLM=0
VGG=1
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --ww-reps) WW_REPS="$2"; shift 2 ;;
    --llm) LLM=1; shift ;;
    --only-llm) LLM=1; VGG=0; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tailwatch-bench.XXXXXX")"
cleanup() { if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT

need_gb=$(( LLM == 1 ? 12 : 3 ))
avail_gb=$(df -Pk "$WORK" | awk 'NR==2 { print int($4 / 1048576) }')
if [ "$avail_gb" -lt "$need_gb" ]; then
  echo "need ${need_gb} GB free in $WORK, have ${avail_gb} GB" >&2
  exit 1
fi

echo "== build"
(cd "$ROOT" && cargo build --release --locked -q --bin tailwatch --example gen_model)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
TW="$TARGET/tailwatch"
GEN="$TARGET/examples/gen_model"

echo "== machine"
echo "cores: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-<not set>}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# time_run LABEL CMD... → prints "LABEL wall_s max_rss_kb" from /usr/bin/time -v.
time_run() {
  local label="$1"; shift
  local log="$WORK/time.$label.$RANDOM.log"
  /usr/bin/time -v "$@" > "$WORK/stdout.log" 2> "$log" || { cat "$log" >&2; return 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
         for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
  echo "$label $wall $rss"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

if [ "$VGG" = 1 ]; then
echo "== generate VGG16-size model"
"$GEN" vgg16 "$WORK/vgg16.onnx"
ls -l "$WORK/vgg16.onnx"


echo "== tailwatch analyze --preset ww ($REPS runs)"
: > "$WORK/tw.times"
for i in $(seq "$REPS"); do
  time_run tailwatch "$TW" -q analyze "$WORK/vgg16.onnx" --preset ww --out "$WORK/tw-out" \
    | tee -a "$WORK/tw.times"
done
cat "$WORK/tw-out/timings.json"

echo "== WeightWatcher 0.7.7 venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check \
  weightwatcher==0.7.7 onnx powerlaw==1.5
"$WORK/venv/bin/python" - <<'EOF'
import importlib.util, numpy, weightwatcher
print("weightwatcher", weightwatcher.__version__, "numpy", numpy.__version__,
      "torch installed:", importlib.util.find_spec("torch") is not None)
EOF
cat > "$WORK/ww_run.py" <<'EOF'
import sys
import onnx
import weightwatcher as ww
model = onnx.load(sys.argv[1])
details = ww.WeightWatcher(model=model).analyze()
details.to_csv(sys.argv[2], index=False)
EOF

echo "== WeightWatcher analyze() ($WW_REPS runs)"
: > "$WORK/ww.times"
for i in $(seq "$WW_REPS"); do
  time_run weightwatcher "$WORK/venv/bin/python" "$WORK/ww_run.py" "$WORK/vgg16.onnx" \
    "$WORK/ww.csv" | tee -a "$WORK/ww.times"
done

echo "== alpha, tailwatch vs WeightWatcher (same rows in the same order)"
"$WORK/venv/bin/python" - "$WORK/tw-out/details.csv" "$WORK/ww.csv" <<'EOF'
import sys
import pandas as pd
tw, ww = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2])
tw = tw[tw["status"].isin(["success", "failed"])].reset_index(drop=True)
print(f"rows: tailwatch {len(tw)}, WeightWatcher {len(ww)}")
worst = 0.0
for col in ["alpha", "D", "xmin", "lambda_max", "log_spectral_norm", "stable_rank"]:
    if col in tw and col in ww and len(tw) == len(ww):
        d = ((tw[col] - ww[col]).abs() / ww[col].abs().clip(lower=1e-300)).max()
        worst = max(worst, d)
        print(f"  {col:>18}: max relative difference {d:.3e}")
print(f"worst relative difference {worst:.3e}")
EOF

tw_med=$(awk '{ print $2 }' "$WORK/tw.times" | median)
tw_rss=$(awk '{ print $3 }' "$WORK/tw.times" | median)
ww_med=$(awk '{ print $2 }' "$WORK/ww.times" | median)
ww_rss=$(awk '{ print $3 }' "$WORK/ww.times" | median)
echo "== result (VGG16 size, 138 M parameters)"
echo "tailwatch       median wall ${tw_med} s over $REPS runs, peak RSS $((tw_rss / 1024)) MiB"
echo "WeightWatcher   median wall ${ww_med} s over $WW_REPS runs, peak RSS $((ww_rss / 1024)) MiB"
awk -v a="$ww_med" -v b="$tw_med" 'BEGIN { printf "ratio           %.1f× faster\n", a / b }'
echo "OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-was not set}"
rm -f "$WORK/vgg16.onnx"
fi

if [ "$LLM" = 1 ]; then
  echo "== LLM shapes, external data (tailwatch only)"
  # 8 × 8192×28672 (or transposed) + 4 × 4096×14336 (or transposed) + 4096×11008 + 11008×4096,
  # f32: 8.82 GB of external data.
  big="8192x28672,28672x8192"
  mid="4096x14336,14336x4096"
  shapes="$big,$big,$big,$big,$mid,$mid,4096x11008,11008x4096"
  "$GEN" llm "$WORK/llm.onnx" "$shapes"
  ls -l "$WORK"/llm.onnx*
  time_run tailwatch-llm "$TW" -q analyze "$WORK/llm.onnx" --preset ww --out "$WORK/llm-out" \
    | tee "$WORK/llm.times"
  cat "$WORK/llm-out/timings.json"
  rm -f "$WORK"/llm.onnx*
fi
