"""Build the torch_tensorrt package: the Python package plus the C++ runtime extension ``torch_tensorrt._C``.

  python setup.py bdist_wheel              -> torch_tensorrt      (requires tensorrt)
  python setup.py bdist_wheel --use-rtx    -> torch_tensorrt_rtx  (requires tensorrt-rtx); or USE_TRT_RTX=1
  python setup.py bdist_wheel --jetpack    -> Jetpack flavour (JetPack's TensorRT, no IRuntimeConfig); or JETPACK=1
  python setup.py bdist_wheel --py-only    -> no C++ runtime (the Python runtime serves); or PY_ONLY=1
  pip install --no-build-isolation -e .    -> the same, in place (options through the environment)

Build with --no-build-isolation so the extension is compiled against the installed torch.

The C++ sources come from core/runtime/sources.bzl (also loaded by Bazel). The TensorRT SDK is found
as Bazel finds it, from third_party/tensorrt/sdk_locations.json (tools/packaging/tensorrt_sdk.py): a
variable (TENSORRT_HOME / TENSORRT_RTX_HOME, ...), the usual install folders, or, for standard
TensorRT, the multiarch folders where Debian packages and JetPack put it (/usr/include/<triple>,
/usr/lib/<triple>); `python tools/packaging/tensorrt_sdk.py [--rtx]` shows which. Without an SDK the
TensorRT backend sources are skipped and TRT_NO_SDK is defined: the extension still builds and loads,
engines can be constructed and pickled, and running one raises "built without a TensorRT SDK". A
--jetpack build refuses to do that (its point is the C++ runtime on the Jetson): it needs the SDK, or
--py-only.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any, NamedTuple

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))

FLAVOURS = ("standard", "rtx", "jetpack")
# The SDK each flavour compiles against; Bazel's configs pick the same (third_party/tensorrt/BUILD.bazel).
SDK_KIND = {"standard": "tensorrt", "rtx": "tensorrt_rtx", "jetpack": "tensorrt"}
DISTRIBUTION = {"standard": "torch_tensorrt", "rtx": "torch_tensorrt_rtx", "jetpack": "torch_tensorrt"}
# JetPack brings its own TensorRT (no pip package for it).
TENSORRT_REQUIREMENT = {"standard": "tensorrt", "rtx": "tensorrt-rtx", "jetpack": None}
# The command line, also `python -m torch_tensorrt` (py/torch_tensorrt/__main__.py).
CONSOLE_SCRIPTS = ["torch-tensorrt = torch_tensorrt.cli:main"]


class Options(NamedTuple):
    flavour: str  # one of FLAVOURS
    py_only: bool


def parse_options(argv: list[str], environ: Mapping[str, str]) -> Options:
    """Our flags (or their variables); removed from argv, which setuptools then parses."""

    def flag(name: str, env: str) -> bool:
        on = environ.get(env, "0") == "1"
        while name in argv:
            argv.remove(name)
            on = True
        return on

    rtx, jetpack, py_only = flag("--use-rtx", "USE_TRT_RTX"), flag("--jetpack", "JETPACK"), flag("--py-only", "PY_ONLY")
    if rtx and jetpack:
        raise SystemExit("setup.py: --use-rtx and --jetpack exclude each other (JetPack ships standard TensorRT)")
    return Options("rtx" if rtx else "jetpack" if jetpack else "standard", py_only)


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


def sdk_finder() -> ModuleType:
    """tools/packaging/tensorrt_sdk.py, loaded by path: tools/ is not a package and not on sys.path under pip."""
    name = "_torchtrt_tensorrt_sdk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "tools", "packaging", "tensorrt_sdk.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def find_sdk(flavour: str, environ: Mapping[str, str] | None = None, sysroot: str | None = None) -> Any | None:
    """The SDK (tensorrt_sdk.Sdk) this flavour builds against, or None; exits when a variable is wrong."""
    finder = sdk_finder()
    try:
        return finder.find_sdk(SDK_KIND[flavour], environ=environ, sysroot=sysroot)
    except finder.ExplicitSdkError as exc:
        raise SystemExit(f"setup.py: {exc}") from None


def require_sdk(options: Options, sdk: Any | None) -> None:
    # A Jetpack wheel without the backend would hand every engine call to the Python runtime on the
    # platform where the C++ runtime matters most: fail the build instead of shipping that.
    if options.flavour == "jetpack" and not options.py_only and sdk is None:
        raise SystemExit(
            f"setup.py: --jetpack found no TensorRT C++ SDK; looked in {sdk_finder().search_summary('tensorrt')}. "
            "JetPack installs it in the aarch64 multiarch folders. Use --py-only for a wheel without the C++ runtime."
        )


# Feature gates of the SDK's own headers, set only where the TensorRT backend is compiled (Bazel:
# local_defines of //core/runtime:tensorrt_backend, from toolchains/backend_defines.bzl). TensorRT-RTX
# declares part of its API (IExecutionContext::isStreamCapturable among it) only inside
# `#if ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION`.
BACKEND_DEFINES = {"standard": [], "rtx": ["ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION"], "jetpack": []}


def cpp_defines(flavour: str, sdk_found: bool) -> list[str]:
    """The preprocessor defines of torch_tensorrt._C: the wheel's row of the define matrix."""
    # Bazel's //toolchains:trt_defines sets the same: JetPack's TensorRT has no IRuntimeConfig, so
    # its backend takes the legacy createExecutionContext path. TensorRT-RTX's own NvInferVersion.h
    # defines TRT_MAJOR_RTX, so the wheel does not pass it.
    defines = [] if flavour == "jetpack" else ["TRT_HAS_IRUNTIME_CONFIG"]
    if not sdk_found:
        return defines + ["TRT_NO_SDK"]  # no backend, so none of its header gates
    return defines + BACKEND_DEFINES[flavour]


