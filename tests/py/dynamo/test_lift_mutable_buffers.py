"""convert_exported_program_to_serialized_trt_engine(lift_mutable_buffers=True): mutated buffers become engine
inputs (buf_<name>, after the user's) that TensorRT's KV-cache update layer writes in place, through outputs aliased
to them (after the user's). Engines are built by the real TensorRT-RTX builder on the CPU; they run under
emulated_runtime() (deserializing needs a GPU), whose engine reports the aliasing from the recorded network as
ICudaEngine.get_aliased_input_tensor does on a GPU. The runtime tests run on both runtimes: the C++ one (its
execute_engine and engine class, through the emulated runtime's dispatcher backend) binds aliased outputs to
the caller's tensors as the Python one does."""

from __future__ import annotations

import pytest
import torch

import torch_tensorrt
from torch_tensorrt import _trt
from torch_tensorrt.dynamo._binding_names import BindingNameError
from torch_tensorrt.dynamo.runtime import TorchTensorRTModule
from torch_tensorrt.testing import emulated_runtime
from torch_tensorrt.testing._reference._kv_cache import kv_cache_aliases

export_engine = torch_tensorrt.dynamo.convert_exported_program_to_serialized_trt_engine
KV = "kv_cache_update"
TOLERANCE = {torch.float32: {"rtol": 1e-5, "atol": 1e-5}, torch.float16: {"rtol": 1e-2, "atol": 1e-2}}
# use_python_runtime per runtime: the C++ runtime runs under emulated_runtime() when torch_tensorrt._C is built.
RUNTIMES = pytest.mark.parametrize(
    "use_python_runtime",
    [
        pytest.param(True, id="python"),
        pytest.param(
            False, id="cpp",
            marks=pytest.mark.skipif(not _trt.ENABLED_FEATURES.torch_tensorrt_runtime, reason="torch_tensorrt._C not built"),
        ),
    ],
)  # fmt: skip


