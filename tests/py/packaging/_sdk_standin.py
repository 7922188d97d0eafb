"""Lay out a stand-in TensorRT / TensorRT-RTX C++ SDK: stub headers with version macros and an empty
shared library built here, in the layout a real SDK has. For the SDK finders (setup.py's and Bazel's),
which look only at file names, header macros and library names; nothing can run against it.

    python tests/py/packaging/_sdk_standin.py SYSROOT [--version 10.3.0.30] [--triple aarch64-linux-gnu]

lays out JetPack's layout (multiarch folders) under SYSROOT: scripts/bazel_test.sh points Bazel's
local_tensorrt at it with TENSORRT_SYSROOT. Not a test module (pytest collects test_*.py only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_NVINFER_H = """\
// Stand-in for NvInfer.h (tests only): the SDK finders look for this file by name.
#pragma once
#include "NvInferVersion.h"
"""


def version_header(version: str, *, rtx: bool = False, indirect: bool = False) -> str:
    """NvInferVersion.h with this version, in one of the shapes real SDKs use.

    rtx: TRT_{MAJOR,MINOR,PATCH,BUILD}_RTX (TensorRT-RTX). indirect: NV_TENSORRT_* defined through
    TRT_*_ENTERPRISE (TensorRT >= 10.8). Otherwise NV_TENSORRT_* = numbers with trailing comments
    (TensorRT <= 10.7, e.g. JetPack 6's 10.3).
    """
    parts = dict(zip(("MAJOR", "MINOR", "PATCH", "BUILD"), version.split(".")))
    lines = ["#ifndef NV_INFER_VERSION_H", "#define NV_INFER_VERSION_H"]
    if rtx:
        lines += [f"#define TRT_{k}_RTX {v}" for k, v in parts.items()]
    elif indirect:
        lines += [f"#define TRT_{k}_ENTERPRISE {v}" for k, v in parts.items()]
        lines += [f"#define NV_TENSORRT_{k} TRT_{k}_ENTERPRISE //!< TensorRT {k.lower()}." for k in parts]
    else:
        lines += [f"#define NV_TENSORRT_{k} {v} //!< TensorRT {k.lower()}." for k, v in parts.items()]
    return "\n".join(lines + ["#endif  // NV_INFER_VERSION_H", ""])


def empty_shared_library(path: Path, soname: str) -> None:
    """An empty ELF shared library with this SONAME, built by the machine's C compiler."""
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise RuntimeError("no C compiler (gcc/cc) to build the stand-in library")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "empty.c"
        src.write_text("/* stand-in TensorRT library: no symbols */\n")
        subprocess.run(
            [cc, "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(path), str(src)],
            check=True,
            capture_output=True,
        )


def write_headers(include: Path, version: str, *, rtx: bool = False, indirect: bool = False) -> None:
    include.mkdir(parents=True, exist_ok=True)
    (include / "NvInfer.h").write_text(_NVINFER_H)
    (include / "NvInferVersion.h").write_text(version_header(version, rtx=rtx, indirect=indirect))


def write_libraries(lib: Path, stem: str, version: str) -> Path:
    """lib<stem>.so.<M.m.p> (real), .so.<M> and .so (symlinks), as Debian's -dev packages install them;
    plus a plugin library next to it, which the finders must not take for the SDK's library."""
    lib.mkdir(parents=True, exist_ok=True)
    major, minor, patch = version.split(".")[:3]
    real = lib / f"lib{stem}.so.{major}.{minor}.{patch}"
    empty_shared_library(real, f"lib{stem}.so.{major}")
    for link in (f"lib{stem}.so.{major}", f"lib{stem}.so"):
        (lib / link).symlink_to(real.name)
    (lib / f"lib{stem}_plugin.so.{major}").write_bytes(b"")
    return real


def multiarch_standin(sysroot: Path, version: str = "10.3.0.30", triple: str = "aarch64-linux-gnu") -> Path:
    """JetPack's layout under sysroot: usr/include/<triple>/Nv*.h, usr/lib/<triple>/libnvinfer.so*,
    next to other packages' files (the include folder is the whole system's)."""
    include = sysroot / "usr" / "include" / triple
    write_headers(include, version)
    (include / "zlib.h").write_text("/* some other package's header */\n")
    write_libraries(sysroot / "usr" / "lib" / triple, "nvinfer", version)
    return sysroot


def tarball_standin(root: Path, version: str, *, rtx: bool = False, indirect: bool = False) -> Path:
    """The SDK archive's layout: <root>/include, <root>/lib."""
    write_headers(root / "include", version, rtx=rtx, indirect=indirect)
    write_libraries(root / "lib", "tensorrt_rtx" if rtx else "nvinfer", version)
    return root


def windows_standin(root: Path, version: str, *, rtx: bool = False) -> Path:
    """The Windows zip's layout: include/, lib/ with versioned import libraries and DLLs (no compiler
    needed: the finder only reads names)."""
    write_headers(root / "include", version, rtx=rtx)
    lib = root / "lib"
    lib.mkdir(parents=True)
    major, minor = version.split(".")[:2]
    names = (
        [
            f"tensorrt_rtx_{major}_{minor}.lib",
            f"tensorrt_rtx_{major}_{minor}.dll",
            f"tensorrt_onnxparser_rtx_{major}_{minor}.lib",
        ]
        if rtx
        else [
            f"nvinfer_{major}.lib",
            f"nvinfer_{major}.dll",
            f"nvinfer_plugin_{major}.lib",
            f"nvinfer_lean_{major}.lib",
        ]
    )
    for name in names:
        (lib / name).write_bytes(b"")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sysroot", type=Path)
    parser.add_argument("--version", default="10.3.0.30")
    parser.add_argument("--triple", default="aarch64-linux-gnu")
    args = parser.parse_args()
    print(multiarch_standin(args.sysroot, args.version, args.triple))


if __name__ == "__main__":
    main()
