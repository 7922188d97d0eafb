"""Find a TensorRT / TensorRT-RTX C++ SDK the way Bazel's ``local_tensorrt`` does.

Both read the same description, ``third_party/tensorrt/sdk_locations.json`` (variables, install folders,
Debian/JetPack multiarch folders, Windows layout, library names, version macros); this file only
interprets it, with the same rules as ``tools/bazel/local_repos.bzl``. Standard library only: setup.py
loads it by path before anything is installed.

    python tools/packaging/tensorrt_sdk.py [--rtx] [--sysroot DIR]   # the SDK setup.py would use, as JSON
    python tools/packaging/tensorrt_sdk.py --variables                # every variable the search reads
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

LOCATIONS_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "third_party",
    "tensorrt",
    "sdk_locations.json",
)

KINDS = ("tensorrt", "tensorrt_rtx")


class ExplicitSdkError(ValueError):
    """A variable of the description is set but does not name an SDK."""


class Sdk(NamedTuple):
    kind: str  # "tensorrt" or "tensorrt_rtx"
    include_dir: str
    lib_dir: str
    library: str  # file name to link: libnvinfer.so, libnvinfer.so.10, nvinfer_10.lib, ...
    version: str | None  # "10.3.0.30", from the version header
    origin: str  # "env:TENSORRT_HOME", "install:/usr/local/TensorRT", "multiarch:aarch64-linux-gnu"
    system: bool  # in the system's multiarch folders: the dynamic loader finds it without an rpath

    def as_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


class _Root(NamedTuple):
    include_dir: str
    lib_dirs: list[str]
    origin: str
    system: bool
    variable: str  # the variable that named this root ("" for a default location)


def load_locations(path: str = LOCATIONS_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def os_key(os_name: str | None = None) -> str:
    """The description's key for an OS: "windows" or "linux" (every other OS uses the Linux layout)."""
    name = (os_name if os_name is not None else sys.platform).lower()
    return "windows" if name.startswith(("win", "windows")) else "linux"


def matches(name: str, pattern: str) -> bool:
    """``pattern`` with at most one ``*``, which matches a run of digits, dots and underscores."""
    if "*" not in pattern:
        return name == pattern
    head, tail = pattern.split("*", 1)
    if len(name) < len(head) + len(tail) or not name.startswith(head) or not name.endswith(tail):
        return False
    middle = name[len(head) : len(name) - len(tail)]
    return all(c.isdigit() or c in "._" for c in middle)


def pick_library(names: Sequence[str], patterns: Sequence[str]) -> str | None:
    """The shortest matching file name (libnvinfer.so before libnvinfer.so.10), ties by name."""
    found = sorted((n for n in names if any(matches(n, p) for p in patterns)), key=lambda n: (len(n), n))
    return found[0] if found else None


def read_version(header_text: str, macro_sets: Sequence[Sequence[str]]) -> str | None:
    """The version, MAJOR.MINOR.PATCH.BUILD, from the first macro set whose major resolves to a number."""
    defines: dict[str, str] = {}
    for line in header_text.splitlines():
        parts = [p for p in line.replace("\t", " ").split(" ") if p]  # as Starlark (no split() on whitespace)
        if len(parts) >= 3 and parts[0] == "#define":
            defines[parts[1]] = parts[2]
    for names in macro_sets:
        numbers = []
        for name in names:
            value = defines.get(name, "")
            for _ in range(4):  # NV_TENSORRT_MAJOR -> TRT_MAJOR_ENTERPRISE -> 10
                if value not in defines:
                    break
                value = defines[value]
            if not value.isdigit():
                break
            numbers.append(value)
        if numbers:
            return ".".join(numbers)
    return None


def host_triple(machine: str | None = None) -> str:
    arch = (machine if machine is not None else platform.machine()).lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return arch + "-linux-gnu"


def _sdk_root(loc: dict[str, Any], root: str, osk: str, origin: str, variable: str = "") -> _Root:
    return _Root(
        root + "/" + loc["include_dir"], [root + "/" + d for d in loc["lib_dirs"][osk]], origin, False, variable
    )


def _roots(
    kind: str, loc: dict[str, Any], environ: Mapping[str, str], sysroot: str, osk: str, machine: str | None
) -> Iterator[_Root]:
    """Candidate roots in search order; an explicit variable is the only candidate when set."""
    sdk = loc["sdks"][kind]
    for var in sdk["variables"]:
        value = environ.get(var, "").strip()
        if value:
            yield _sdk_root(loc, value.rstrip("/\\"), osk, "env:" + var, var)
            return
    # Re-rooting only makes sense for POSIX paths: a JetPack rootfs mounted on a build host.
    prefix = sysroot.rstrip("/") if osk == "linux" else ""
    for d in sdk["install_dirs"].get(osk, []):
        yield _sdk_root(loc, prefix + d, osk, "install:" + prefix + d)
    if sdk["multiarch"] and osk == "linux":
        triples = list(loc["multiarch"]["triples"])
        host = host_triple(machine)
        if host in triples:  # a native build links the host's packages, not a cross-arch copy
            triples.remove(host)
            triples.insert(0, host)
        for triple in triples:
            inc = prefix + loc["multiarch"]["include_dir"].replace("{triple}", triple)
            lib = prefix + loc["multiarch"]["lib_dir"].replace("{triple}", triple)
            yield _Root(inc, [lib], "multiarch:" + triple, True, "")


