#!/usr/bin/env bash
# hyv vs PyTorch (diffusers) on the CPU, same configuration, one command:
#
#   benches/compare_cpu.sh --model small --threads 2 --warmup 1 --iters 5
#   benches/compare_cpu.sh --model small --block double --threads 2
#
# The arguments are the options both sides share (--model --block --height --width --frames
# --batch --text-len --dtype --threads --warmup --iters --seed) and go unchanged to
# `hyv bench` and to benches/torch/bench_dit_cpu.py. Then both tables are printed together,
# after checking that both sides ran on identical input shapes; the torch side divides hyv's
# FLOP count, so GFLOP/s compare the same work.
#
# Environment: HYV (the hyv binary; default target/release/hyv, built when missing),
# PYTHON (a Python with benches/torch/requirements.txt; default tools/golden/.venv/bin/python
# when present, else python3), HYV_BACKENDS (default cpu), HYV_MODES (default eager,graph),
# OUT (folder for the JSON files; default a new temporary folder), ROUNDS (default 1: how many
# times to run both sides, alternating, so that a shared machine whose speed drifts over
# minutes slows both alike; the summary then gives each round's hyv/torch ratios and their
# median).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
hyv=${HYV:-$root/target/release/hyv}
if [ ! -x "$hyv" ]; then
    cargo build --release --bin hyv --manifest-path "$root/Cargo.toml"
fi
python=${PYTHON:-}
if [ -z "$python" ]; then
    if [ -x "$root/tools/golden/.venv/bin/python" ]; then
        python=$root/tools/golden/.venv/bin/python
    else
        python=python3
    fi
fi
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

rounds=${ROUNDS:-1}
for round in $(seq "$rounds"); do
    echo "== hyv (round $round of $rounds) =="
    "$hyv" bench --backend "${HYV_BACKENDS:-cpu}" --mode "${HYV_MODES:-eager,graph}" "$@" \
        --json "$out/hyv.$round.json"
    flops=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["flops"])' \
        "$out/hyv.$round.json")
    echo
    echo "== PyTorch (round $round of $rounds) =="
    "$python" "$root/benches/torch/bench_dit_cpu.py" "$@" --flops "$flops" \
        --json "$out/torch.$round.json"
    echo
done
echo "== together (ratio: first row's median / this row's) =="
"$python" - "$out" "$rounds" <<'PY'
import json, statistics, sys

out, rounds = sys.argv[1], int(sys.argv[2])
shapes = lambda r: [(i["name"], i["dtype"], list(i["shape"])) for i in r["inputs"]]
per_round = []
for k in range(1, rounds + 1):
    hyv, torch = (json.load(open(f"{out}/{side}.{k}.json")) for side in ("hyv", "torch"))
    if shapes(hyv) != shapes(torch):
        sys.exit(f"input shapes differ:\n  hyv   {shapes(hyv)}\n  torch {shapes(torch)}")
    if k == 1:
        print("same inputs on both sides:", ", ".join(f"{n} {d}{s}" for n, d, s in shapes(hyv)))
    rows = hyv["rows"] + torch["rows"]
    if rounds > 1:
        print(f"\nround {k}:")
    base = rows[0]["median_ms"]
    print("| backend | mode | dtype | threads | ops | launches | median ms | min | max | GFLOP/s | peak MiB | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        peak = "-" if r["peak_mib"] is None else f"{r['peak_mib']:.1f}"
        print(f"| {r['backend']} | {r['mode']} | {r['dtype']} | {r['threads']} | {r['ops']} | {r['launches']} "
              f"| {r['median_ms']:.1f} | {r['min_ms']:.1f} | {r['max_ms']:.1f} | {r['gflops']:.1f} | {peak} "
              f"| {base / r['median_ms']:.2f} |")
    per_round.append({f"{r['backend']} {r['mode']}": torch["rows"][0]["median_ms"] / r["median_ms"]
                      for r in hyv["rows"]})
if rounds > 1:
    print("\nspeed-up of each hyv row over PyTorch (torch median / hyv median), per round and median:")
    for key in per_round[0]:
        ratios = [r[key] for r in per_round]
        print(f"  {key}: " + ", ".join(f"{x:.2f}" for x in ratios)
              + f"; median {statistics.median(ratios):.2f}")
PY
echo "JSON files: $out"
