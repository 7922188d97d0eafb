"""One TensorRT SDK finder for Bazel and setup.py, and the wheel's row of the define matrix.

The SDK locations are described once, in third_party/tensorrt/sdk_locations.json; setup.py reads it
through tools/packaging/tensorrt_sdk.py, Bazel's local_tensorrt through json.decode. Here stand-in SDKs
(_sdk_standin.py: stub NvInfer.h / NvInferVersion.h, an empty libnvinfer.so built with the C compiler)
are laid out in a temporary sysroot and found through setup.py's own finder. The Bazel rule is run on
the same stand-in by scripts/bazel_test.sh (//tests/bazel:sdk_discovery_test under --config=jetpack);
here we check that it has no location list of its own and watches every variable the description names.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from _sdk_standin import multiarch_standin, tarball_standin, version_header, windows_standin

REPO = Path(__file__).resolve().parents[3]
LOCATIONS = REPO / "third_party" / "tensorrt" / "sdk_locations.json"
LOCAL_REPOS_BZL = REPO / "tools" / "bazel" / "local_repos.bzl"
JETPACK_VERSION = "10.3.0.30"  # JetPack 6's TensorRT


@pytest.fixture(scope="module")
def setup_py() -> ModuleType:
    """setup.py as a module: its functions, without running setup()."""
    spec = importlib.util.spec_from_file_location("_torchtrt_setup_under_test", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def finder(setup_py: ModuleType) -> ModuleType:
    return setup_py.sdk_finder()  # the very module setup.py searches with


@pytest.fixture
def jetpack_sysroot(tmp_path: Path) -> Path:
    if not (os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")):
        pytest.skip("no C compiler for the stand-in library")
    return multiarch_standin(tmp_path / "jetson_rootfs", JETPACK_VERSION, "aarch64-linux-gnu")


# --- one description --------------------------------------------------------------------------------


def test_bazel_watches_every_variable_of_the_description(finder: ModuleType) -> None:
    # Bazel must know the variables when the rule is defined (before it can read the JSON); a variable
    # missing there would not re-run discovery when it changes.
    text = LOCAL_REPOS_BZL.read_text()
    watched = ast.literal_eval(re.search(r"^_TRT_WATCHED_ENV = (\[.*?\])", text, re.S | re.M).group(1))
    assert sorted(watched) == sorted(finder.variables())
    assert "environ = _TRT_WATCHED_ENV" in text


def test_no_second_list_of_locations() -> None:
    # Every folder, variable and library name lives in the JSON; the Bazel rule and setup.py only
    # interpret it. A path or name written into either would be a list that can drift.
    loc = json.loads(LOCATIONS.read_text())
    literals = {loc["multiarch"]["include_dir"].split("{")[0], loc["multiarch"]["lib_dir"].split("{")[0]}
    literals |= set(loc["multiarch"]["triples"])
    for sdk in loc["sdks"].values():
        literals |= {d for dirs in sdk["install_dirs"].values() for d in dirs}
        literals |= {p.split("*")[0] for pats in sdk["libraries"].values() for p in pats}
    literals -= set(loc["sdks"])  # "tensorrt_rtx*.lib" starts with a kind name, which code may spell
    bzl = LOCAL_REPOS_BZL.read_text()
    bzl = bzl[bzl.index("# local_tensorrt") :]
    setup_text = (REPO / "setup.py").read_text()
    for literal in sorted(literals):
        assert f'"{literal}' not in bzl, f"local_repos.bzl spells out {literal!r}; read it from {LOCATIONS.name}"
        assert f'"{literal}' not in setup_text, f"setup.py spells out {literal!r}; read it from {LOCATIONS.name}"
    assert "sdk_locations.json" in bzl and "json.decode" in bzl


def test_readme_build_table_names_every_location() -> None:
    # The README's per-flavour table is read by people choosing where to install an SDK.
    loc = json.loads(LOCATIONS.read_text())
    readme = (REPO / "README.md").read_text()
    names = ["$" + loc["sysroot_variable"], *loc["multiarch"]["triples"]]
    for sdk in loc["sdks"].values():
        names += [f"${v}" for v in sdk["variables"]] + sdk["install_dirs"]["linux"]
    assert [n for n in names if f"`{n}`" not in readme] == []


# --- the finder on stand-in SDKs ----------------------------------------------------------------------


def test_finds_jetpack_sdk_in_multiarch_folders(finder: ModuleType, jetpack_sysroot: Path) -> None:
    sdk = finder.find_sdk("tensorrt", environ={}, sysroot=str(jetpack_sysroot), machine="aarch64", os_name="linux")
    assert sdk is not None
    assert Path(sdk.include_dir) == jetpack_sysroot / "usr/include/aarch64-linux-gnu"
    assert Path(sdk.lib_dir) == jetpack_sysroot / "usr/lib/aarch64-linux-gnu"
    assert sdk.library == "libnvinfer.so"  # the -dev symlink, not .so.10 or the plugin library
    assert sdk.version == JETPACK_VERSION
    assert (sdk.origin, sdk.system, sdk.kind) == ("multiarch:aarch64-linux-gnu", True, "tensorrt")


def test_sysroot_variable_and_host_machine(finder: ModuleType, jetpack_sysroot: Path) -> None:
    # The sysroot comes from TENSORRT_SYSROOT when not passed; an x86_64 build host still finds the
    # aarch64 folders of a Jetson rootfs (its own triple is tried first, and is absent there).
    env = {json.loads(LOCATIONS.read_text())["sysroot_variable"]: str(jetpack_sysroot)}
    sdk = finder.find_sdk("tensorrt", environ=env, machine="x86_64", os_name="linux")
    assert sdk is not None and sdk.origin == "multiarch:aarch64-linux-gnu"
    assert finder.find_sdk("tensorrt", environ={}, sysroot=str(jetpack_sysroot / "nothing"), os_name="linux") is None


def test_host_triple_first(finder: ModuleType, jetpack_sysroot: Path) -> None:
    multiarch_standin(jetpack_sysroot, "10.7.0.23", "x86_64-linux-gnu")
    on_x86 = finder.find_sdk("tensorrt", environ={}, sysroot=str(jetpack_sysroot), machine="x86_64", os_name="linux")
    on_jetson = finder.find_sdk(
        "tensorrt", environ={}, sysroot=str(jetpack_sysroot), machine="aarch64", os_name="linux"
    )
    assert (on_x86.origin, on_x86.version) == ("multiarch:x86_64-linux-gnu", "10.7.0.23")
    assert (on_jetson.origin, on_jetson.version) == ("multiarch:aarch64-linux-gnu", JETPACK_VERSION)


def test_install_folder_before_multiarch(finder: ModuleType, jetpack_sysroot: Path) -> None:
    tarball_standin(jetpack_sysroot / "usr/local/TensorRT", "10.14.1.48", indirect=True)
    sdk = finder.find_sdk("tensorrt", environ={}, sysroot=str(jetpack_sysroot), machine="aarch64", os_name="linux")
    assert sdk.origin == f"install:{jetpack_sysroot}/usr/local/TensorRT"
    assert (sdk.version, sdk.system, sdk.library) == ("10.14.1.48", False, "libnvinfer.so")


def test_variable_wins_and_a_wrong_one_is_an_error(finder: ModuleType, jetpack_sysroot: Path, tmp_path: Path) -> None:
    home = tarball_standin(tmp_path / "TensorRT-10.7", "10.7.0.23")
    sdk = finder.find_sdk("tensorrt", environ={"TRT_HOME": str(home)}, sysroot=str(jetpack_sysroot), os_name="linux")
    assert (sdk.origin, sdk.version, Path(sdk.include_dir)) == ("env:TRT_HOME", "10.7.0.23", home / "include")
    # A variable naming no SDK stops the search, even with a JetPack SDK right there: the user asked
    # for that one.
    with pytest.raises(finder.ExplicitSdkError, match="TENSORRT_HOME=.*not a TensorRT SDK"):
        finder.find_sdk("tensorrt", environ={"TENSORRT_HOME": str(tmp_path)}, sysroot=str(jetpack_sysroot))


def test_tensorrt_rtx_is_never_taken_from_multiarch(finder: ModuleType, jetpack_sysroot: Path, tmp_path: Path) -> None:
    assert finder.find_sdk("tensorrt_rtx", environ={}, sysroot=str(jetpack_sysroot), os_name="linux") is None
    home = tarball_standin(tmp_path / "TensorRT-RTX-1.7", "1.7.1.116", rtx=True)
    sdk = finder.find_sdk("tensorrt_rtx", environ={"TENSORRT_RTX_HOME": str(home)}, sysroot=str(jetpack_sysroot))
    assert (sdk.kind, sdk.version, sdk.library) == ("tensorrt_rtx", "1.7.1.116", "libtensorrt_rtx.so")


@pytest.mark.parametrize(
    ("rtx", "version", "library", "link"),
    [
        (False, "10.14.1.48", "nvinfer_10.lib", "nvinfer_10"),
        (True, "1.7.1.116", "tensorrt_rtx_1_7.lib", "tensorrt_rtx_1_7"),
    ],
)
def test_windows_layout(
    finder: ModuleType, setup_py: ModuleType, tmp_path: Path, rtx: bool, version: str, library: str, link: str
) -> None:
    home = windows_standin(tmp_path / "sdk", version, rtx=rtx)
    var = "TENSORRT_RTX_HOME" if rtx else "TENSORRT_HOME"
    sdk = finder.find_sdk("tensorrt_rtx" if rtx else "tensorrt", environ={var: str(home)}, os_name="win32")
    # Not the plugin, lean or parser import libraries next to it, nor the DLL.
    assert (sdk.library, sdk.version, Path(sdk.lib_dir)) == (library, version, home / "lib")
    assert setup_py.link_args(sdk, "win32") == ([link], [])


@pytest.mark.parametrize(
    ("name", "pattern", "expected"),
    [
        ("libnvinfer.so", "libnvinfer.so*", True),
        ("libnvinfer.so.10.3.0", "libnvinfer.so*", True),
        ("libnvinfer_plugin.so.10", "libnvinfer.so*", False),
        ("libnvinfer.so.10.bak", "libnvinfer.so*", False),
        ("nvinfer_10.lib", "nvinfer*.lib", True),
        ("nvinfer_lean_10.lib", "nvinfer*.lib", False),
        ("tensorrt_rtx_1_7.lib", "tensorrt_rtx*.lib", True),
        ("tensorrt_onnxparser_rtx_1_7.lib", "tensorrt_rtx*.lib", False),
    ],
)
def test_library_patterns(finder: ModuleType, name: str, pattern: str, expected: bool) -> None:
    assert finder.matches(name, pattern) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (version_header("10.3.0.30"), "10.3.0.30"),
        (version_header("10.14.1.48", indirect=True), "10.14.1.48"),
        (version_header("1.7.1.116", rtx=True), "1.7.1.116"),
        ("#define\tNV_TENSORRT_MAJOR\t8\n#define NV_TENSORRT_MINOR 6\n", "8.6"),
        ("#define NV_TENSORRT_MAJOR SOMETHING_UNDEFINED\n", None),
    ],
)
def test_version_from_header(finder: ModuleType, header: str, expected: str | None) -> None:
    loc = json.loads(LOCATIONS.read_text())
    macro_sets = loc["sdks"]["tensorrt_rtx"]["version_macros"]  # RTX's macros, then the standard ones
    assert finder.read_version(header, macro_sets) == expected


# --- setup.py: the backend and defines per flavour ---------------------------------------------------

# The wheel's rows of the define matrix, written out by hand like define_matrix_test.cc's kMatrix:
# flavour -> (defines with an SDK, SDK kind, the Bazel config that must compile the same way).
GATE = "ENABLE_FEATURE_DISABLE_RUNTIME_ALLOCATION"  # a TensorRT-RTX header gate, backend only
WHEEL_MATRIX = {
    "standard": (["TRT_HAS_IRUNTIME_CONFIG"], "tensorrt", "default"),
    "rtx": (["TRT_HAS_IRUNTIME_CONFIG", GATE], "tensorrt_rtx", "rtx_x86_64"),
    "jetpack": ([], "tensorrt", "jetpack"),
}


def _bazel_matrix() -> dict[str, tuple[bool, bool, str]]:
    """define_matrix_test.cc's rows: config -> (TRT_HAS_IRUNTIME_CONFIG, the backend's GATE, SDK)."""
    text = (REPO / "tests" / "bazel" / "define_matrix_test.cc").read_text()
    rows = re.findall(r'\{"(\w+)", (true|false), (true|false), (true|false), "(\w+)"\}', text)
    assert len(rows) == 4, rows
    return {config: (irc == "true", gate == "true", sdk) for config, irc, _rtx, gate, sdk in rows}


@pytest.mark.parametrize("flavour", sorted(WHEEL_MATRIX))
def test_wheel_define_matrix(setup_py: ModuleType, flavour: str) -> None:
    defines, kind, config = WHEEL_MATRIX[flavour]
    assert setup_py.cpp_defines(flavour, sdk_found=True) == defines
    # Without an SDK there is no backend, so none of its header gates.
    assert setup_py.cpp_defines(flavour, sdk_found=False) == [d for d in defines if d != GATE] + ["TRT_NO_SDK"]
    assert setup_py.SDK_KIND[flavour] == kind
    # The Bazel build of the same platform: both build paths compile the backend the same way.
    assert _bazel_matrix()[config] == ("TRT_HAS_IRUNTIME_CONFIG" in defines, GATE in defines, kind)


def test_the_runtime_allocation_gate_is_set_where_the_backend_tests_it() -> None:
    # The backend opens the gate with the header's own condition; a rename on either side would
    # silently compile the fallback (isStreamCapturable never asked) on the rtx configs.
    sdk_header = (REPO / "core" / "runtime" / "backend" / "TensorRTSdk.h").read_text()
    assert f"defined({GATE}) && {GATE}" in sdk_header
    bzl = (REPO / "toolchains" / "backend_defines.bzl").read_text()
    assert bzl.count(f'["{GATE}"]') == 2 and '"//toolchains:rtx_x86_64"' in bzl and '"//toolchains:rtx_win"' in bzl


def test_flavour_options(setup_py: ModuleType) -> None:
    argv = ["setup.py", "bdist_wheel", "--jetpack", "-d", "dist"]
    assert setup_py.parse_options(argv, {}) == ("jetpack", False)
    assert argv == ["setup.py", "bdist_wheel", "-d", "dist"]  # setuptools never sees our flags
    assert setup_py.parse_options(["setup.py"], {"JETPACK": "1", "PY_ONLY": "1"}) == ("jetpack", True)
    assert setup_py.parse_options(["setup.py", "--use-rtx"], {}) == ("rtx", False)
    with pytest.raises(SystemExit, match="exclude each other"):
        setup_py.parse_options(["setup.py", "--use-rtx", "--jetpack"], {})


def _backend_sources(setup_py: ModuleType) -> set[str]:
    return set(setup_py.read_sources_bzl(str(REPO / "core" / "runtime" / "sources.bzl"))["BACKEND_SOURCES"])


def test_jetpack_extension_compiles_the_backend(setup_py: ModuleType, jetpack_sysroot: Path) -> None:
    sdk = setup_py.find_sdk("jetpack", environ={}, sysroot=str(jetpack_sysroot))
    spec = setup_py.extension_spec("jetpack", sdk, platform="linux")
    assert _backend_sources(setup_py) <= set(spec["sources"])
    assert spec["define_macros"] == []  # no TRT_HAS_IRUNTIME_CONFIG: legacy createExecutionContext
    assert sdk.include_dir in spec["include_dirs"] and sdk.lib_dir in spec["library_dirs"]
    assert spec["libraries"][0] == "nvinfer"
    # JetPack's libnvinfer is where every Jetson's loader looks: no rpath to the build machine.
    assert not [a for a in spec["extra_link_args"] if "rpath" in a]

    # Only the runtime package installed (no -dev symlink): the versioned library is linked by name.
    (Path(sdk.lib_dir) / "libnvinfer.so").unlink()
    sdk = setup_py.find_sdk("jetpack", environ={}, sysroot=str(jetpack_sysroot))
    assert setup_py.link_args(sdk, "linux") == ([], ["-l:libnvinfer.so.10"])


def test_sdk_outside_system_folders_gets_an_rpath(setup_py: ModuleType, tmp_path: Path) -> None:
    home = tarball_standin(tmp_path / "TensorRT", "10.7.0.23")
    sdk = setup_py.find_sdk("standard", environ={"TENSORRT_HOME": str(home)})
    assert setup_py.link_args(sdk, "linux") == (["nvinfer"], [f"-Wl,-rpath,{home}/lib"])


def test_no_sdk_skips_the_backend(setup_py: ModuleType, tmp_path: Path) -> None:
    spec = setup_py.extension_spec("standard", None, platform="linux")
    assert not _backend_sources(setup_py) & set(spec["sources"])
    assert ("TRT_NO_SDK", None) in spec["define_macros"] and spec["libraries"] == []
    with pytest.raises(SystemExit, match="TENSORRT_HOME=.* is not a TensorRT SDK"):
        setup_py.find_sdk("jetpack", environ={"TENSORRT_HOME": str(tmp_path)})


# --- setup.py end to end (build_py: flags, finder, _build_info; no compiler) ----------------------------


def _source_copy(dst: Path) -> Path:
    """What setup.py reads, outside the checkout (setup.py writes build/ next to itself)."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.egg-info")
    for rel in ("setup.py", "pyproject.toml", "core/runtime/sources.bzl", "third_party/tensorrt/sdk_locations.json"):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dst / rel)
    for rel in ("py", "tools/packaging"):
        shutil.copytree(REPO / rel, dst / rel, ignore=junk)
    return dst


