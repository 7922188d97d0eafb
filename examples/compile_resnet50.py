"""Main job: compile a torchvision ResNet-50 (random weights) into TensorRT-RTX engines on the CPU.

Builds the engine(s) with the real TensorRT-RTX builder (no GPU needed), saves the compiled program,
prints the compile summary, and checks the TensorRT network numerically against eager PyTorch with
the CPU reference executor (no machine here can run an engine).

    python examples/compile_resnet50.py [--batch 1] [--fp16] [--out resnet50_trt.pt2]
"""

from __future__ import annotations

import argparse
import logging
import time

import torch
import torchvision

import torch_tensorrt
from torch_tensorrt.testing import emulated_runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--fp16", action="store_true", help="compile a float16 model")
    parser.add_argument("--out", default="resnet50_trt.pt2", help="where to save the compiled program")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    torch.manual_seed(0)
    dtype = torch.float16 if args.fp16 else torch.float32
    model = torchvision.models.resnet50(weights=None)
    # Random weights with batch-norm statistics measured on random data, so activations (and the
    # comparison below) look like a trained network's rather than the trivial default statistics.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None
    with torch.no_grad():
        model.train()(torch.randn(8, 3, 224, 224))
    model = model.eval().to(dtype)
    x = torch.randn(args.batch, 3, 224, 224, dtype=dtype)

    # The emulated runtime records each network as it is built so it can be evaluated on the CPU.
    with emulated_runtime(persist=False), torch.no_grad():
        start = time.perf_counter()
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        compile_seconds = time.perf_counter() - start
        torch_tensorrt.save(compiled, args.out, inputs=[x])
        start = time.perf_counter()
        actual = compiled(x)
        reference_seconds = time.perf_counter() - start
        expected = model(x)

    summary = compiled._compile_summary
    error = (actual.float() - expected.float()).abs().max().item()
    cosine = torch.nn.functional.cosine_similarity(actual.float().flatten(), expected.float().flatten(), dim=0).item()
    print(f"ResNet-50 batch {args.batch} {dtype}: compiled in {compile_seconds:.1f} s, saved to {args.out}")
    print(summary)
    print(f"reference executor vs eager: max abs error {error:.3e}, cosine similarity {cosine:.6f} "
          f"(executor time {reference_seconds:.2f} s)")


if __name__ == "__main__":
    main()