def _sdk_at(kind: str, loc: dict[str, Any], root: _Root, osk: str) -> Sdk | None:
    sdk = loc["sdks"][kind]
    if not os.path.isfile(os.path.join(root.include_dir, loc["header"])):
        return None
    for lib_dir in root.lib_dirs:
        if not os.path.isdir(lib_dir):
            continue
        library = pick_library(os.listdir(lib_dir), sdk["libraries"][osk])
        if library is None:
            continue
        version = None
        version_header = os.path.join(root.include_dir, loc["version_header"])
        if os.path.isfile(version_header):
            with open(version_header, encoding="utf-8", errors="replace") as f:
                version = read_version(f.read(), sdk["version_macros"])
        return Sdk(kind, root.include_dir, lib_dir, library, version, root.origin, root.system)
    return None


def find_sdk(
    kind: str,
    *,
    environ: Mapping[str, str] | None = None,
    sysroot: str | None = None,
    os_name: str | None = None,
    machine: str | None = None,
    locations: dict[str, Any] | None = None,
) -> Sdk | None:
    """The SDK of ``kind`` ("tensorrt" / "tensorrt_rtx"), or None.

    ``environ`` defaults to os.environ, ``sysroot`` to its sysroot variable (a test points it at a
    stand-in tree). Raises ExplicitSdkError when a variable is set but names no SDK: the user asked
    for that SDK, so quietly building without one would hide the mistake.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown SDK kind {kind!r}; expected one of {KINDS}")
    loc = locations if locations is not None else load_locations()
    env = os.environ if environ is None else environ
    root_prefix = sysroot if sysroot is not None else env.get(loc["sysroot_variable"], "").strip()
    osk = os_key(os_name)
    for root in _roots(kind, loc, env, root_prefix, osk, machine):
        found = _sdk_at(kind, loc, root, osk)
        if found is not None:
            return found
        if root.variable:
            libs = " or ".join(loc["sdks"][kind]["libraries"][osk])
            raise ExplicitSdkError(
                f"{root.variable}={env[root.variable]} is not a {loc['sdks'][kind]['name']} SDK: expected "
                f"{loc['include_dir']}/{loc['header']} and {libs} in one of {', '.join(loc['lib_dirs'][osk])}"
            )
    return None


def variables(locations: dict[str, Any] | None = None) -> list[str]:
    """Every environment variable the search reads (what Bazel must watch to re-run discovery)."""
    loc = locations if locations is not None else load_locations()
    names = [v for kind in KINDS for v in loc["sdks"][kind]["variables"]]
    return names + [loc["sysroot_variable"]]


def search_summary(kind: str, os_name: str | None = None, locations: dict[str, Any] | None = None) -> str:
    """Where the search looks for ``kind``, in order, for messages."""
    loc = locations if locations is not None else load_locations()
    sdk, osk = loc["sdks"][kind], os_key(os_name)
    places = ["$" + "/$".join(sdk["variables"])] + list(sdk["install_dirs"].get(osk, []))
    if sdk["multiarch"] and osk == "linux":
        for triple in loc["multiarch"]["triples"]:
            inc = loc["multiarch"]["include_dir"].replace("{triple}", triple)
            places.append(inc + " + " + loc["multiarch"]["lib_dir"].replace("{triple}", triple))
    return ", ".join(places) + f" (${loc['sysroot_variable']} re-roots all but the variables)"


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Which TensorRT C++ SDK setup.py would build against.")
    parser.add_argument("--rtx", action="store_true", help="TensorRT-RTX instead of TensorRT")
    parser.add_argument("--sysroot", default=None, help="search install and multiarch folders under DIR")
    parser.add_argument("--variables", action="store_true", help="print the variables the search reads")
    args = parser.parse_args(argv)
    if args.variables:
        print("\n".join(variables()))
        return 0
    try:
        sdk = find_sdk("tensorrt_rtx" if args.rtx else "tensorrt", sysroot=args.sysroot)
    except ExplicitSdkError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(sdk.as_dict() if sdk else None, indent=2))
    return 0 if sdk else 1


if __name__ == "__main__":
    sys.exit(_main())