def _setup_env(sysroot: Path) -> dict[str, str]:
    # Nothing from this machine's environment decides the build: only the given sysroot.
    finder_vars = json.loads(LOCATIONS.read_text())
    names = [v for sdk in finder_vars["sdks"].values() for v in sdk["variables"]] + [
        "USE_TRT_RTX",
        "JETPACK",
        "PY_ONLY",
    ]
    env = {k: v for k, v in os.environ.items() if k not in names}
    env[finder_vars["sysroot_variable"]] = str(sysroot)
    return env


def _build_py(src: Path, out: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "setup.py", "-q", *flags, "build_py", "-d", str(out)]
    return subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, timeout=300)


def _build_info(out: Path) -> dict[str, object]:
    scope: dict[str, object] = {}
    exec((out / "torch_tensorrt" / "_build_info.py").read_text(), scope)  # noqa: S102 - generated by setup.py
    return scope


def test_jetpack_build_reports_its_sdk(jetpack_sysroot: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")  # the extension is declared with torch's CppExtension
    src = _source_copy(tmp_path / "src")
    proc = _build_py(src, tmp_path / "build", _setup_env(jetpack_sysroot), "--jetpack")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"tensorrt {JETPACK_VERSION} from multiarch:aarch64-linux-gnu" in proc.stderr
    info = _build_info(tmp_path / "build")
    assert (info["FLAVOUR"], info["DISTRIBUTION"], info["TENSORRT_REQUIREMENT"]) == ("jetpack", "torch_tensorrt", None)
    assert info["CPP_RUNTIME"] is True and info["TENSORRT_SDK"] is True
    assert (info["TENSORRT_SDK_KIND"], info["TENSORRT_SDK_VERSION"]) == ("tensorrt", JETPACK_VERSION)
    assert info["TENSORRT_SDK_INCLUDE_DIR"] == str(jetpack_sysroot / "usr/include/aarch64-linux-gnu")
    assert info["TENSORRT_SDK_LIB_DIR"] == str(jetpack_sysroot / "usr/lib/aarch64-linux-gnu")
    assert info["TENSORRT_SDK_ORIGIN"] == "multiarch:aarch64-linux-gnu"
    assert info["DEFINES"] == ()


def test_jetpack_build_without_sdk_fails_unless_py_only(tmp_path: Path) -> None:
    src = _source_copy(tmp_path / "src")
    empty = tmp_path / "empty_rootfs"
    empty.mkdir()
    proc = _build_py(src, tmp_path / "build", _setup_env(empty), "--jetpack")
    assert proc.returncode != 0
    assert "--jetpack found no TensorRT C++ SDK" in proc.stderr and "--py-only" in proc.stderr
    proc = _build_py(src, tmp_path / "build_py_only", _setup_env(empty), "--jetpack", "--py-only")
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = _build_info(tmp_path / "build_py_only")
    assert (info["FLAVOUR"], info["CPP_RUNTIME"], info["TENSORRT_SDK"], info["DEFINES"]) == (
        "jetpack",
        False,
        False,
        (),
    )
