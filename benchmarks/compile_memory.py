"""Resident memory of a process that compiles the same model repeatedly, dropping each result.

    python benchmarks/compile_memory.py [--model resnet18] [--compiles 6]

Prints RSS after every compile. Without reclaiming (torch_tensorrt.dynamo.runtime._engine_memory)
it grew by about one engine per compile until Python's collector happened to run a full collection.
"""

from __future__ import annotations

import argparse

import torch
import torchvision

import torch_tensorrt


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--compiles", type=int, default=6)
    args = parser.parse_args()
    model = getattr(torchvision.models, args.model)().eval()
    x = torch.randn(1, 3, 64, 64)
    print(f"start: {rss_mb():.0f} MB")
    for i in range(args.compiles):
        compiled = torch_tensorrt.compile(model, inputs=[x], min_block_size=1)
        engine_mb = sum(b.numel() for n, b in compiled.named_buffers() if n.endswith("serialized_engine")) / 2**20
        del compiled
        print(f"after compile {i + 1}: {rss_mb():.0f} MB (engine {engine_mb:.0f} MB)")


if __name__ == "__main__":
    main()
