#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer instrumentation on a stable toolchain and run one.
#   fuzz/run.sh [TARGET] [SECONDS] [extra libFuzzer args...]
# Coverage flags are the ones cargo-fuzz passes with `--sanitizer none`; they are stable rustc
# flags, so no nightly is needed. Findings land in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
target="${1:-load}"
secs="${2:-600}"
shift $(( $# > 2 ? 2 : $# ))
main_target="${CARGO_TARGET_DIR:-target}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-../target}/fuzz}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the instrumentation off build scripts and proc macros.
triple="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --bins --target "$triple"
# Seeds are written by an example of the main crate, built without instrumentation.
(cd .. && env -u RUSTFLAGS CARGO_TARGET_DIR="$main_target" cargo run -q --example fuzz_seeds -- "fuzz/corpus/$target")
bin="$CARGO_TARGET_DIR/$triple/release"
corpus="corpus/$target"
mkdir -p "$corpus" "artifacts/$target"
find ../fixtures ../tests/data/ww-0.7.7 ../tests/data/quant -name '*.onnx' -size -2M -exec cp -n {} "$corpus/" \; 2>/dev/null || true
exec "$bin/$target" "$corpus" -artifact_prefix="artifacts/$target/" \
  -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=1048576 "$@"
