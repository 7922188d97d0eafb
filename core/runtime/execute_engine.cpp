#include "core/runtime/execute_engine.h"

#include <ATen/ops/empty.h>
#include <c10/core/DeviceGuard.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/CudaGraphPolicy.h"
#include "core/runtime/EngineInputChecks.h"
#include "core/runtime/EngineStreams.h"
#include "core/runtime/TorchOutputAllocator.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::atomic<int64_t> g_python_delegate_mode{static_cast<int64_t>(PythonDelegateMode::kNEVER)};


at::Tensor empty_on(c10::IntArrayRef shape, c10::ScalarType dtype, c10::Device device) {
  return at::empty(shape, at::TensorOptions().dtype(dtype).device(device));
}

void* address_of(const at::Tensor& t, std::vector<at::Tensor>& keep_alive) {
  if (t.numel() > 0) {
    return t.data_ptr();
  }
  // TensorRT wants a non-null address even for an empty tensor.
  keep_alive.push_back(empty_on({1}, t.scalar_type(), t.device()));
  return keep_alive.back().data_ptr();
}

void set_shapes_and_bind_inputs(
    TRTEngine& engine,
    BackendExecutionContext& ctx,
    const std::vector<at::Tensor>& inputs,
    std::vector<at::Tensor>& keep_alive) {
  const EngineInfo& info = engine.info();
  ContextShapes& known = engine.context_shapes();
  bool same = known.known && known.inputs.size() == inputs.size();
  for (size_t i = 0; same && i < inputs.size(); ++i) {
    same = inputs[i].sizes().equals(known.inputs[i]);
  }
  if (!same) {
    known.known = false; // until every shape is set and the output shapes are read
    known.inputs.clear();
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = info.input_names[i];
    TORCH_CHECK_VALUE(
        same || ctx.set_input_shape(name, inputs[i].sizes().vec()),
        "TensorRT rejected shape ",
        shape_str(inputs[i].sizes()),
        " for input ",
        name,
        " of engine '",
        info.name,
        "'");
    TORCH_CHECK(
        ctx.set_tensor_address(name, address_of(inputs[i], keep_alive)),
        "could not bind input ",
        name,
        " of engine '",
        info.name,
        "'");
    if (!same) {
      known.inputs.push_back(inputs[i].sizes().vec());
    }
  }
}

// Output k written into an input's memory (AliasedIO.h): bound to that input, which is the caller's
// own tensor (check_aliased_call made sure it is contiguous, so no dense copy stands in for it).
at::Tensor bind_aliased_output(
    TRTEngine& engine,
    BackendExecutionContext& ctx,
    size_t k,
    const std::vector<at::Tensor>& inputs,
    std::vector<at::Tensor>& keep_alive) {
  const at::Tensor& input = inputs.at(static_cast<size_t>(engine.aliased().input_of(k)));
  TORCH_CHECK(
      ctx.set_tensor_address(engine.info().output_names[k], address_of(input, keep_alive)),
      "could not bind output ",
      engine.info().output_names[k],
      " of engine '",
      engine.info().name,
      "' to the memory of the input it is aliased to");
  return input;
}

// Static-shape outputs allocated by us, and aliased ones bound to their input (`inputs`, as bound);
// returns them in output order.
std::vector<at::Tensor> allocate_and_bind_outputs(
    TRTEngine& engine,
    BackendExecutionContext& ctx,
    const std::vector<at::Tensor>& inputs,
    c10::Device device,
    std::vector<at::Tensor>& keep_alive) {
  const EngineInfo& info = engine.info();
  ContextShapes& known = engine.context_shapes();
  const bool reuse = known.known;
  if (!reuse) {
    known.outputs.clear();
  }
  std::vector<at::Tensor> outputs;
  for (size_t k = 0; k < info.output_names.size(); ++k) {
    const std::string& name = info.output_names[k];
    if (engine.aliased().input_of(k) >= 0) {
      outputs.push_back(bind_aliased_output(engine, ctx, k, inputs, keep_alive));
      if (!reuse) {
        known.outputs.push_back(outputs.back().sizes().vec());
      }
      continue;
    }
    std::vector<int64_t> asked;
    if (!reuse) {
      asked = ctx.get_output_shape(name);
    }
    const std::vector<int64_t>& shape = reuse ? known.outputs[k] : asked;
    for (int64_t d : shape) {
      TORCH_CHECK(
          d >= 0,
          "output ",
          name,
          " of engine '",
          info.name,
          "' has a data-dependent shape, but the engine info does not say it requires an output allocator "
          "(REQUIRES_OUTPUT_ALLOCATOR_IDX); recompile the program");
    }
    at::Tensor out = empty_on(shape, to_scalar_type(engine.io_tensor(name).dtype), device);
    TORCH_CHECK(
        ctx.set_tensor_address(name, address_of(out, keep_alive)),
        "could not bind output ",
        name,
        " of engine '",
        info.name,
        "'");
    outputs.push_back(out);
    if (!reuse) {
      known.outputs.push_back(std::move(asked));
    }
  }
  // Shape-tensor inputs: their values, not only the shapes, decide the output shapes.
  known.known = engine.shape_inputs().empty() && known.inputs.size() == info.input_names.size();
  return outputs;
}

