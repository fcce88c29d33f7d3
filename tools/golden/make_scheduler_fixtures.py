#!/usr/bin/env python3
"""Generate golden fixtures for hyv's flow-matching Euler scheduler from the real diffusers code.

For every (num_steps, shift) in CASES this builds `diffusers.FlowMatchEulerDiscreteScheduler(shift=s)`
and calls `set_timesteps(N, sigmas=np.linspace(1.0, 0.0, N + 1)[:-1])` exactly as
`HunyuanVideoPipeline.__call__` does, then writes tests/fixtures/scheduler/n<N>_s<s>.json:

  num_steps, shift, versions
  sigmas       the N + 1 scheduler sigmas (terminal 0 included), float32 values
  timesteps    the N model timesteps (1000 * sigma), float32 values
  step         one Euler step: index i = N // 2, shape, sample and model_output (float32 N(0, 1)
               from torch.Generator seed 0), prev_sample = scheduler.step(model_output,
               timesteps[i], sample).prev_sample with the scheduler's step index set to i

Sanity checks (the script exits non-zero if one fails): sigmas decrease from 1 to the terminal 0,
and prev_sample equals sample + (sigma[i+1] - sigma[i]) * model_output computed here in float32.

Usage: tools/golden/make_scheduler_fixtures.sh   (or: <venv>/bin/python make_scheduler_fixtures.py [--out DIR])
"""

import argparse
import json
import sys
from pathlib import Path

import diffusers
import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "scheduler"
CASES = [(50, 7.0), (2, 7.0), (30, 5.0), (10, 1.0)]
STEP_SHAPE = (1, 2, 3, 2, 2)


def floats(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def make_case(n, shift):
    sched = FlowMatchEulerDiscreteScheduler(shift=shift)
    sched.set_timesteps(n, sigmas=np.linspace(1.0, 0.0, n + 1)[:-1])
    sigmas = sched.sigmas.to(torch.float32)
    timesteps = sched.timesteps.to(torch.float32)
    assert sigmas.shape == (n + 1,) and timesteps.shape == (n,)
    assert float(sigmas[0]) == 1.0 and float(sigmas[-1]) == 0.0
    assert bool((sigmas[1:] < sigmas[:-1]).all()), "sigmas must decrease"

    i = n // 2
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(STEP_SHAPE, generator=g, dtype=torch.float32)
    model_output = torch.randn(STEP_SHAPE, generator=g, dtype=torch.float32)
    sched._step_index = i
    prev = sched.step(model_output, timesteps[i], sample).prev_sample
    expect = sample + (sigmas[i + 1] - sigmas[i]) * model_output
    assert torch.equal(prev, expect), "step is not sample + dt * model_output"
    return {
        "num_steps": n,
        "shift": shift,
        "versions": {
            "diffusers": diffusers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "sigmas": floats(sigmas),
        "timesteps": floats(timesteps),
        "step": {
            "index": i,
            "shape": list(STEP_SHAPE),
            "sample": floats(sample),
            "model_output": floats(model_output),
            "prev_sample": floats(prev),
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for n, shift in CASES:
        case = make_case(n, shift)
        path = args.out / f"n{n}_s{shift:g}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(case, indent=1) + "\n")
        tmp.replace(path)
        print(f"{path}: timesteps {case['timesteps'][:3]} ... {case['timesteps'][-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
