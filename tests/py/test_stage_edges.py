"""A stage never imports a later one (DESIGN.md section 7): lowering does not import conversion or
TensorRT, and loading a program does not import the converters.

Each import runs in a fresh interpreter and its sys.modules is inspected. The ``torch_tensorrt`` and
``torch_tensorrt.dynamo`` package ``__init__``s import every stage (the compiler, hence conversion),
so they are replaced by bare packages there: what is checked is the closure of the named modules'
own imports. Imports made inside functions on the load path are checked by reading the source.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import torch_tensorrt

PACKAGE = Path(torch_tensorrt.__file__).resolve().parent
CONVERSION = "torch_tensorrt.dynamo.conversion"

_IMPORT_ISOLATED = """
import importlib, json, sys, types
root = sys.argv[1]
for name, path in (("torch_tensorrt", root), ("torch_tensorrt.dynamo", root + "/dynamo")):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
for target in sys.argv[2:]:
    importlib.import_module(target)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_importing(*targets: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ISOLATED, str(PACKAGE), *targets],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def _under(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_lowering_imports_neither_conversion_nor_tensorrt() -> None:
    modules = _modules_after_importing("torch_tensorrt.dynamo.lowering")
    assert "torch_tensorrt.dynamo.lowering" in modules
    assert _under(modules, CONVERSION) == []
    assert _under(modules, "tensorrt_rtx") == [] and _under(modules, "tensorrt") == []


def test_loading_a_program_does_not_import_the_converters() -> None:
    # torch_tensorrt.load -> _compile.load -> dynamo.runtime._serialization; the rest are the modules
    # that run a loaded program (imported lazily by _serialization) and TensorRT's logger.
    modules = _modules_after_importing(
        "torch_tensorrt._compile",
        "torch_tensorrt.dynamo.runtime._serialization",
        "torch_tensorrt.dynamo.runtime._execute_engine_op",
        "torch_tensorrt._trt_logger",
    )
    assert "torch_tensorrt.dynamo.runtime._serialization" in modules
    assert _under(modules, CONVERSION) == []


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("directory", ["dynamo/runtime", "runtime"])
def test_runtime_code_never_imports_conversion(directory: str) -> None:
    # Includes imports inside functions, which run only when a loaded program is executed.
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_under(_imported_names(path), CONVERSION))
        for path in sorted((PACKAGE / directory).glob("*.py"))
    }
    assert {f: n for f, n in offenders.items() if n} == {}