at::Tensor bind_device_memory(TRTEngine& engine, BackendExecutionContext& ctx, c10::Device device) {
  if (engine.runtime_config().allocation() != ResourceAllocationStrategy::kDYNAMIC) {
    return at::Tensor();
  }
  int64_t size = ctx.device_memory_size_for_shapes();
  TORCH_CHECK(size >= 0, "TensorRT could not compute the scratch memory of engine '", engine.info().name, "'");
  at::Tensor workspace = empty_on({std::max<int64_t>(size, 1)}, c10::ScalarType::Byte, device);
  TORCH_CHECK(
      ctx.set_device_memory(workspace.data_ptr(), size),
      "could not hand scratch memory to engine '",
      engine.info().name,
      "'");
  return workspace;
}

void enqueue(TRTEngine& engine, BackendExecutionContext& ctx, void* stream) {
  TORCH_CHECK(
      ctx.enqueue(stream),
      "TensorRT failed to execute engine '",
      engine.info().name,
      "' (see the TensorRT log)");
}

std::vector<at::Tensor> run_uncaptured(
    TRTEngine& engine,
    BackendExecutionContext& ctx,
    const std::vector<at::Tensor>& inputs,
    c10::Device device,
    EngineStreams& streams) {
  const EngineInfo& info = engine.info();
  std::vector<at::Tensor> keep_alive;
  set_shapes_and_bind_inputs(engine, ctx, inputs, keep_alive);
  std::vector<at::Tensor> outputs;
  std::unique_ptr<TorchOutputAllocator> allocator;
  if (info.requires_output_allocator) {
    allocator = std::make_unique<TorchOutputAllocator>(device);
    for (const auto& name : info.output_names) {
      TORCH_CHECK(
          ctx.set_output_allocator(name, allocator.get()),
          "could not set the output allocator of output ",
          name,
          " of engine '",
          info.name,
          "'");
    }
  } else {
    outputs = allocate_and_bind_outputs(engine, ctx, inputs, device, keep_alive);
  }
  at::Tensor workspace = bind_device_memory(engine, ctx, device);
  streams.caller_to_engine();
  enqueue(engine, ctx, streams.engine_handle());
  streams.engine_to_caller();
  if (allocator) {
    for (const auto& name : info.output_names) {
      outputs.push_back(allocator->output(name, to_scalar_type(engine.io_tensor(name).dtype)));
    }
  }
  return outputs;
}

std::vector<at::Tensor> run_subgraph_captured(
    TRTEngine& engine,
    BackendExecutionContext& ctx,
    const std::vector<at::Tensor>& inputs,
    c10::Device device,
    EngineStreams& streams,
    const std::vector<std::vector<int64_t>>& shape_values,
    bool* captured) {
  SubgraphCapture& cap = engine.subgraph_capture();
  *captured = false;
  if (!cap.matches(inputs, shape_values)) {
    // New shapes: static buffers, one warm-up run (lazy initialisation must not be captured),
    // then the capture itself.  The warm-up run already produced this call's outputs.
    cap.reset();
    std::vector<at::Tensor> keep_alive;
    cap.shape_values = shape_values;
    for (const auto& t : inputs) {
      cap.input_shapes.push_back(t.sizes().vec());
      // On the input's device: the engine's, or the host for inputs TensorRT reads there.
      cap.static_inputs.push_back(empty_on(t.sizes(), t.scalar_type(), t.device()));
      cap.static_inputs.back().copy_(t);
    }
    set_shapes_and_bind_inputs(engine, ctx, cap.static_inputs, keep_alive);
    cap.static_outputs = allocate_and_bind_outputs(engine, ctx, cap.static_inputs, device, keep_alive);
    for (auto& t : keep_alive) {
      cap.static_inputs.push_back(t); // keep placeholder addresses alive with the graph
    }
    cap.workspace = bind_device_memory(engine, ctx, device);
    streams.caller_to_engine();
    enqueue(engine, ctx, streams.engine_handle());
    try {
      std::unique_ptr<GraphCapture> graph = engine.backend().create_graph_capture();
      graph->begin(streams.engine_handle());
      bool ok = false;
      try {
        ok = ctx.enqueue(streams.engine_handle());
      } catch (...) {
        graph->end(streams.engine_handle());
        throw;
      }
      graph->end(streams.engine_handle());
      TORCH_CHECK(ok, "TensorRT failed to execute engine '", engine.info().name, "' during CUDA graph capture");
      cap.graph = std::move(graph);
    } catch (const c10::Error&) {
      cap.reset();
      throw;
    } catch (const std::exception& e) {
      cap.reset();
      TORCH_CHECK(false, "CUDA graph capture of engine '", engine.info().name, "' failed: ", e.what());
    }
    *captured = true;
  } else {
    for (size_t i = 0; i < inputs.size(); ++i) {
      cap.static_inputs[i].copy_(inputs[i]);
    }
    streams.caller_to_engine();
    cap.graph->replay(streams.engine_handle());
  }
  streams.engine_to_caller();
  std::vector<at::Tensor> outputs;
  for (const auto& t : cap.static_outputs) {
    outputs.push_back(t.clone()); // the next replay overwrites the static buffers
  }
  return outputs;
}