class _SliceWrite(torch.nn.Module):
    """Torch-TensorRT's test model: one position written by slice assignment, the whole cache read."""

    def __init__(self, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.register_buffer("cache", torch.zeros(1, 4, 16, 8, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.cache[:, :, 3:4, :] = x
        return self.cache.sum()


class _Decoder(torch.nn.Module):
    """A decode step: keys and values written at a run-time position (index_copy_), attention over the cache."""

    def __init__(self, dtype: torch.dtype) -> None:
        super().__init__()
        self.attn = torch.nn.Module()
        self.attn.register_buffer("k", torch.zeros(2, 3, 8, 4, dtype=dtype))
        self.attn.register_buffer("v", torch.zeros(2, 3, 8, 4, dtype=dtype))

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        self.attn.k.index_copy_(2, pos, k)
        self.attn.v.index_copy_(2, pos, v)
        weights = torch.softmax(q @ self.attn.k.transpose(-1, -2), dim=-1)
        return weights @ self.attn.v


def _record(backend: object, engine: bytes) -> object:
    return backend.store.get(engine, "exported")  # type: ignore[attr-defined]


def test_engine_takes_the_buffer_after_the_user_inputs_and_aliases_an_output_to_it() -> None:
    x = torch.ones(1, 4, 1, 8)
    program = torch.export.export(_SliceWrite(), (x,))
    with emulated_runtime(persist=False) as backend:
        lifted = export_engine(program, arg_inputs=[x], lift_mutable_buffers=True)
        baked = export_engine(program, arg_inputs=[x])
        record = _record(backend, lifted)
        assert [s.name for s in record.inputs] == ["x", "buf_cache"]
        assert record.outputs == ["output0", "output1"]
        assert kv_cache_aliases(record) == {"output1": "buf_cache"}
        assert [layer.type for layer in record.layers].count("KV_CACHE_UPDATE") == 1
        # Without the flag the buffer's new value is an ordinary output that PyTorch copies back.
        assert kv_cache_aliases(_record(backend, baked)) == {}
    assert b"buf_cache" in lifted and b"buf_cache" not in baked


def test_requested_binding_names_and_lifted_names_together() -> None:
    x = torch.ones(1, 4, 1, 8)
    program = torch.export.export(_SliceWrite(), (x,))
    with emulated_runtime(persist=False) as backend:
        engine = export_engine(
            program, arg_inputs=[x], lift_mutable_buffers=True,
            arg_input_binding_names=("tokens",), kwarg_input_binding_names={}, output_binding_names="total",
        )  # fmt: skip
        record = _record(backend, engine)
        assert [s.name for s in record.inputs] == ["tokens", "buf_cache"]
        assert record.outputs == ["total", "buf_cache_updated"]
        assert kv_cache_aliases(record) == {"buf_cache_updated": "buf_cache"}
    with pytest.raises(BindingNameError, match="buf_cache"):
        export_engine(program, arg_inputs=[x], lift_mutable_buffers=True, output_binding_names="buf_cache")


def _decoder_engine(dtype: torch.dtype) -> tuple[_Decoder, bytes, list[torch.Tensor]]:
    model = _Decoder(dtype)
    example = [torch.randn(2, 3, 1, 4, dtype=dtype) for _ in range(3)] + [torch.tensor([0])]
    program = torch.export.export(_Decoder(dtype), tuple(example))
    return model, export_engine(program, arg_inputs=example, lift_mutable_buffers=True), example


@RUNTIMES
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_buffers_are_updated_in_place_across_calls_as_in_eager(dtype: torch.dtype, use_python_runtime: bool) -> None:
    torch.manual_seed(0)
    with emulated_runtime(persist=False) as backend:
        model, engine, _ = _decoder_engine(dtype)
        record = _record(backend, engine)
        names = [s.name for s in record.inputs]
        assert names == ["q", "k", "v", "pos", "buf_attn_k", "buf_attn_v"]
        assert kv_cache_aliases(record) == {"output1": "buf_attn_k", "output2": "buf_attn_v"}
        module = TorchTensorRTModule(
            serialized_engine=engine, input_binding_names=names, output_binding_names=record.outputs,
            aliased_io={"output1": ("buf_attn_k", KV), "output2": ("buf_attn_v", KV)},
            use_python_runtime=use_python_runtime,
        )  # fmt: skip
        k_cache, v_cache = torch.zeros_like(model.attn.k), torch.zeros_like(model.attn.v)
        k_address = k_cache.data_ptr()
        for step in range(4):  # each step attends over every position written so far
            q, k, v = (torch.randn(2, 3, 1, 4, dtype=dtype) for _ in range(3))
            pos = torch.tensor([step])
            expected = model(q, k, v, pos)
            got = module(q, k, v, pos, k_cache, v_cache)
            assert isinstance(got, torch.Tensor)  # the aliased outputs are not returned
            torch.testing.assert_close(got, expected, **TOLERANCE[dtype])
            torch.testing.assert_close(k_cache, model.attn.k, rtol=0, atol=0)  # copies: exact
            torch.testing.assert_close(v_cache, model.attn.v, rtol=0, atol=0)
        assert k_cache.data_ptr() == k_address
        assert int((k_cache[:, :, 4:] != 0).sum()) == 0 and bool((k_cache[:, :, :4] != 0).any())
        assert module.runs_in_cpp() is (not use_python_runtime)


@RUNTIMES
def test_slice_write_state_persists_as_in_torch_tensorrt(use_python_runtime: bool) -> None:
    x = torch.ones(1, 4, 1, 8)
    with emulated_runtime(persist=False):
        engine = export_engine(torch.export.export(_SliceWrite(), (x,)), arg_inputs=[x], lift_mutable_buffers=True)
        module = TorchTensorRTModule(
            serialized_engine=engine, input_binding_names=["x", "buf_cache"],
            output_binding_names=["output0", "output1"], aliased_io={"output1": ("buf_cache", KV)},
            use_python_runtime=use_python_runtime,
        )  # fmt: skip
        cache = torch.zeros(1, 4, 16, 8)
        cache[:, :, 0] = 2.0  # positions the engine does not write keep their values
        for scale, total in ((1.0, 64.0 + 32.0), (5.0, 64.0 + 160.0), (0.0, 64.0)):
            result = module(torch.full((1, 4, 1, 8), scale), cache)
            torch.testing.assert_close(result, torch.tensor(total), rtol=1e-6, atol=1e-6)
            torch.testing.assert_close(cache.sum(), torch.tensor(total), rtol=1e-6, atol=1e-6)


class _AddState(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("state", torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.state.add_(x)
        return self.state.sum()


class _WriteAlongHeads(_SliceWrite):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.cache[:, 1:2] = x.reshape(1, 1, 16, 8)[:, :, :16]
        return self.cache.sum()


class _ReadsOldValue(_SliceWrite):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        before = self.cache.sum()
        self.cache[:, :, 3:4, :] = x
        return before


class _IntCache(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("cache", torch.zeros(1, 4, 16, 8, dtype=torch.int32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.cache[:, :, 3:4, :] = x
        return self.cache.sum()


@pytest.mark.parametrize(
    ("model", "example", "reason"),
    [
        (_AddState(), torch.ones(4), "add.Tensor, which TensorRT cannot write in place"),
        (_WriteAlongHeads(), torch.ones(128), "writes along dim 1"),
        (_ReadsOldValue(), torch.ones(1, 4, 1, 8), "also reads the buffer's previous value"),
        (_IntCache(), torch.ones(1, 4, 1, 8, dtype=torch.int32), "torch.int32 is not float32"),
    ],
)
def test_writes_the_engine_cannot_alias_are_refused_naming_the_buffer(
    model: torch.nn.Module, example: torch.Tensor, reason: str
) -> None:
    program = torch.export.export(model, (example,))
    with pytest.raises(RuntimeError, match="cannot express the write-back") as info:
        export_engine(program, arg_inputs=[example], lift_mutable_buffers=True)
    buffer = "state" if isinstance(model, _AddState) else "cache"
    assert f"['{buffer}']" in str(info.value) and reason in str(info.value)


def _slice_module(**overrides: object) -> tuple[TorchTensorRTModule, bytes]:
    x = torch.ones(1, 4, 1, 8)
    engine = export_engine(torch.export.export(_SliceWrite(), (x,)), arg_inputs=[x], lift_mutable_buffers=True)
    options: dict[str, object] = {
        "serialized_engine": engine, "input_binding_names": ["x", "buf_cache"],
        "output_binding_names": ["output0", "output1"], "aliased_io": {"output1": ("buf_cache", KV)},
        "use_python_runtime": True,
    }  # fmt: skip
    options.update(overrides)
    return TorchTensorRTModule(**options), engine  # type: ignore[arg-type]


@RUNTIMES
def test_module_refuses_a_non_contiguous_buffer_and_a_wrong_declaration(use_python_runtime: bool) -> None:
    with emulated_runtime(persist=False):
        module, _ = _slice_module(use_python_runtime=use_python_runtime)
        strided = torch.zeros(1, 4, 8, 16).transpose(2, 3)
        with pytest.raises(ValueError, match=r"must be a contiguous tensor.*buf_cache.contiguous\(\)"):
            module(torch.ones(1, 4, 1, 8), strided)
        assert float(strided.abs().sum()) == 0.0  # refused before anything ran
        wrong, _ = _slice_module(aliased_io={"output0": ("buf_cache", KV)}, use_python_runtime=use_python_runtime)
        with pytest.raises(RuntimeError, match="declares {'output0': 'buf_cache'}, but the engine aliases {'output1'"):
            wrong(torch.ones(1, 4, 1, 8), torch.zeros(1, 4, 16, 8))
        # Undeclared, the engine's aliasing still holds (bound in place) and every output is returned, as upstream.
        undeclared, _ = _slice_module(aliased_io=None, use_python_runtime=use_python_runtime)
        cache = torch.zeros(1, 4, 16, 8)
        total, updated = undeclared(torch.ones(1, 4, 1, 8), cache)
        assert updated is cache and float(total) == 32.0 and float(cache.sum()) == 32.0
    with pytest.raises(ValueError, match="outputs are"):
        _slice_module(aliased_io={"nope": ("buf_cache", KV)})
    with pytest.raises(ValueError, match="only 'kv_cache_update'"):
        _slice_module(aliased_io={"output1": ("buf_cache", "user")})


@RUNTIMES
def test_a_torch_cuda_graph_of_an_aliased_engine_is_refused_before_running(use_python_runtime: bool) -> None:
    # Standard TensorRT captures an engine in a torch CUDA graph (cudagraphs mode), which replays copies of the
    # inputs: the write would miss the caller's buffer. Both runtimes refuse it, emulated as on a GPU.
    refusal = (
        r"writes its inputs in place \(aliased outputs \['output1'\]\), which a torch CUDA graph replaying "
        "copies of the inputs cannot do; run it without enable_cudagraphs"
    )
    with _trt.override_features(tensorrt_rtx=False), emulated_runtime(persist=False):
        module, _ = _slice_module(use_python_runtime=use_python_runtime)
        cache = torch.zeros(1, 4, 16, 8)
        with torch_tensorrt.runtime.set_cudagraphs_mode(True), pytest.raises(RuntimeError, match=refusal):
            module(torch.ones(1, 4, 1, 8), cache)
        assert float(cache.abs().sum()) == 0.0  # nothing ran
        # Without the mode the same module runs and writes the caller's buffer.
        torch.testing.assert_close(module(torch.ones(1, 4, 1, 8), cache), torch.tensor(32.0), rtol=0, atol=0)
        assert float(cache.sum()) == 32.0


def test_both_runtimes_write_the_same_buffers_and_return_the_same_outputs() -> None:
    if not _trt.ENABLED_FEATURES.torch_tensorrt_runtime:
        pytest.skip("torch_tensorrt._C not built: there is one runtime")
    torch.manual_seed(1)
    with emulated_runtime(persist=False) as backend:
        model, engine, _ = _decoder_engine(torch.float32)
        record = _record(backend, engine)
        modules = [
            TorchTensorRTModule(
                serialized_engine=engine,
                input_binding_names=[s.name for s in record.inputs],
                output_binding_names=record.outputs,
                aliased_io=kv_cache_aliases(record),
                use_python_runtime=flag,
            )  # fmt: skip
            for flag in (True, False)
        ]
        caches = [(torch.zeros_like(model.attn.k), torch.zeros_like(model.attn.v)) for _ in modules]
        for step in range(3):
            q, k, v = (torch.randn(2, 3, 1, 4) for _ in range(3))
            results = [m(q, k, v, torch.tensor([step]), *c) for m, c in zip(modules, caches)]
            torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)  # one emulator: identical
            for python_cache, cpp_cache in zip(*caches):
                torch.testing.assert_close(python_cache, cpp_cache, rtol=0, atol=0)
        assert modules[1].engine.aliased_outputs == {"output1": 4, "output2": 5}
        assert modules[0].python_engine._aliased == {"output1": 4, "output2": 5}


class _PlanStandIn:
    """What the TensorRT backend reads of an ICudaEngine (deserializing a real one needs a GPU)."""

    names = ("x", "buf_cache", "output0", "output1")

    def __init__(self, aliases: dict[str, str]) -> None:
        self.num_io_tensors, self.aliases = len(self.names), aliases

    def get_tensor_name(self, index: int) -> str:
        return self.names[index]

    def get_tensor_mode(self, name: str) -> object:
        from torch_tensorrt._trt import trt

        return trt.TensorIOMode.INPUT if name in self.names[:2] else trt.TensorIOMode.OUTPUT

    def get_tensor_dtype(self, name: str) -> object:
        from torch_tensorrt._trt import trt

        return trt.float32

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return (1, 4, 16, 8)

    def get_tensor_location(self, name: str) -> object:
        from torch_tensorrt._trt import trt

        return trt.TensorLocation.DEVICE

    def get_aliased_input_tensor(self, name: str) -> str:
        return self.aliases.get(name, "")  # TensorRT's answer for an output that aliases nothing


def test_tensorrt_backend_asks_the_engine_which_outputs_alias_inputs() -> None:
    from torch_tensorrt.dynamo.runtime._aliased_io import engine_aliases
    from torch_tensorrt.dynamo.runtime._runtime_backend import _TensorRTEngine

    handle = _TensorRTEngine(_PlanStandIn({"output1": "buf_cache"}))
    assert (handle.aliased_input("output1"), handle.aliased_input("output0")) == ("buf_cache", None)
    assert engine_aliases(handle, ["x", "buf_cache"]) == {"output1": 1}
    with pytest.raises(RuntimeError, match="aliased to input buf_cache, which is not one of the engine info's inputs"):
        engine_aliases(handle, ["x", "cache"])


def test_an_engine_that_would_not_write_a_lifted_buffer_in_place_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The built network is the ground truth: a write classified as in place that the converter built out of
    # place (here: the KV-cache update emission switched off) must not come back as an engine.
    from torch_tensorrt.dynamo.conversion.converters import slicing

    monkeypatch.setattr(slicing, "emit_kv_cache_update", lambda *args: None)
    x = torch.ones(1, 4, 1, 8)
    with pytest.raises(RuntimeError, match=r"does not write buffer input\(s\) \['buf_cache'\] in place"):
        export_engine(torch.export.export(_SliceWrite(), (x,)), arg_inputs=[x], lift_mutable_buffers=True)


class _KeywordInput(_SliceWrite):
    def forward(self, x: torch.Tensor, *, scale: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        self.cache[:, :, 3:4, :] = x * scale
        return self.cache.sum()


@RUNTIMES
def test_lifted_buffers_come_after_keyword_inputs_too(use_python_runtime: bool) -> None:
    x, scale = torch.ones(1, 4, 1, 8), torch.full((1,), 2.0)
    program = torch.export.export(_KeywordInput(), (x,), {"scale": scale})
    with emulated_runtime(persist=False) as backend:
        engine = export_engine(program, arg_inputs=[x], kwarg_inputs={"scale": scale}, lift_mutable_buffers=True)
        record = _record(backend, engine)
        assert [s.name for s in record.inputs] == ["x", "scale", "buf_cache"]
        module = TorchTensorRTModule(
            serialized_engine=engine, input_binding_names=["x", "scale", "buf_cache"],
            output_binding_names=record.outputs, aliased_io=kv_cache_aliases(record),
            use_python_runtime=use_python_runtime,
        )  # fmt: skip
        cache = torch.zeros(1, 4, 16, 8)
        torch.testing.assert_close(module(x, scale, cache), torch.tensor(64.0), rtol=1e-6, atol=1e-6)
        assert float(cache[:, :, 3].sum()) == 64.0


class _ConstantWrite(torch.nn.Module):
    """A constant written into the buffer (another buffer, baked into the engine): TensorRT-RTX 1.7's builder
    fails on a KV-cache update of a constant, so it is refused before any build."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("cache", torch.zeros(1, 4, 16, 8))
        self.register_buffer("row", torch.full((1, 4, 1, 8), 3.0))

    def forward(self) -> torch.Tensor:
        self.cache[:, :, 5:6, :] = self.row
        return self.cache.sum()


def test_a_constant_write_is_refused_before_the_build() -> None:
    with pytest.raises(RuntimeError, match=r"(?s)\['cache'\].*the written value is a constant"):
        export_engine(torch.export.export(_ConstantWrite(), ()), arg_inputs=[], lift_mutable_buffers=True)
