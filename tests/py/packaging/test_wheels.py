"""The wheels setup.py builds: names, metadata, contents, and the RTX wheel working from a fresh venv.

Builds from a copy of the source tree (setup.py, pyproject.toml, py/, core/, the SDK finder) in a
temporary directory, never in the checkout, against the installed torch (no build isolation), with the
TensorRT SDK variables cleared and the SDK search re-rooted at an empty folder (the wheels here are
TRT_NO_SDK builds whatever this machine has installed; an SDK would only add the backend sources, which
test_sdk_discovery.py checks for the jetpack flavour on a stand-in JetPack SDK):

  1. ``python setup.py bdist_wheel --use-rtx``          torch_tensorrt_rtx, with the C++ extension
  2. ``pip wheel --no-build-isolation .``                torch_tensorrt, with the C++ extension: same
                                                         copy and build directory, so the extension's
                                                         objects from (1) are reused (same flags), not
                                                         compiled again -- this keeps the file < 4 min
  3. ``PY_ONLY=1 python setup.py bdist_wheel``           torch_tensorrt, no extension (py3-none-any)
  4. ``python setup.py bdist_wheel --jetpack --py-only`` torch_tensorrt for JetPack: no tensorrt dep

Then the RTX wheel is installed with ``pip install --no-deps`` into ``python -m venv
--system-site-packages`` and a tiny conv model is compiled on CPU from outside the source tree.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]  # resolve(): also right from Bazel's runfiles symlinks
VERSION_FILE = REPO / "py" / "torch_tensorrt" / "_version.py"

pytestmark = pytest.mark.slow

# Environment variables that change what setup.py builds; cleared so every build says what it builds.
_SDK_LOCATIONS = json.loads((REPO / "third_party" / "tensorrt" / "sdk_locations.json").read_text())
_SDK_VARIABLES = [v for sdk in _SDK_LOCATIONS["sdks"].values() for v in sdk["variables"]]
_BUILD_ENV = ("USE_TRT_RTX", "JETPACK", "PY_ONLY", *_SDK_VARIABLES, _SDK_LOCATIONS["sysroot_variable"])

# Anything of this shape inside a wheel is test code or build junk.
_JUNK = [
    re.compile(p)
    for p in (
        r"(^|/)tests?/",
        r"(^|/)test_[^/]*\.py$",
        r"(^|/)conftest\.py$",
        r"(^|/)__pycache__/",
        r"\.py[co]$",
        r"\.(o|obj|a|lib|exp|pdb|d)$",
        r"(^|/)\.ninja_\w+$",
        r"(^|/)build\.ninja$",
        r"\.egg-info/",
        r"(^|/)(BUILD|BUILD\.bazel|WORKSPACE|MODULE\.bazel|\w+\.bzl)$",
        r"(^|/)(core|third_party|toolchains|tools|scripts|benchmarks|examples)/",
        r"(^|/)bazel-",
        r"(^|/)\.(git|hypothesis|pytest_cache|ruff_cache)",
        r"\.cpp$|\.h$",
    )
]


def _version() -> str:
    scope: dict[str, str] = {}
    exec(VERSION_FILE.read_text(), scope)  # noqa: S102 - our own version file
    return scope["__version__"]


def _env(no_sdk_root: Path | None = None, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _BUILD_ENV}
    if no_sdk_root is not None:  # an empty sysroot: /usr/local/TensorRT, /usr/include/<triple> are not seen
        env[_SDK_LOCATIONS["sysroot_variable"]] = str(no_sdk_root)
    env.update(changes)
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}) in {cwd}\n"
            f"--- stdout (tail) ---\n{proc.stdout[-4000:]}\n--- stderr (tail) ---\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def _copy_sources(dst: Path) -> None:
    dst.mkdir()
    for name in os.listdir(REPO):
        if (REPO / name).is_file() and not name.startswith("."):
            shutil.copy2(REPO / name, dst / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.egg-info", "BUILD.bazel")
    for sub in ("py", "core", "tools/packaging", "third_party/tensorrt"):
        shutil.copytree(REPO / sub, dst / sub, ignore=junk, symlinks=False)


def _only_wheel(directory: Path) -> Path:
    wheels = sorted(directory.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {directory}, found {[w.name for w in wheels]}"
    return wheels[0]


class Wheel:
    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as zf:
            self.names = zf.namelist()
            meta_name = next(n for n in self.names if n.endswith(".dist-info/METADATA"))
            self.metadata = email.parser.Parser().parsestr(zf.read(meta_name).decode())
            self.build_info = zf.read("torch_tensorrt/_build_info.py").decode()

    @property
    def requires(self) -> list[str]:
        return [re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0].lower() for r in self.metadata.get_all("Requires-Dist", [])]

    @property
    def extension(self) -> list[str]:
        return [n for n in self.names if re.fullmatch(r"torch_tensorrt/_C\.[^/]*\.(so|pyd)", n)]

    def build_value(self, key: str) -> object:
        scope: dict[str, object] = {}
        exec(self.build_info, scope)  # noqa: S102 - generated by our setup.py
        return scope[key]


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("wheels")
    src = root / "src"
    _copy_sources(src)
    no_sdk = root / "empty_sysroot"
    no_sdk.mkdir()
    py = sys.executable
    built: dict[str, Wheel] = {}

    _run([py, "setup.py", "-q", "bdist_wheel", "--use-rtx", "-d", str(root / "rtx")], src, _env(no_sdk))
    built["rtx"] = Wheel(_only_wheel(root / "rtx"))

    _run(
        [py, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", ".", "-w", str(root / "standard")],
        src,
        _env(no_sdk),
    )
    built["standard"] = Wheel(_only_wheel(root / "standard"))

    _run([py, "setup.py", "-q", "bdist_wheel", "-d", str(root / "py_only")], src, _env(no_sdk, PY_ONLY="1"))
    built["py_only"] = Wheel(_only_wheel(root / "py_only"))

    jetpack_args = [py, "setup.py", "-q", "bdist_wheel", "--jetpack", "--py-only", "-d", str(root / "jetpack")]
    _run(jetpack_args, src, _env(no_sdk))
    built["jetpack"] = Wheel(_only_wheel(root / "jetpack"))
    return built


def test_wheel_names(wheels: dict[str, Wheel]) -> None:
    ver = re.escape(_version())
    platform_tag = r"cp\d+-cp\d+-[\w.]+"
    assert re.fullmatch(rf"torch_tensorrt_rtx-{ver}-{platform_tag}\.whl", wheels["rtx"].path.name)
    assert re.fullmatch(rf"torch_tensorrt-{ver}-{platform_tag}\.whl", wheels["standard"].path.name)
    assert re.fullmatch(rf"torch_tensorrt-{ver}-py3-none-any\.whl", wheels["py_only"].path.name)
    assert re.fullmatch(rf"torch_tensorrt-{ver}-py3-none-any\.whl", wheels["jetpack"].path.name)


def test_metadata_names_and_requirements(wheels: dict[str, Wheel]) -> None:
    rtx, std, py_only, jetpack = (wheels[k] for k in ("rtx", "standard", "py_only", "jetpack"))
    assert rtx.metadata["Name"].replace("-", "_") == "torch_tensorrt_rtx"
    for w in (std, py_only, jetpack):
        assert w.metadata["Name"].replace("-", "_") == "torch_tensorrt"
    for w in wheels.values():
        assert w.metadata["Version"] == _version()
        assert "torch" in w.requires

    assert "tensorrt-rtx" in rtx.requires and "tensorrt" not in rtx.requires
    for w in (std, py_only):
        assert "tensorrt" in w.requires and "tensorrt-rtx" not in w.requires
    assert not {"tensorrt", "tensorrt-rtx"} & set(jetpack.requires), "JetPack brings its own TensorRT"


def test_extension_present_only_when_built(wheels: dict[str, Wheel]) -> None:
    assert len(wheels["rtx"].extension) == 1, wheels["rtx"].names
    assert len(wheels["standard"].extension) == 1, wheels["standard"].names
    assert wheels["py_only"].extension == []
    assert wheels["jetpack"].extension == []


def test_same_import_name_and_build_info(wheels: dict[str, Wheel]) -> None:
    expected = {
        "rtx": ("torch_tensorrt_rtx", "rtx", "tensorrt-rtx", True),
        "standard": ("torch_tensorrt", "standard", "tensorrt", True),
        "py_only": ("torch_tensorrt", "standard", "tensorrt", False),
        "jetpack": ("torch_tensorrt", "jetpack", None, False),
    }
    for key, (dist, flavour, requirement, cpp) in expected.items():
        w = wheels[key]
        assert "torch_tensorrt/__init__.py" in w.names
        assert not [n for n in w.names if n.startswith("torch_tensorrt_rtx/")], "one import name for all"
        got = tuple(w.build_value(k) for k in ("DISTRIBUTION", "FLAVOUR", "TENSORRT_REQUIREMENT", "CPP_RUNTIME"))
        assert got == (dist, flavour, requirement, cpp), key
        assert w.build_value("TENSORRT_SDK") is False  # SDK variables cleared for these builds
        assert w.build_value("TENSORRT_SDK_VERSION") is None and w.build_value("TENSORRT_SDK_INCLUDE_DIR") is None
        # The C++ runtime's defines: IRuntimeConfig (not jetpack), no SDK; none without the extension.
        expected_defines = ("TRT_HAS_IRUNTIME_CONFIG", "TRT_NO_SDK") if cpp else ()
        assert w.build_value("DEFINES") == expected_defines, key


def test_no_tests_or_build_junk(wheels: dict[str, Wheel]) -> None:
    for key, w in wheels.items():
        junk = [n for n in w.names if any(p.search(n) for p in _JUNK)]
        assert junk == [], f"{key} wheel contains {junk}"
        top = {n.split("/", 1)[0] for n in w.names}
        assert {t for t in top if not t.endswith(".dist-info")} == {"torch_tensorrt"}, f"{key}: {sorted(top)}"


_SMOKE = textwrap.dedent(
    """
    import importlib.metadata, json, os, sys
    import torch
    import torch_tensorrt
    import torch_tensorrt.testing
    from torch_tensorrt import _build_info
    from torch_tensorrt.dynamo.runtime import TorchTensorRTModule

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU()).eval()
    x = torch.randn(1, 3, 8, 8)
    # Built for real by TensorRT-RTX on the CPU; run by the emulated runtime (there is no GPU), which
    # records networks only for engines built inside it.
    with torch_tensorrt.testing.emulated_runtime(persist=False):
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[x], min_block_size=1)
        out = compiled(x)
    engines = [m for m in compiled.modules() if isinstance(m, TorchTensorRTModule)]
    torch.testing.assert_close(out, model(x), rtol=1e-3, atol=1e-3)
    print(json.dumps({
        "file": os.path.realpath(torch_tensorrt.__file__),
        "prefix": os.path.realpath(sys.prefix),
        "flavour": _build_info.FLAVOUR,
        "distribution": _build_info.DISTRIBUTION,
        "version": importlib.metadata.version("torch_tensorrt_rtx"),
        "engines": len(engines),
        "cpp_runtime": torch_tensorrt.ENABLED_FEATURES.torch_tensorrt_runtime,
        "tensorrt_rtx": torch_tensorrt.ENABLED_FEATURES.tensorrt_rtx,
    }))
    """
)


def test_rtx_wheel_in_fresh_venv_compiles_on_cpu(wheels: dict[str, Wheel], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path, _env())
    vpy = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(
        [str(vpy), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels["rtx"].path)],
        tmp_path,
        _env(),
    )
    workdir = tmp_path / "elsewhere"  # outside the source tree: nothing can import the checkout
    workdir.mkdir()
    env = _env(TORCH_TENSORRT_CACHE_DIR=str(tmp_path / "cache"), TORCH_TENSORRT_EMULATION_DIR=str(tmp_path / "emu"))
    env.pop("PYTHONPATH", None)
    lines = _run([str(vpy), "-c", _SMOKE], workdir, env).strip().splitlines()
    result = json.loads(lines[-1])
    assert result["file"].startswith(str(venv.resolve())), f"imported {result['file']}, not the venv's wheel"
    assert result["flavour"] == "rtx" and result["distribution"] == "torch_tensorrt_rtx"
    assert result["version"] == _version()
    assert result["engines"] == 1
    assert result["tensorrt_rtx"] is True
    assert result["cpp_runtime"] is True, "the wheel's C++ runtime extension did not load"
