#!/usr/bin/env bash
# Coverage-guided fuzzing of what reads a person's files (the imaging crate's decoders, the
# weights loader) with libFuzzer, on the stable toolchain: cargo-fuzz's instrumentation flags (sancov, compare tracing) without its address
# sanitizer, which needs nightly. The decoders are safe Rust, so what ASan would add is little;
# a bug shows as a panic, a hang (-timeout) or an allocation over the limit (-rss_limit_mb /
# -malloc_limit_mb), and libFuzzer stops on any of them and saves the input under artifacts/.
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options…]   TARGET: decode | segmentation | weights
#
# SECONDS bounds the run; `-runs=N -seed=S` makes it a fixed set of inputs (make test-fuzz).
#
# The decoders' corpus starts from the fixtures (small files whole; large ones cut at -max_len,
# so their headers still seed every transfer syntax), the weights loader's from small weights
# files of both models; each grows in the fuzz crate's corpus/, which later runs reuse. Prints
# libFuzzer's final line with the execution count.
set -euo pipefail

target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
case $target in
decode | segmentation) fuzz=$root/crates/imaging/fuzz ;;
weights) fuzz=$root/crates/probunet/fuzz ;;
*) echo "unknown fuzz target: $target" >&2; exit 2 ;;
esac
host=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${FUZZ_TARGET_DIR:-$fuzz/target}

# The fuzz crate is its own workspace; start its lock file from the main one so it builds
# offline with the versions the project already uses.
[ -f "$fuzz/Cargo.lock" ] || cp "$root/Cargo.lock" "$fuzz/Cargo.lock"

# --target keeps these flags off build scripts and proc macros, as cargo-fuzz does.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --quiet --manifest-path "$fuzz/Cargo.toml" --bin "$target" \
    --target "$host" --target-dir "$target_dir"

case $target in
decode) seeds=("$root/../shared/fixtures/dicom" "$root/../shared/fixtures/png") ;;
segmentation) seeds=("$root/tests/e2e/data") ;;
weights)
    # Written by an example of the main workspace: without the instrumentation, it cannot link
    # outside libFuzzer's driver.
    seeds=("$target_dir/weights-seeds")
    cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p probunet --example fuzz_seeds -- "${seeds[0]}"
    ;;
esac
corpus=$fuzz/corpus/$target
mkdir -p "$corpus" "$fuzz/artifacts/$target"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$target_dir/$host/release/$target" "$corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$fuzz/artifacts/$target/" "$@" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz $target: libFuzzer stopped on a failing input (exit $status); it is in $fuzz/artifacts/$target/" >&2
    exit "$status"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
echo "fuzz $target: $runs executions in ${time:-$seconds} s, no crash, hang or over-allocation; corpus $(ls "$corpus" | wc -l) inputs"
