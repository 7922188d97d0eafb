"""Compile-time benchmark: one JSON line per model with each stage's wall time and peak RSS.

    python benchmarks/compile_time.py [--models resnet18 ... bert gpt2] [--dynamic | --both]

Models: torchvision CNNs and ViT-B/16 (224x224; dynamic = batch 1..8), and the transformers in
benchmarks_models.py, BERT-base and GPT-2 small (sequence 128; dynamic = batch 1..8, sequence 16..128).
Each model compiles in a fresh subprocess so that peak RSS belongs to that model alone.
Stages: trace (torch.export), lower, partition, convert (network construction), build (TensorRT).
``stages_s``/``total_s`` are the first compile in a fresh process (what a script pays, including
torch.export's one-time imports and caches, about 0.5 s of "trace"); ``warm_stages_s`` repeat the
same compile in that process. ``peak_rss_mb`` is taken after the first compile.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["resnet18", "resnet50", "mobilenet_v2", "vit_b_16", "bert", "gpt2"]

CHILD = r"""
import json, resource, sys, time
import torch, torchvision
import torch_tensorrt

name, dynamic = sys.argv[1], sys.argv[2] == "1"
torch.manual_seed(0)
if name in ("resnet18", "resnet50", "mobilenet_v2", "vit_b_16"):
    model = getattr(torchvision.models, name)(weights=None).eval()
    size = 224
    if dynamic:
        inputs = [torch_tensorrt.Input(min_shape=(1, 3, size, size), opt_shape=(4, 3, size, size), max_shape=(8, 3, size, size))]
    else:
        inputs = [torch.randn(1, 3, size, size)]
else:
    from benchmarks_models import transformer
    model, inputs = transformer(name, dynamic)
def timed_compile():
    start = time.perf_counter()
    compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=inputs, min_block_size=1)
    return compiled, round(time.perf_counter() - start, 3)
compiled, total = timed_compile()
summary = compiled._compile_summary
stages = {k: round(v, 3) for k, v in summary.stage_seconds.items()}
peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
del compiled
again, warm_total = timed_compile()
record = {
    "model": name,
    "dynamic": dynamic,
    "stages_s": stages,
    "total_s": total,
    "warm_stages_s": {k: round(v, 3) for k, v in again._compile_summary.stage_seconds.items()},
    "warm_total_s": warm_total,
    "engines": summary.num_engines,
    "engine_bytes": summary.engine_bytes,
    "converted_ops": summary.num_converted_ops,
    "fallback_ops": summary.num_fallback_ops,
    "peak_rss_mb": round(peak_rss / 1024, 1),
}
print(json.dumps(record))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dynamic", action="store_true", help="dynamic ranges (see above) instead of static shapes")
    mode.add_argument("--both", action="store_true", help="each model static, then dynamic")
    args = parser.parse_args()
    modes = [False, True] if args.both else [args.dynamic]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "py"), str(ROOT / "benchmarks")]))
    for name in args.models:
        for dynamic in modes:
            result = subprocess.run(
                [sys.executable, "-c", CHILD, name, "1" if dynamic else "0"], env=env, capture_output=True, text=True
            )
            line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
            if result.returncode != 0 or not line.startswith("{"):
                print(json.dumps({"model": name, "dynamic": dynamic, "error": result.stderr.strip().splitlines()[-1:]}))
            else:
                print(line, flush=True)


if __name__ == "__main__":
    main()
