"""The command line (`python -m torch_tensorrt`, console script `torch-tensorrt`), run as a user runs it:
in subprocesses, with the runtime cache and emulation store in temporary directories.

Tiny models keep it quick: an MLP with a dynamic batch for the compile -> inspect -> validate round
trip, a program whose engine was swapped for another model's (validate must fail), and one small
torchvision model. Parsing details run in process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

import torch_tensorrt
from torch_tensorrt.cli import main
from torch_tensorrt.cli._parsing import UsageError, parse_input, parse_settings
from torch_tensorrt.dynamo._program_archive import read_program_archive, save_with_reference

REPO = Path(__file__).resolve().parents[2]
BATCH = torch_tensorrt.Input(min_shape=(1, 4), opt_shape=(2, 4), max_shape=(8, 4))


def mlp(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    env = dict(os.environ)
    env["TORCH_TENSORRT_CACHE_DIR"] = str(root / "runtime_cache")
    env["TORCH_TENSORRT_EMULATION_DIR"] = str(root / "emulation")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "py"), env.get("PYTHONPATH", "")])
    return env


def cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "torch_tensorrt", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def exported(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain torch.export program (dynamic batch 1..8), as a user would bring one."""
    path = tmp_path_factory.mktemp("exported") / "mlp.pt2"
    program = torch.export.export(
        mlp(0), (torch.randn(2, 4),), dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=8)},)
    )
    torch.export.save(program, path)
    return path


@pytest.fixture(scope="module")
def compiled(env: dict[str, str], exported: Path) -> tuple[Path, dict[str, Any], str]:
    """`compile mlp.pt2 --json`: (the saved program, the JSON report, stderr)."""
    out = exported.parent / "out" / "mlp_trt.pt2"
    result = cli(env, "compile", str(exported), "-o", str(out), "--setting", "min_block_size=1", "--json")
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout), result.stderr


# ------------------------------------------------------------------------------------------------
# compile -> inspect -> validate


def test_compile_json_report(compiled: tuple[Path, dict[str, Any], str], env: dict[str, str]) -> None:
    out, report, stderr = compiled
    assert out.is_file() and report["output"] == str(out) and report["output_bytes"] == out.stat().st_size
    assert report["summary"]["engines"] and len(report["summary"]["engines"]) == 1
    assert report["summary"]["fallback_ops"] == {}
    assert report["reference"] is True and report["network_store"] == env["TORCH_TENSORRT_EMULATION_DIR"]
    assert report["validate_command"] == f"python -m torch_tensorrt validate {out}"
    assert "..." not in stderr, "--json must print no progress lines"
    # The file is an ordinary program too: torch_tensorrt.load takes it and ignores the reference.
    assert isinstance(torch_tensorrt.load(out), torch.export.ExportedProgram)
    assert read_program_archive(out).reference is not None


