"""Testing API: check TensorRT conversions numerically without a GPU.

- :func:`run_on_reference` compiles a module (full compilation), builds every engine with the real
  builder and evaluates the networks on the CPU reference executor.
- :func:`assert_close_to_eager` compares that with eager PyTorch (per-dtype tolerances).
- :func:`emulated_runtime` runs compiled programs end to end on CPU (compile → save → load → run).
- :func:`execute_network` evaluates one ``INetworkDefinition`` on CPU.
"""

from torch_tensorrt.testing._emulated_runtime import emulated_runtime
from torch_tensorrt.testing._reference import NetworkRecord, capture_network, execute_network, execute_record
from torch_tensorrt.testing._run_on_reference import (
    DEFAULT_TOLERANCES,
    assert_close_to_eager,
    compile_on_reference,
    run_on_reference,
)

__all__ = [
    "DEFAULT_TOLERANCES",
    "NetworkRecord",
    "assert_close_to_eager",
    "capture_network",
    "compile_on_reference",
    "emulated_runtime",
    "execute_network",
    "execute_record",
    "run_on_reference",
]