// --- CUDA-graph capture decision (CudaGraphPolicy: the rule set the Python runtime shares) --------

bool has_dynamic_inputs(const EngineInfo& info) {
  for (const InputSpec& spec : info.metadata.inputs) {
    if (spec.has_profile ? spec.min_shape != spec.max_shape
                         : std::any_of(spec.shape.begin(), spec.shape.end(), [](const auto& d) { return !d.is_static; })) {
      return true;
    }
  }
  return false;
}

CudaGraphPolicy::Inputs capture_inputs(TRTEngine& engine, const BackendFeatures& features, bool outer_capture) {
  const TRTRuntimeConfig& settings = engine.runtime_config();
  CudaGraphPolicy::Inputs in;
  in.cudagraphs_mode = get_cudagraphs_mode();
  in.outer_capture = outer_capture;
  in.is_rtx = features.native_cuda_graphs;
  // The settings as they apply on this backend: RTX-only ones are at their defaults elsewhere.
  in.cuda_graph_strategy =
      features.native_cuda_graphs ? settings.effective_cuda_graph_strategy() : CudaGraphStrategy::kDISABLED;
  in.kernel_strategy =
      features.kernel_strategy ? settings.effective_kernel_strategy() : KernelSpecializationStrategy::kLAZY;
  in.dynamic_inputs = has_dynamic_inputs(engine.info());
  in.data_dependent_outputs = engine.info().requires_output_allocator;
  return in;
}

// The decision and the context it runs on. The context is created with the decision's native
// strategy (TensorRT-RTX applies it at context creation), then asked whether it can be captured
// on the engine's stream. A context that cannot keeps its strategy (the call runs uncaptured;
// TensorRT-RTX falls back to running uncaptured itself) rather than being recreated on every call.
CudaGraphPolicy::Decision decide_capture(
    TRTEngine& engine,
    EngineStreams& streams,
    BackendExecutionContext** ctx) {
  CudaGraphPolicy::Inputs in = capture_inputs(engine, engine.backend().features(), streams.outer_capture());
  CudaGraphPolicy::Decision decision = CudaGraphPolicy::decide(in);
  // Refused under an outer capture: recorded, then reported before creating a context or running
  // anything, as the Python runtime does (the outer graph would record a run it cannot replay).
  if (in.outer_capture && decision.path == CudaGraphPolicy::Path::kNOT_CAPTURABLE) {
    engine.note_decision(CudaGraphPolicy::path_name(decision.path));
    TORCH_CHECK(false, "engine '", engine.info().name, "' cannot be captured in a CUDA graph: ", decision.reason);
  }
  *ctx = &engine.context(decision.native_strategy());
  if (decision.captures_engine_stream() && !(*ctx)->is_stream_capturable(streams.engine_handle())) {
    in.stream_capturable = false;
    decision = CudaGraphPolicy::decide(in);
  }
  // Never two captures of the same work: nothing captures natively inside an outer capture.
  TORCH_INTERNAL_ASSERT(!(in.outer_capture && (*ctx)->uses_native_capture()));
  return decision;
}

} // namespace

