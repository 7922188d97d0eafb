// Registers torch.classes.tensorrt.Engine and the tensorrt:: ops.  The class is registered before
// TORCH_LIBRARY in this file, so the execute_engine.engine schema can name it.
#include <ATen/ops/empty.h>
#include <torch/custom_class.h>
#include <torch/library.h>

#include <cstdint>
#include <cstring>
#include <tuple>
#include <stdexcept>

#include "core/runtime/Base64.h"
#include "core/runtime/BackendRegistry.h"
#include "core/runtime/Sha256.h"
#include "core/runtime/EngineInfo.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/RuntimeDefaults.h"
#include "core/runtime/TRTRuntimeConfig.h"
#include "core/runtime/ShapeExpr.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace {

using EnginePtr = c10::intrusive_ptr<TRTEngine>;

// std::invalid_argument -> Python ValueError; other std::exception -> RuntimeError.
template <typename Fn>
auto translate(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const c10::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  } catch (const std::exception& e) {
    TORCH_CHECK(false, e.what());
  }
}

// The engine info (name, bytes, ...) stays; live TensorRT objects and runtime settings do not travel.
static auto engine_class =
    torch::class_<TRTEngine>("tensorrt", "Engine")
        .def(torch::init<std::vector<std::string>>())
        .def("name", [](const EnginePtr& self) { return self->name(); })
        .def("serialize", [](const EnginePtr& self) { return self->serialize(); })
        .def("input_names", [](const EnginePtr& self) { return self->input_names(); })
        .def("output_names", [](const EnginePtr& self) { return self->output_names(); })
        .def(
            "set_runtime_settings",
            [](const EnginePtr& self, int64_t kernel_strategy, int64_t cuda_graph_strategy) {
              self->set_runtime_settings(kernel_strategy, cuda_graph_strategy);
            })
        .def("get_runtime_settings", [](const EnginePtr& self) { return self->get_runtime_settings(); })
        .def(
            "set_runtime_cache_path",
            [](const EnginePtr& self, const std::string& path) { self->set_runtime_cache_path(path); })
        .def("get_runtime_cache_path", [](const EnginePtr& self) { return self->get_runtime_cache_path(); })
        .def("clear_runtime_settings", [](const EnginePtr& self) { self->clear_runtime_settings(); })
        .def("has_runtime_settings", [](const EnginePtr& self) { return self->has_runtime_settings(); })
        .def("clear_runtime_cache_path", [](const EnginePtr& self) { self->clear_runtime_cache_path(); })
        .def("get_runtime_cache_payload", [](const EnginePtr& self) { return self->get_runtime_cache_payload(); })
        .def(
            "set_runtime_cache_payload",
            [](const EnginePtr& self, const at::Tensor& payload) { self->set_runtime_cache_payload(payload); })
        // Identity of the engine object (Python keeps per-engine state, e.g. an attached cache handle).
        .def("engine_id", [](const EnginePtr& self) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(self.get())); })
        .def("save_runtime_cache", [](const EnginePtr& self) { return self->save_runtime_cache(); })
        .def("reset_context", [](const EnginePtr& self) { self->reset_context(); })
        .def("backend_name", [](const EnginePtr& self) { return self->backend_name(); })
        .def("last_capture_decision", [](const EnginePtr& self) { return self->last_capture_decision(); })
        .def("stats", [](const EnginePtr& self) { return self->stats(); })
        // Optimization profiles and weight streaming (runtime controls; the Python engine's names in
        // torch_tensorrt/dynamo/runtime/_cpp_engine.py map onto these).
        .def("num_optimization_profiles", [](const EnginePtr& self) { return self->num_optimization_profiles(); })
        .def("set_optimization_profile", [](const EnginePtr& self, int64_t profile) { self->set_optimization_profile(profile); })
        .def("clear_optimization_profile", [](const EnginePtr& self) { self->clear_optimization_profile(); })
        .def("get_optimization_profile", [](const EnginePtr& self) { return self->get_optimization_profile(); })
        .def("active_optimization_profile", [](const EnginePtr& self) { return self->active_optimization_profile(); })
        .def(
            "get_streamable_device_memory_budget",
            [](const EnginePtr& self) { return self->get_streamable_device_memory_budget(); })
        .def(
            "get_automatic_device_memory_budget",
            [](const EnginePtr& self) { return self->get_automatic_device_memory_budget(); })
        .def("get_device_memory_budget", [](const EnginePtr& self) { return self->get_device_memory_budget(); })
        .def(
            "set_device_memory_budget",
            [](const EnginePtr& self, int64_t budget) { return self->set_device_memory_budget(budget); })
        // Per-layer profiling, as Torch-TensorRT's engine (TRTEngine.h).
        .def("enable_profiling", [](const EnginePtr& self) { self->enable_profiling(); })
        .def("disable_profiling", [](const EnginePtr& self) { self->disable_profiling(); })
        .def("profiling_enabled", [](const EnginePtr& self) { return self->profiling_enabled(); })
        .def("set_profile_format", [](const EnginePtr& self, std::string format) { self->set_profile_format(format); })
        .def("get_profile_format", [](const EnginePtr& self) { return self->get_profile_format(); })
        .def("set_profile_path_prefix", [](const EnginePtr& self, std::string prefix) { self->set_profile_path_prefix(prefix); })
        .def("get_profile_path_prefix", [](const EnginePtr& self) { return self->get_profile_path_prefix(); })
        .def("profile_trace_path", [](const EnginePtr& self) { return self->profile_trace_path(); })
        .def("layer_profile", [](const EnginePtr& self) { return self->layer_profile(); })
        .def("aliased_outputs", [](const EnginePtr& self) { return self->aliased_outputs(); })
        .def(
            "execute",
            [](const EnginePtr& self, std::vector<at::Tensor> inputs) { return run_on_selected_backend(std::move(inputs), self); })
        .def("__str__", [](const EnginePtr& self) { return self->to_str(); })
        .def("__repr__", [](const EnginePtr& self) { return self->to_str(); })
        .def_pickle(
            [](const EnginePtr& self) -> std::vector<std::string> { return self->serialize(); },
            [](std::vector<std::string> info) -> EnginePtr { return c10::make_intrusive<TRTEngine>(std::move(info)); });

