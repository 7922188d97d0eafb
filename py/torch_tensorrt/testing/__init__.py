"""Testing API: check TensorRT conversions numerically without a GPU.

- :func:`run_on_reference` compiles a module (full compilation), builds every engine with the real
  builder and evaluates the networks on the CPU reference executor.
- :func:`assert_close_to_eager` compares that with eager PyTorch (per-dtype tolerances).
- :func:`emulated_runtime` runs compiled programs end to end on CPU (compile → save → load → run).
- :func:`execute_network` evaluates one ``INetworkDefinition`` on CPU.
- :func:`save_with_reference` saves a compiled program with the graph it was compiled from, and
  :func:`validate_program` runs such a file on the reference executor against that graph.
"""

from torch_tensorrt.dynamo._program_archive import save_with_reference
from torch_tensorrt.testing._emulated_runtime import emulated_runtime
from torch_tensorrt.testing._reference import NetworkRecord, capture_network, execute_network, execute_record
from torch_tensorrt.testing._run_on_reference import (
    DEFAULT_TOLERANCES,
    assert_close_to_eager,
    compile_on_reference,
    run_on_reference,
)
from torch_tensorrt.testing._validation import ValidationReport, compare_outputs, validate_program

__all__ = [
    "DEFAULT_TOLERANCES",
    "NetworkRecord",
    "ValidationReport",
    "assert_close_to_eager",
    "capture_network",
    "compare_outputs",
    "compile_on_reference",
    "emulated_runtime",
    "execute_network",
    "execute_record",
    "run_on_reference",
    "save_with_reference",
    "validate_program",
]
