"""Build the torch_tensorrt package: the Python package plus the C++ runtime extension ``torch_tensorrt._C``.

  python setup.py bdist_wheel              -> torch_tensorrt      (requires tensorrt)
  python setup.py bdist_wheel --use-rtx    -> torch_tensorrt_rtx  (requires tensorrt-rtx); or USE_TRT_RTX=1
  python setup.py bdist_wheel --jetpack    -> Jetpack flavour (TensorRT from JetPack, no IRuntimeConfig)
  python setup.py bdist_wheel --py-only    -> no C++ runtime (the Python runtime serves); or PY_ONLY=1
  pip install --no-build-isolation -e .    -> the same, in place (options through the environment)

Build with --no-build-isolation so the extension is compiled against the installed torch.

The C++ sources come from core/runtime/sources.bzl (also loaded by Bazel). The TensorRT SDK is found
through TENSORRT_RTX_HOME (--use-rtx) or TENSORRT_HOME (include/ and lib/); without one the
TensorRT backend sources are skipped and TRT_NO_SDK is defined: the extension still builds and
loads, engines can be constructed and pickled, and running one raises "built without a TensorRT SDK".
"""

from __future__ import annotations

import ast
import os
import sys

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _flag(name: str, env: str | None = None) -> bool:
    on = env is not None and os.environ.get(env, "0") == "1"
    if name in sys.argv:
        sys.argv.remove(name)
        on = True
    return on


USE_RTX = _flag("--use-rtx", "USE_TRT_RTX")
JETPACK = _flag("--jetpack", "JETPACK")
PY_ONLY = _flag("--py-only", "PY_ONLY")


def read_sources_bzl(path: str) -> dict[str, list[str]]:
    """The list assignments of a Starlark file that is also valid Python (ast.literal_eval of each)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    lists: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = ast.literal_eval(node.value)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{path}: {node.targets[0].id} must be a list of strings")
            lists[node.targets[0].id] = value
    return lists


def _find_sdk() -> str | None:
    env = "TENSORRT_RTX_HOME" if USE_RTX else "TENSORRT_HOME"
    home = os.environ.get(env)
    if not home:
        return None
    if not os.path.isfile(os.path.join(home, "include", "NvInfer.h")):
        raise SystemExit(f"{env}={home} has no include/NvInfer.h; point it at a TensorRT SDK (include/ and lib/)")
    return home


def _cuda_include_dirs() -> list[str]:
    dirs = []
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and os.path.isfile(os.path.join(home, "include", "cuda_runtime_api.h")):
            dirs.append(os.path.join(home, "include"))
            break
    return dirs


def _cuda_library_dirs() -> list[str]:
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        for sub in ("lib64", "lib", os.path.join("lib", "x64")):
            if home and os.path.isdir(os.path.join(home, sub)):
                return [os.path.join(home, sub)]
    return []


def extension_modules() -> tuple[list, dict]:
    if PY_ONLY:
        return [], {}
    from torch.utils.cpp_extension import BuildExtension, CppExtension

    lists = read_sources_bzl(os.path.join(HERE, "core", "runtime", "sources.bzl"))
    sources = lists["RUNTIME_SOURCES"] + lists["PYTHON_MODULE_SOURCES"]
    define_macros: list[tuple[str, str | None]] = []
    include_dirs = [HERE]
    library_dirs: list[str] = []
    libraries: list[str] = []
    extra_link_args: list[str] = []
    if not JETPACK:
        define_macros.append(("TRT_HAS_IRUNTIME_CONFIG", None))
    sdk = _find_sdk()
    if sdk is None:
        define_macros.append(("TRT_NO_SDK", None))
    else:
        sources += lists["BACKEND_SOURCES"]
        include_dirs += [os.path.join(sdk, "include")] + _cuda_include_dirs()
        sdk_lib = os.path.join(sdk, "lib")
        library_dirs += [sdk_lib] + _cuda_library_dirs()
        libraries += ["tensorrt_rtx" if USE_RTX else "nvinfer", "cudart"]
        if sys.platform != "win32":
            extra_link_args.append(f"-Wl,-rpath,{sdk_lib}")
    if sys.platform == "win32":
        cxx_flags = ["/O2", "/std:c++20"]
    else:
        # torch's headers need C++20; the runtime's own code is C++17-clean.
        cxx_flags = ["-O2", "-g0", "-std=c++20", "-fvisibility=hidden", "-Wno-unused-parameter"]
    ext = CppExtension(
        name="torch_tensorrt._C",
        sources=[os.path.relpath(os.path.join(HERE, s), HERE) for s in sources],
        include_dirs=include_dirs,
        define_macros=define_macros,
        library_dirs=library_dirs,
        libraries=libraries,
        extra_compile_args={"cxx": cxx_flags},
        extra_link_args=extra_link_args,
    )
    return [ext], {"build_ext": BuildExtension.with_options(use_ninja=True)}


version: dict[str, str] = {}
with open(os.path.join(HERE, "py", "torch_tensorrt", "_version.py")) as f:
    exec(f.read(), version)  # noqa: S102 - our own version file

ext_modules, cmdclass = extension_modules()

DISTRIBUTION = "torch_tensorrt_rtx" if USE_RTX else "torch_tensorrt"
FLAVOUR = "rtx" if USE_RTX else "jetpack" if JETPACK else "standard"
TENSORRT_REQUIREMENT = None if JETPACK else "tensorrt-rtx" if USE_RTX else "tensorrt"


class BuildPyWithBuildInfo(build_py):
    """Writes torch_tensorrt/_build_info.py into the build (never into the source tree), so the
    installed package knows its flavour (the source file holds a source checkout's values)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = os.path.join(self.build_lib, "torch_tensorrt", "_build_info.py")
        with open(target, "w", encoding="utf-8") as f:
            f.write(
                '"""How this copy of torch_tensorrt was built (generated by setup.py)."""\n\n'
                f"DISTRIBUTION = {DISTRIBUTION!r}\n"
                f"FLAVOUR = {FLAVOUR!r}\n"
                f"TENSORRT_REQUIREMENT = {TENSORRT_REQUIREMENT!r}\n"
                f"CPP_RUNTIME = {bool(ext_modules)!r}\n"
                f"TENSORRT_SDK = {bool(ext_modules) and _find_sdk() is not None!r}\n"
            )


cmdclass["build_py"] = BuildPyWithBuildInfo

# TensorRT comes with JetPack.
requires = ["torch>=2.9", "numpy"] + ([TENSORRT_REQUIREMENT] if TENSORRT_REQUIREMENT else [])

setup(
    name=DISTRIBUTION,
    version=version["__version__"],
    description="Compile PyTorch models into TensorRT-RTX / TensorRT engines",
    package_dir={"": "py"},
    packages=find_packages(where="py"),
    python_requires=">=3.10",
    install_requires=requires,
    extras_require={"progress": ["tqdm"]},
    ext_modules=ext_modules,
    cmdclass=cmdclass,
    zip_safe=False,
)