std::vector<at::Tensor> execute_engine_from_info(
    std::vector<at::Tensor> inputs,
    at::Tensor serialized_engine,
    std::vector<std::string> info) {
  if (should_delegate_to_python()) {
    static const c10::OperatorHandle op =
        c10::Dispatcher::singleton().findSchemaOrThrow("tensorrt::execute_engine_python", "");
    torch::jit::Stack stack;
    stack.emplace_back(std::move(inputs));
    stack.emplace_back(std::move(serialized_engine));
    stack.emplace_back(std::move(info));
    op.callBoxed(&stack);
    TORCH_CHECK(stack.size() == 1, "tensorrt::execute_engine_python returned ", stack.size(), " values");
    return stack[0].toTensorVector();
  }
  return run_on_selected_backend(std::move(inputs), EngineRegistry::instance().get_or_create(serialized_engine, info));
}

// The TorchScript overload delegates like the info overload does: the Python runtime takes the engine
// as (bytes tensor, info list with the engine slot replaced by its digest), so rebuild that form.
std::vector<at::Tensor> execute_engine_object(std::vector<at::Tensor> inputs, EnginePtr engine) {
  if (!should_delegate_to_python()) {
    return run_on_selected_backend(std::move(inputs), engine);
  }
  std::vector<std::string> info = engine->serialize();
  const auto slot = static_cast<size_t>(SERIALIZED_ENGINE_IDX);
  const std::string bytes = Base64::decode(info.at(slot));
  at::Tensor serialized_engine = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(serialized_engine.data_ptr(), bytes.data(), bytes.size());
  info[slot] = "sha256:" + Sha256::hex(bytes);
  return execute_engine_from_info(std::move(inputs), std::move(serialized_engine), std::move(info));
}

