"""Main job: compile a torchvision ResNet-50 (random weights) into TensorRT-RTX engines on the CPU.

Builds the engine(s) with the real TensorRT-RTX builder (no GPU needed) and saves the compiled
program together with the PyTorch graph it was compiled from (default ``out/resnet50_trt.pt2``, which
git ignores). Prints the compile summary, the error of the engines (run on the CPU reference
executor) against eager PyTorch relative to the output's scale and the tolerance it is judged
against, and the command that validates the saved file in a fresh process:

    python examples/compile_resnet50.py [--batch 1] [--fp16] [--out out/resnet50_trt.pt2]
    python -m torch_tensorrt validate out/resnet50_trt.pt2

Exit code 1 if the error is beyond the tolerance.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import shlex
import sys
import time

import torch
import torchvision

import torch_tensorrt
from torch_tensorrt.testing import compare_outputs, emulated_runtime, save_with_reference


def calibrated_resnet50(dtype: torch.dtype) -> torch.nn.Module:
    model = torchvision.models.resnet50(weights=None)
    # Random weights with batch-norm statistics measured on random data, so activations (and the
    # comparison below) look like a trained network's rather than the trivial default statistics.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None
    with torch.no_grad():
        model.train()(torch.randn(8, 3, 224, 224))
    return model.eval().to(dtype)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--fp16", action="store_true", help="compile a float16 model")
    parser.add_argument("--out", default="out/resnet50_trt.pt2", help="where to save the compiled program")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    torch.manual_seed(0)
    dtype = torch.float16 if args.fp16 else torch.float32
    model = calibrated_resnet50(dtype)
    x = torch.randn(args.batch, 3, 224, 224, dtype=dtype)

    start = time.perf_counter()
    program = torch_tensorrt.dynamo.trace(model, [x])  # also saved, as the reference to validate against
    # The emulated runtime records each network as it is built, in a store on disk (default
    # $TORCH_TENSORRT_EMULATION_DIR or a per-user temp dir), so that the saved program can also be
    # run on the reference executor by another process.
    with emulated_runtime(), torch.no_grad():
        compiled = torch_tensorrt.compile(program, ir="dynamo", arg_inputs=[x], min_block_size=1)
        compile_seconds = time.perf_counter() - start
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        save_with_reference(compiled, args.out, program, inputs=[x])
        start = time.perf_counter()
        actual = compiled(x)
        reference_seconds = time.perf_counter() - start
        expected = model(x)

        # float16 is judged against the same model in float32 (PyTorch's float16 drifts from it too).
        exact = copy.deepcopy(model).float()(x.float()) if args.fp16 else None

    (check,) = compare_outputs(actual, expected, exact=exact)
    cosine = torch.nn.functional.cosine_similarity(actual.float().flatten(), expected.float().flatten(), dim=0).item()
    print(f"ResNet-50 batch {args.batch} {dtype}: traced and compiled in {compile_seconds:.1f} s, saved to {args.out}")
    print(compiled._compile_summary)
    print(f"reference executor vs eager PyTorch, {check.describe()}")
    print(f"  cosine similarity to eager {cosine:.6f}; executor time {reference_seconds:.2f} s")
    print(f"validate the saved program in a fresh process: python -m torch_tensorrt validate {shlex.quote(args.out)}")
    return 0 if check.passed else 1


if __name__ == "__main__":
    sys.exit(main())