def link_args(sdk: Any, platform: str = sys.platform) -> tuple[list[str], list[str]]:
    """(libraries, extra_link_args) that link the SDK's library."""
    if platform == "win32":
        return [sdk.library.removesuffix(".lib")], []
    name: str = sdk.library
    if name.startswith("lib") and name.endswith(".so"):
        libraries, extra = [name[3:-3]], []
    else:  # only the versioned runtime library (no -dev symlink): link that file by name
        libraries, extra = [], [f"-l:{name}"]
    # An SDK from the system's multiarch folders (JetPack) is found by the loader on every such
    # machine; an rpath to the build machine's folder would only matter for SDKs installed elsewhere.
    if not sdk.system:
        extra.append(f"-Wl,-rpath,{sdk.lib_dir}")
    return libraries, extra


def _cuda_include_dirs() -> list[str]:
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home and os.path.isfile(os.path.join(home, "include", "cuda_runtime_api.h")):
            return [os.path.join(home, "include")]
    return []


def _cuda_library_dirs() -> list[str]:
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        for sub in ("lib64", "lib", os.path.join("lib", "x64")):
            if home and os.path.isdir(os.path.join(home, sub)):
                return [os.path.join(home, sub)]
    return []


def extension_spec(flavour: str, sdk: Any | None, platform: str = sys.platform) -> dict[str, Any]:
    """Keyword arguments of the torch_tensorrt._C extension (no torch needed: tests read them)."""
    lists = read_sources_bzl(os.path.join(HERE, "core", "runtime", "sources.bzl"))
    sources = lists["RUNTIME_SOURCES"] + lists["PYTHON_MODULE_SOURCES"]
    spec: dict[str, Any] = {
        "include_dirs": [HERE],
        "define_macros": [(d, None) for d in cpp_defines(flavour, sdk is not None)],
        "library_dirs": [],
        "libraries": [],
        "extra_link_args": [],
    }
    if sdk is not None:
        sources += lists["BACKEND_SOURCES"]
        spec["include_dirs"] += [sdk.include_dir] + _cuda_include_dirs()
        spec["library_dirs"] += [sdk.lib_dir] + _cuda_library_dirs()
        libraries, extra = link_args(sdk, platform)
        spec["libraries"] += libraries + ["cudart"]
        spec["extra_link_args"] += extra
    spec["sources"] = [os.path.relpath(os.path.join(HERE, s), HERE) for s in sources]
    if platform == "win32":
        spec["extra_compile_args"] = {"cxx": ["/O2", "/std:c++20"]}
    else:
        # torch's headers need C++20; the runtime's own code is C++17-clean.
        spec["extra_compile_args"] = {
            "cxx": ["-O2", "-g0", "-std=c++20", "-fvisibility=hidden", "-Wno-unused-parameter"]
        }
    return spec


