"""Reference-executor speed: time to evaluate a ResNet-50 network (batch 1) on the CPU.

python benchmarks/reference_executor.py [--batch 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torchvision

import torch_tensorrt
from torch_tensorrt.dynamo.conversion import NETWORK_BUILD_OBSERVERS
from torch_tensorrt.testing import capture_network, execute_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    x = torch.randn(args.batch, 3, 224, 224)
    records = []
    NETWORK_BUILD_OBSERVERS.append(lambda event: records.append(capture_network(event.network, [event.profile])))
    torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
    record = records[0]
    name = record.inputs[0].name
    times = []
    with torch.no_grad():
        for _ in range(args.repeat):
            start = time.perf_counter()
            execute_record(record, {name: x})
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        model(x)
        eager = time.perf_counter() - start
    print(
        json.dumps(
            {
                "model": "resnet50",
                "batch": args.batch,
                "layers": len(record.layers),
                "executor_s_best": round(min(times), 3),
                "executor_s_all": [round(t, 3) for t in times],
                "eager_pytorch_s": round(eager, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