def test_inspect_json(compiled: tuple[Path, dict[str, Any], str], env: dict[str, str]) -> None:
    from torch_tensorrt.dynamo.runtime._engine_layout import current_platform

    out, compile_report, _ = compiled
    result = cli(env, "inspect", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [i["min"] for i in report["inputs"]] == [[1, 4]] and [i["max"] for i in report["inputs"]] == [[8, 4]]
    (engine,) = report["engines"]
    assert engine["engine_bytes"] == compile_report["summary"]["engines"][0]["engine_bytes"]
    assert engine["target_platform"] == current_platform() and engine["runs_on_this_platform"]
    (binding,) = engine["inputs"]
    assert binding["dtype"] == "float32" and binding["profile"]["min"] == [1, 4] and binding["profile"]["max"] == [8, 4]
    assert [o["dtype"] for o in engine["outputs"]] == ["float32"]
    assert engine["network_recorded"] is True and report["reference"]["ops"] > 0
    assert report["pytorch_ops"] == {}


def test_validate_round_trip_passes(compiled: tuple[Path, dict[str, Any], str], env: dict[str, str]) -> None:
    out, _, _ = compiled
    result = cli(env, "validate", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    for case, shape in (("min", "1x4"), ("example", "2x4"), ("max", "8x4")):
        assert f"inputs at {case} sizes ({shape})" in result.stdout
    assert "input case max (8x4)..." in result.stderr  # progress


def test_validate_fails_when_the_engine_is_another_models(
    compiled: tuple[Path, dict[str, Any], str], env: dict[str, str], tmp_path: Path
) -> None:
    """Same signature, other weights: the engine of mlp(1) in a file whose reference is mlp(0)."""
    from torch_tensorrt.testing import emulated_runtime

    out, _, _ = compiled
    other = tmp_path / "other.pt2"
    program = torch_tensorrt.dynamo.trace(mlp(1), [BATCH])
    with emulated_runtime(env["TORCH_TENSORRT_EMULATION_DIR"]):
        swapped = torch_tensorrt.dynamo.compile(program, arg_inputs=[BATCH], min_block_size=1)
    save_with_reference(swapped, other, read_program_archive(out).reference)  # type: ignore[arg-type]
    result = cli(env, "validate", str(other), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is False and report["error"] == ""
    worst = max(o["max_rel_error"] for c in report["cases"] for o in c["outputs"])
    assert worst > 0.05, report  # not a rounding difference


def test_validate_without_network_records(
    compiled: tuple[Path, dict[str, Any], str], env: dict[str, str], tmp_path: Path
) -> None:
    out, _, _ = compiled
    result = cli(env, "validate", str(out), "--store", str(tmp_path / "empty"))
    assert result.returncode == 1
    assert "no network recorded" in result.stdout and "FAILED" in result.stdout


def test_torchvision_model_compiles_and_validates(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "r18.pt2"
    result = cli(
        env, "compile", "torchvision:resnet18", "--input", "1x3x64x64", "--setting", "min_block_size=1", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    for step in ("building torchvision:resnet18...", "tracing...", "building engine 1/1 (_run_on_acc_0)...", "saving"):
        assert step in result.stderr
    assert f"validate it (any process on this machine): python -m torch_tensorrt validate {out}" in result.stdout
    assert "ops left to PyTorch: 0" in result.stdout
    result = cli(env, "validate", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inputs at static shapes (1x3x64x64)" in result.stdout and "of the output's scale" in result.stdout


def test_hugging_face_model_by_type_compiles_and_validates(env: dict[str, str], tmp_path: Path) -> None:
    """hf:gpt2 from its config class (no download), dynamic ids, outputs in transformers' ModelOutput."""
    pytest.importorskip("transformers")
    out = tmp_path / "gpt2.pt2"
    config = [
        "--hf-config",
        "n_layer=1",
        "--hf-config",
        "n_embd=32",
        "--hf-config",
        "n_head=2",
        "--hf-config",
        "vocab_size=96",
    ]
    ids = "min=1x2,opt=1x8,max=2x16@int64"
    result = cli(
        env, "compile", "hf:gpt2", *config, "--input", ids, "--setting", "min_block_size=1", "-o", str(out), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["fallback_ops"] == {}
    result = cli(env, "validate", str(out), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [c["input_shapes"] for c in report["cases"]] == [[[1, 2]], [[2, 8]], [[2, 16]]]
    assert all(o["shape"][-1] == 96 for c in report["cases"] for o in c["outputs"])


def test_integer_inputs_index_their_embedding() -> None:
    """Token ids are drawn over the whole table they index (not only 0/1), and never beyond it."""
    from torch_tensorrt.testing._validation import input_cases

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(50, 4)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.embedding(ids.view(-1)) * mask.view(-1, 1)

    ids, mask = torch.zeros(2, 8, dtype=torch.int64), torch.ones(2, 8, dtype=torch.int64)
    program = torch.export.export(
        Model(),
        (ids, mask),
        dynamic_shapes=({1: torch.export.Dim("n", min=1, max=64)}, {1: torch.export.Dim("n", min=1, max=64)}),
    )
    cases = input_cases(program)
    assert [c.name for c in cases] == ["min", "example", "max"] and cases[2].shapes == [[2, 64], [2, 64]]
    drawn_ids = torch.cat([c.args[0].flatten() for c in cases])
    drawn_mask = torch.cat([c.args[1].flatten() for c in cases])
    assert 2 < int(drawn_ids.max()) < 50 and int(drawn_ids.min()) >= 0
    assert set(drawn_mask.tolist()) <= {0, 1}


# ------------------------------------------------------------------------------------------------
# Bad arguments: a message naming the problem, exit code 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compile", "torchvision:resnet18", "--setting", "min_blok_size=1"], "did you mean 'min_block_size'?"),
        (["cache", "clean"], "give exactly one of --all or --older-than DAYS"),
    ],
)
def test_bad_arguments_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    result = cli(env, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "usage: torch-tensorrt" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compile", "torchvision:resnet18", "--input", "1x3xax4"], "is not a shape; write sizes joined by 'x'"),
        (["compile", "torchvision:resnet181"], "torchvision has no model 'resnet181'"),
        (["compile", "hf:gpt2", "--hf-config", "n_layers=1"], "GPT2Config has no 'n_layers'"),
        (["compile", "torchvision:resnet18", "--hf-config", "n_layer=1"], "--hf-config applies to hf: models only"),
        (["validate", "x.pt2", "--rtol", "-1"], "--rtol must be >= 0"),
        (["inspect"], "the following arguments are required: PROGRAM"),
    ],
)
def test_bad_arguments_in_process(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_unreadable_program_exits_1_with_json_error(env: dict[str, str], tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pt2"
    bogus.write_bytes(b"not a zip archive")
    result = cli(env, "inspect", str(bogus), "--json")
    assert result.returncode == 1
    assert "not a readable zip archive" in json.loads(result.stdout)["error"]


# ------------------------------------------------------------------------------------------------
# cache list / clean


def test_cache_list_and_clean(compiled: tuple[Path, dict[str, Any], str], env: dict[str, str]) -> None:
    store = Path(env["TORCH_TENSORRT_EMULATION_DIR"])
    records = sorted(store.glob("*.network"))
    assert records, "compile records the engine's network"
    result = cli(env, "cache", "--json")
    assert result.returncode == 0, result.stderr
    caches = {c["name"]: c for c in json.loads(result.stdout)["caches"]}
    assert caches["emulation"]["kinds"]["record"]["files"] == len(records)
    assert caches["emulation"]["bytes"] == sum(r.stat().st_size for r in records)
    old = records[0]
    os.utime(old, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    result = cli(env, "cache", "clean", "--older-than", "2", "--only", "emulation", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["path"] for r in report["removed"]] == [str(old)] and not old.exists()
    assert all(r.exists() for r in records[1:])


@pytest.fixture
def cache_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    runtime, store = tmp_path / "rt", tmp_path / "emu"
    runtime.mkdir()
    store.mkdir()
    monkeypatch.setenv("TORCH_TENSORRT_CACHE_DIR", str(runtime))
    monkeypatch.setenv("TORCH_TENSORRT_EMULATION_DIR", str(store))
    # Never the real engine cache: `clean --all` cleans it too.
    monkeypatch.setattr("torch_tensorrt.dynamo._defaults.ENGINE_CACHE_DIR", str(tmp_path / "engine"))
    return runtime, store


def test_cache_clean_removes_only_cache_files(
    cache_dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from torch_tensorrt._file_lock import file_lock
    from torch_tensorrt.runtime._runtime_cache import LOCK_NAME

    runtime, store = cache_dirs
    record = "0" * 64
    names = (
        "a.trtcache",
        "b.trtcache",
        "b.trtcache.lock",
        "c.trtcache.lock",
        ".a.trtcache.x1.tmp",
        LOCK_NAME,
        "notes.txt",
    )
    for name in names:
        (runtime / name).write_bytes(b"x")
    for name in (f"{record}.network", f"{record}.tmp123", "unrelated.bin"):
        (store / name).write_bytes(b"y")
    with file_lock(runtime / "c.trtcache.lock", timeout=0):  # an earlier version's process holds its lock
        assert main(["cache", "clean", "--all", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    removed = sorted(Path(r["path"]).name for r in report["removed"])
    assert removed == [".a.trtcache.x1.tmp", f"{record}.network", "a.trtcache", "b.trtcache", "b.trtcache.lock"]
    # Kept: the directory lock, a held old lock, a store temporary being written, files that are not ours.
    assert sorted(Path(k["path"]).name for k in report["kept_in_use"]) == [f"{record}.tmp123", "c.trtcache.lock"]
    assert sorted(p.name for p in runtime.iterdir()) == [LOCK_NAME, "c.trtcache.lock", "notes.txt"]
    assert sorted(p.name for p in store.iterdir()) == [f"{record}.tmp123", "unrelated.bin"]


def test_cache_clean_waits_for_the_directory_lock(
    cache_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program saving its runtime cache holds the directory lock: nothing is deleted under it."""
    from torch_tensorrt._file_lock import file_lock
    from torch_tensorrt.cli import _cache
    from torch_tensorrt.runtime._runtime_cache import LOCK_NAME

    runtime, _ = cache_dirs
    (runtime / "a.trtcache").write_bytes(b"x")
    monkeypatch.setattr(_cache, "LOCK_TIMEOUT_S", 0.2)
    with file_lock(runtime / LOCK_NAME, timeout=0):
        assert main(["cache", "clean", "--all", "--only", "runtime"]) == 1
    assert "try again when no program is saving" in capsys.readouterr().out
    assert (runtime / "a.trtcache").exists()
    assert main(["cache", "clean", "--all", "--only", "runtime"]) == 0
    assert not (runtime / "a.trtcache").exists()


def test_cache_lists_and_cleans_the_engine_cache(
    cache_dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Entries a compile stored (cache_built_engines=True) are listed and cleaned under the engine cache's lock."""
    from torch_tensorrt.dynamo._engine_cache import LOCK_NAME, BaseEngineCache, CachedEngine, DiskEngineCache

    engine_dir = tmp_path / "engines"
    cache = DiskEngineCache(str(engine_dir), 1 << 20)
    key = "ab" * 32
    cache.save(key, BaseEngineCache.pack(CachedEngine(key, b"plan" * 100, (), ())))
    (engine_dir / f".{key}.trtengine.x1.tmp").write_bytes(b"t")
    (engine_dir / "notes.txt").write_bytes(b"n")
    assert main(["cache", "list", "--engine-cache-dir", str(engine_dir), "--json"]) == 0
    listed = {c["name"]: c for c in json.loads(capsys.readouterr().out)["caches"]}["engine"]
    assert listed["path"] == str(engine_dir)
    assert {k: v["files"] for k, v in listed["kinds"].items()} == {"entry": 1, "temporary": 1, "lock": 1}
    assert main(["cache", "clean", "--all", "--only", "engine", "--engine-cache-dir", str(engine_dir), "--json"]) == 0
    removed = sorted(Path(r["path"]).name for r in json.loads(capsys.readouterr().out)["removed"])
    assert removed == [f".{key}.trtengine.x1.tmp", f"{key}.trtengine"]
    assert sorted(p.name for p in engine_dir.iterdir()) == [LOCK_NAME, "notes.txt"]


# ------------------------------------------------------------------------------------------------
# In process: parsing, the entry points


def test_parse_input_forms() -> None:
    dynamic = parse_input("min=1x3x8x8,opt=4x3x8x8,max=8x3x8x8@float16", torch.float32)
    assert (dynamic.min_shape, dynamic.opt_shape, dynamic.max_shape) == ((1, 3, 8, 8), (4, 3, 8, 8), (8, 3, 8, 8))
    assert dynamic.dtype == torch.float16
    ids = parse_input("1x16@int64", torch.float32)
    assert ids.dtype == torch.int64 and tuple(ids.opt_shape) == (1, 16)
    with pytest.raises(UsageError, match="give all of min=, opt= and max="):
        parse_input("min=1x4,max=8x4", torch.float32)
    with pytest.raises(UsageError, match="unknown dtype 'float17'"):
        parse_input("1x4@float17", torch.float32)


def test_parse_settings_converts_by_field_type() -> None:
    settings = parse_settings(
        [
            "min_block_size=1",
            "optimization_level=none",
            "require_full_compilation=true",
            "compute_capabilities=8.6,8.9",
            "torch_executed_ops=aten.relu",
        ]
    )
    assert settings == {
        "min_block_size": 1,
        "optimization_level": None,
        "require_full_compilation": True,
        "compute_capabilities": ("8.6", "8.9"),
        "torch_executed_ops": ("aten.relu",),
    }
    with pytest.raises(UsageError, match="expected an integer"):
        parse_settings(["min_block_size=one"])
    with pytest.raises(UsageError, match="compute_capabilities"):
        parse_settings(["compute_capabilities=7.0"])  # the library's own check, before anything is built
    with pytest.raises(UsageError, match="given twice"):
        parse_settings(["debug=true", "debug=false"])


def test_console_script_entry_point() -> None:
    spec = importlib.util.spec_from_file_location("_torchtrt_setup_for_cli_test", REPO / "setup.py")
    assert spec is not None and spec.loader is not None
    setup_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_py)
    (entry,) = setup_py.CONSOLE_SCRIPTS
    name, target = (part.strip() for part in entry.split("="))
    module, function = target.split(":")
    assert name == "torch-tensorrt" and getattr(importlib.import_module(module), function) is main


def test_hf_model_from_config_without_download() -> None:
    pytest.importorskip("transformers")
    from torch_tensorrt.cli._models import resolve_model

    source = resolve_model("hf:gpt2", None, {"n_layer": 1, "n_embd": 32, "n_head": 2, "vocab_size": 64}, "auto")
    assert type(source.module).__name__ == "GPT2LMHeadModel" and source.module.config.n_layer == 1
    assert source.module.config.use_cache is False and source.default_inputs[0].dtype == torch.int64  # type: ignore[index]
    with pytest.raises(UsageError, match="has no 'n_layers'.*did you mean"):
        resolve_model("hf:gpt2", None, {"n_layers": 2}, "auto")
    with pytest.raises(UsageError, match="not a Hugging Face model type"):
        resolve_model("hf:openai-community/gpt2", None, {}, "auto")