TORCH_LIBRARY(tensorrt, m) {
  m.set_python_module("torch_tensorrt.dynamo.runtime._execute_engine_op");

  // --- the op (same schema as the Python runtime) ---------------------------------------------
  m.def("execute_engine(Tensor[] input_tensors, Tensor serialized_engine, str[] engine_info) -> Tensor[]");
  m.impl("execute_engine", torch::dispatch(c10::DispatchKey::CompositeExplicitAutograd, TORCH_FN(execute_engine_from_info)));
  m.def(
      "execute_engine.engine(Tensor[] input_tensors, __torch__.torch.classes.tensorrt.Engine engine) -> Tensor[]");
  m.impl(
      "execute_engine.engine",
      torch::dispatch(c10::DispatchKey::CompositeExplicitAutograd, TORCH_FN(execute_engine_object)));
  // Implemented in Python (torch_tensorrt.dynamo.runtime._execute_engine_op); see execute_engine.h.
  m.def("execute_engine_python(Tensor[] input_tensors, Tensor serialized_engine, str[] engine_info) -> Tensor[]");
  m.def("_set_python_delegate(int mode) -> ()", [](int64_t mode) { set_python_delegate_mode(mode); });
  m.def("_get_python_delegate() -> int", []() { return get_python_delegate_mode(); });
  m.def("_runs_engines_by_default() -> bool", []() { return runs_engines_by_default(); });
  // The token of the engine an op call with these arguments runs: torch_tensorrt._C._execute_registered
  // runs that engine by (engine tensor, token) without the op's argument conversion (python_module.cpp).
  m.def("_engine_token(Tensor serialized_engine, str[] engine_info) -> int", [](at::Tensor t, std::vector<std::string> info) {
    // 0 while calls are handed to the Python runtime (no C++ engine is made for them).
    return should_delegate_to_python() ? int64_t{0} : EngineRegistry::instance().get_or_create_with_token(t, info).second;
  });
  // The cached engine an op call with these arguments runs (e.g. to apply runtime settings to it).
  m.def(
      "get_engine(Tensor serialized_engine, str[] engine_info) -> __torch__.torch.classes.tensorrt.Engine",
      [](at::Tensor serialized_engine, std::vector<std::string> info) {
        return EngineRegistry::instance().get_or_create(serialized_engine, info);
      });
  m.def("join_engine_info(Tensor serialized_engine, str[] engine_info) -> str[]", [](at::Tensor t, std::vector<std::string> info) {
    return TRTEngine::join_engine_info(t, info);
  });
  m.def("_clear_engine_cache() -> ()", []() { EngineRegistry::instance().clear(); });
  // Engines whose tensors are gone are released (runtime cache saved); Python calls this when a module
  // holding an engine tensor is collected. Returns how many were released.
  m.def("_release_expired_engines() -> int", []() { return EngineRegistry::instance().release_expired(); });
  m.def("_engine_registry_size() -> int", []() { return EngineRegistry::instance().size(); });
  m.def("_release_engine(int storage) -> bool", [](int64_t storage) {
    return EngineRegistry::instance().release(reinterpret_cast<const c10::StorageImpl*>(static_cast<intptr_t>(storage)));
  });
  // Process-wide defaults (RuntimeDefaults), kept equal to torch_tensorrt.runtime's by its setters.
  m.def(
      "_set_runtime_defaults(int kernel_strategy, int cuda_graph_strategy, bool has_cache_path, str cache_path) -> ()",
      [](int64_t kernel, int64_t cuda_graph, bool has_cache_path, std::string cache_path) {
        RuntimeDefaults::Values values;
        try {
          values.kernel_strategy = TRTRuntimeConfig::kernel_strategy_from_int(kernel);
          values.cuda_graph_strategy = TRTRuntimeConfig::cuda_graph_strategy_from_int(cuda_graph);
        } catch (const std::invalid_argument& e) {
          TORCH_CHECK_VALUE(false, e.what());
        }
        values.has_runtime_cache_path = has_cache_path;
        values.runtime_cache_path = std::move(cache_path);
        RuntimeDefaults::set(values);
      });
  m.def("_get_runtime_defaults() -> (int, int, bool, str)", []() {
    const RuntimeDefaults::Values v = RuntimeDefaults::get();
    return std::make_tuple(
        static_cast<int64_t>(v.kernel_strategy),
        static_cast<int64_t>(v.cuda_graph_strategy),
        v.has_runtime_cache_path,
        v.runtime_cache_path);
  });

  // --- layout, compared with _engine_layout.py at import --------------------------------------
  m.def("ABI_VERSION() -> str", []() { return std::string(ABI_VERSION); });
  // Every slot name in index order: index and SERIALIZATION_LEN included, one op for the whole layout.
  m.def("serialized_info_names() -> str[]", []() {
    return std::vector<std::string>(SERIALIZED_INFO_NAMES.begin(), SERIALIZED_INFO_NAMES.end());
  });
  m.def("current_platform() -> str", []() { return current_platform(); });

  // --- process-wide modes ------------------------------------------------------------------------
  m.def("get_cudagraphs_mode() -> bool", []() { return get_cudagraphs_mode(); });
  m.def("set_cudagraphs_mode(bool enabled) -> ()", [](bool enabled) { set_cudagraphs_mode(enabled); });
  m.def("get_multi_device_safe_mode() -> bool", []() { return get_multi_device_safe_mode(); });
  m.def("set_multi_device_safe_mode(bool enabled) -> ()", [](bool enabled) { set_multi_device_safe_mode(enabled); });
  m.def("get_logging_level() -> int", []() { return static_cast<int64_t>(get_log_level()); });
  m.def("set_logging_level(int level) -> ()", [](int64_t level) {
    TORCH_CHECK_VALUE(level >= 0 && level <= 5, "logging level must be 0 (internal error) .. 5 (graph), got ", level);
    set_log_level(static_cast<LogLevel>(level));
    BackendRegistry::instance().current()->set_log_level(level);
  });

  // --- backends ----------------------------------------------------------------------------------
  m.def("has_tensorrt_backend() -> bool", []() { return BackendRegistry::instance().has_tensorrt_backend(); });
  m.def("_backend_name() -> str", []() { return BackendRegistry::instance().current_name(); });
  m.def("_select_backend(str name) -> ()", [](const std::string& name) {
    translate([&] {
      BackendRegistry::instance().select(name);
      return 0;
    });
  });
  // Test only: refused unless TORCH_TENSORRT_ALLOW_TEST_BACKENDS=1 (BackendRegistry.h).
  m.def("_load_test_backend(str library_path) -> str", [](const std::string& path) {
    return translate([&] { return BackendRegistry::instance().load_test_backend(path); });
  });

  // --- validation entry points (parity tests against the Python reader) ------------------------
  m.def("_check_engine_info(str[] engine_info) -> str", [](std::vector<std::string> info) {
    return translate([&] { return EngineInfo::from_list(info).name; });
  });
  m.def("_check_metadata(str metadata) -> ()", [](const std::string& text) {
    translate([&] {
      EngineMetadata::from_json(text);
      return 0;
    });
  });
  m.def("_check_shape_expr(str expr) -> ()", [](const std::string& expr) {
    translate([&] {
      ShapeExpr::validate(expr);
      return 0;
    });
  });
}

} // namespace
} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