c10::ScalarType to_scalar_type(DataType t) {
  switch (t) {
    case DataType::kFLOAT32:
      return c10::ScalarType::Float;
    case DataType::kFLOAT16:
      return c10::ScalarType::Half;
    case DataType::kBFLOAT16:
      return c10::ScalarType::BFloat16;
    case DataType::kINT8:
      return c10::ScalarType::Char;
    case DataType::kUINT8:
      return c10::ScalarType::Byte;
    case DataType::kINT32:
      return c10::ScalarType::Int;
    case DataType::kINT64:
      return c10::ScalarType::Long;
    case DataType::kBOOL:
      return c10::ScalarType::Bool;
    case DataType::kFLOAT64:
      return c10::ScalarType::Double;
  }
  TORCH_CHECK(false, "unsupported engine data type ", static_cast<int>(t));
}

std::vector<at::Tensor> execute_engine(std::vector<at::Tensor> inputs, c10::intrusive_ptr<TRTEngine> engine) {
  TORCH_CHECK(engine, "execute_engine: no engine");
  std::lock_guard<std::mutex> lock(engine->mutex());
  // From the metadata, before anything is deserialized, so that every backend refuses it alike.
  TORCH_CHECK(!engine->info().metadata.flag(WEIGHTS_STRIPPED_FLAG), stripped_weights_error(engine->info().name));
  EngineBackend& backend = engine->backend();
  engine->backend_engine(); // deserialize (or explain why not) before looking at the inputs
  c10::Device device = engine->device();
  std::optional<c10::DeviceGuard> device_guard;
  if (device.is_cuda() && get_multi_device_safe_mode()) {
    device_guard.emplace(device);
  }
  check_inputs(*engine, inputs, device);
  std::vector<at::Tensor> contiguous;
  contiguous.reserve(inputs.size());
  for (const auto& t : inputs) {
    contiguous.push_back(t.contiguous());
  }
  std::vector<std::vector<int64_t>> shape_values; // of shape-tensor inputs; most engines have none
  if (!engine->shape_inputs().empty()) {
    shape_values = prepare_shape_inputs(*engine, contiguous);
  }

  EngineStreams streams(device, backend);
  streams.follow_previous_enqueue(engine->last_enqueue_stream());
  BackendExecutionContext* ctx = nullptr;
  const CudaGraphPolicy::Decision decision = decide_capture(*engine, streams, &ctx);
  if (engine->has_several_profiles()) {
    engine->use_profile(*ctx, contiguous, shape_values, streams.engine_handle());
  }
  const bool torch_capture = decision.path == CudaGraphPolicy::Path::kTORCH_SUBGRAPH_CAPTURE;
  if (engine->aliased().any) {
    engine->note_decision(CudaGraphPolicy::path_name(decision.path)); // as the Python engine, if refused
    check_aliased_call(engine->info(), engine->aliased(), inputs, torch_capture);
  }
  if (!torch_capture) {
    engine->subgraph_capture().reset();
  }
  // Every other path runs the engine once: native capture happens inside TensorRT-RTX, an outer
  // capture records the run, and a call that cannot be captured runs uncaptured (decision recorded).
  std::vector<at::Tensor> outputs;
  bool captured = false;
  if (torch_capture) {
    outputs = run_subgraph_captured(*engine, *ctx, contiguous, device, streams, shape_values, &captured);
  } else {
    outputs = run_uncaptured(*engine, *ctx, contiguous, device, streams);
  }
  engine->note_execution(CudaGraphPolicy::path_name(decision.path), captured, torch_capture && !captured);
  engine->note_profiled_run(
      device.is_cuda() && (torch_capture || decision.path == CudaGraphPolicy::Path::kRTX_NATIVE_CAPTURE));
  return outputs;
}

std::vector<at::Tensor> run_on_selected_backend(std::vector<at::Tensor> inputs, const c10::intrusive_ptr<TRTEngine>& engine) {
  TORCH_CHECK(engine, "execute_engine: no engine");
  engine->follow_selected_backend();
  return execute_engine(std::move(inputs), engine);
}

bool should_delegate_to_python() {
  auto mode = static_cast<PythonDelegateMode>(g_python_delegate_mode.load());
  return mode == PythonDelegateMode::kALWAYS ||
      (mode == PythonDelegateMode::kWHEN_NO_BACKEND && BackendRegistry::instance().current_name() == "unavailable");
}

bool runs_engines_by_default() {
  auto mode = static_cast<PythonDelegateMode>(g_python_delegate_mode.load());
  return mode == PythonDelegateMode::kNEVER ||
      (mode == PythonDelegateMode::kWHEN_NO_BACKEND && BackendRegistry::instance().has_tensorrt_backend());
}

void set_python_delegate_mode(int64_t mode) {
  TORCH_CHECK_VALUE(mode >= 0 && mode <= 2, "python delegate mode must be 0, 1 or 2, got ", mode);
  g_python_delegate_mode.store(mode);
}

int64_t get_python_delegate_mode() {
  return g_python_delegate_mode.load();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