def extension_modules(flavour: str, sdk: Any | None) -> tuple[list, dict]:
    from torch.utils.cpp_extension import BuildExtension, CppExtension

    ext = CppExtension(name="torch_tensorrt._C", **extension_spec(flavour, sdk))
    return [ext], {"build_ext": BuildExtension.with_options(use_ninja=True)}


def build_info_source(options: Options, sdk: Any | None, cpp_runtime: bool) -> str:
    """torch_tensorrt/_build_info.py of the wheel (fields documented in the source tree's copy)."""
    fields: dict[str, object] = {
        "DISTRIBUTION": DISTRIBUTION[options.flavour],
        "FLAVOUR": options.flavour,
        "TENSORRT_REQUIREMENT": TENSORRT_REQUIREMENT[options.flavour],
        "CPP_RUNTIME": cpp_runtime,
        "TENSORRT_SDK": cpp_runtime and sdk is not None,
        "TENSORRT_SDK_KIND": sdk.kind if cpp_runtime and sdk else None,
        "TENSORRT_SDK_VERSION": sdk.version if cpp_runtime and sdk else None,
        "TENSORRT_SDK_INCLUDE_DIR": sdk.include_dir if cpp_runtime and sdk else None,
        "TENSORRT_SDK_LIB_DIR": sdk.lib_dir if cpp_runtime and sdk else None,
        "TENSORRT_SDK_ORIGIN": sdk.origin if cpp_runtime and sdk else None,
        "DEFINES": tuple(cpp_defines(options.flavour, sdk is not None)) if cpp_runtime else (),
    }
    lines = ['"""How this copy of torch_tensorrt was built (generated by setup.py)."""', ""]
    lines += [f"{key} = {value!r}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def build_py_writing(info: str) -> type[build_py]:
    class BuildPyWithBuildInfo(build_py):
        """Writes torch_tensorrt/_build_info.py into the build (never into the source tree), so the
        installed package knows its flavour (the source file holds a source checkout's values)."""

        def run(self) -> None:
            super().run()
            if self.editable_mode:
                return
            with open(os.path.join(self.build_lib, "torch_tensorrt", "_build_info.py"), "w", encoding="utf-8") as f:
                f.write(info)

    return BuildPyWithBuildInfo


def _describe(sdk: Any | None) -> str:
    if sdk is None:
        return "no TensorRT C++ SDK found: building without the TensorRT backend (TRT_NO_SDK)"
    return f"{sdk.kind} {sdk.version or '(unknown version)'} from {sdk.origin}: {sdk.include_dir}, {sdk.lib_dir}/{sdk.library}"


def main() -> None:
    options = parse_options(sys.argv, os.environ)
    sdk = None if options.py_only else find_sdk(options.flavour)
    require_sdk(options, sdk)
    ext_modules, cmdclass = ([], {}) if options.py_only else extension_modules(options.flavour, sdk)
    if ext_modules:
        print(f"setup.py ({options.flavour}): {_describe(sdk)}", file=sys.stderr)
    cmdclass["build_py"] = build_py_writing(build_info_source(options, sdk, cpp_runtime=bool(ext_modules)))

    version: dict[str, str] = {}
    with open(os.path.join(HERE, "py", "torch_tensorrt", "_version.py"), encoding="utf-8") as f:
        exec(f.read(), version)  # noqa: S102 - our own version file
    requirement = TENSORRT_REQUIREMENT[options.flavour]
    setup(
        name=DISTRIBUTION[options.flavour],
        version=version["__version__"],
        description="Compile PyTorch models into TensorRT-RTX / TensorRT engines",
        package_dir={"": "py"},
        packages=find_packages(where="py"),
        python_requires=">=3.10",
        install_requires=["torch>=2.9", "numpy"] + ([requirement] if requirement else []),
        extras_require={"progress": ["tqdm"]},
        entry_points={"console_scripts": CONSOLE_SCRIPTS},
        ext_modules=ext_modules,
        cmdclass=cmdclass,
        zip_safe=False,
    )


# setuptools' build backend (pip) also runs this file as __main__; tests import it for its functions.
if __name__ == "__main__":
    main()
