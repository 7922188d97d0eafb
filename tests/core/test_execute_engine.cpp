// execute_engine end to end on the fake backend (CPU): shapes, outputs, allocation, CUDA-graph
// decisions, runtime cache, error messages.
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/tensor.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/Sha256.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/torch_test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::error_of;
using torch_tensorrt::tests::FakeBackend;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

class ExecuteEngineTest : public torch_tensorrt::tests::FakeBackendTest {
 protected:
  c10::intrusive_ptr<rt::TRTEngine> add_engine(const std::string& metadata = torch_tensorrt::tests::default_metadata()) {
    return c10::make_intrusive<rt::TRTEngine>(
        make_info(fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}), "adder", metadata));
  }

  int64_t stat(const c10::intrusive_ptr<rt::TRTEngine>& e, const std::string& key) {
    auto s = e->stats();
    return s.contains(key) ? s.at(key) : 0;
  }

};

} // namespace

TEST_F(ExecuteEngineTest, AddsInputs) {
  auto engine = add_engine();
  at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3});
  at::Tensor y = at::ones({2, 3}, at::kFloat);
  auto out = rt::execute_engine({x, y}, engine);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].equal(x + y));
  // Non-contiguous inputs are made contiguous first.
  at::Tensor xt = at::arange(6, at::kFloat).reshape({3, 2}).t();
  EXPECT_TRUE(rt::execute_engine({xt, y}, engine)[0].equal(xt + y));
  EXPECT_EQ(engine->last_capture_decision(), "no_capture");
  EXPECT_EQ(stat(engine, "contexts_created"), 1);
  EXPECT_EQ(engine->backend_name(), "fake");
}

TEST_F(ExecuteEngineTest, IdentityWithSeveralOutputsAndEmptyTensors) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(fake_spec("identity", {{"a", {-1}}, {"b", {2}}}, {"o1", "o2", "o3"}), "ident"));
  at::Tensor a = at::arange(4, at::kFloat);
  at::Tensor b = at::ones({2}, at::kFloat);
  auto out = rt::execute_engine({a, b}, engine);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].equal(a));
  EXPECT_TRUE(out[1].equal(b));
  EXPECT_TRUE(out[2].equal(a));
  auto empty = rt::execute_engine({at::arange(0, at::kFloat), b}, engine);
  EXPECT_EQ(empty[0].numel(), 0);
}

TEST_F(ExecuteEngineTest, InputChecks) {
  const std::string md =
      R"({"format":"torch_tensorrt.engine_metadata","version":1,"inputs":[)"
      R"({"name":"x","dtype":"float32","shape":["s0",3],"min_shape":[1,3],"opt_shape":[2,3],"max_shape":[4,3]},)"
      R"({"name":"y","dtype":"float32","shape":["s0",3],"min_shape":[1,3],"opt_shape":[2,3],"max_shape":[4,3]}]})";
  auto engine = add_engine(md);
  at::Tensor ok = at::ones({2, 3}, at::kFloat);
  EXPECT_CONTAINS(error_of([&] { rt::execute_engine({ok}, engine); }), "engine 'adder' takes 2 inputs (x, y), got 1");
  EXPECT_THROW(rt::execute_engine({ok}, engine), c10::ValueError);
  EXPECT_THROW(rt::execute_engine({ok, ok.to(at::kDouble)}, engine), c10::TypeError);
  EXPECT_CONTAINS(
      error_of([&] { rt::execute_engine({ok, ok.to(at::kDouble)}, engine); }),
      "input y of engine 'adder' must have dtype torch.float32, got torch.float64");
  at::Tensor big = at::ones({5, 3}, at::kFloat);
  EXPECT_THROW(rt::execute_engine({big, big}, engine), c10::ValueError);
  EXPECT_CONTAINS(
      error_of([&] { rt::execute_engine({big, big}, engine); }),
      "input x of engine 'adder' has shape (5, 3), outside the range the engine was built for: min (1, 3), max (4, 3)");
  // Shapes the backend refuses (static dim 3 of the fake engine).
  auto plain = add_engine();
  at::Tensor wrong = at::ones({2, 4}, at::kFloat);
  EXPECT_CONTAINS(error_of([&] { rt::execute_engine({wrong, wrong}, plain); }), "TensorRT rejected shape (2, 4) for input x");
}

TEST_F(ExecuteEngineTest, DataDependentOutputsUseTheOutputAllocator) {
  auto spec = fake_spec("filter_positive", {{"x", {-1}}}, {"y"});
  auto engine = c10::make_intrusive<rt::TRTEngine>(make_info(spec, "filter", torch_tensorrt::tests::default_metadata(), true));
  at::Tensor x = at::tensor({1.0f, -2.0f, 3.0f, 0.0f, 5.0f});
  auto out = rt::execute_engine({x}, engine);
  EXPECT_TRUE(out[0].equal(at::tensor({1.0f, 3.0f, 5.0f})));
  auto none = rt::execute_engine({at::tensor({-1.0f})}, engine);
  EXPECT_EQ(none[0].numel(), 0);
  // Without the flag the runtime cannot size the output and says so.
  auto unflagged = c10::make_intrusive<rt::TRTEngine>(make_info(spec, "filter2"));
  EXPECT_CONTAINS(error_of([&] { rt::execute_engine({x}, unflagged); }), "has a data-dependent shape");
  // Data-dependent shapes never go into a CUDA graph. In subgraph mode on TensorRT-RTX the context
  // says its stream cannot be captured: the call runs uncaptured and the decision is recorded ...
  rt::set_cudagraphs_mode(true);
  EXPECT_TRUE(rt::execute_engine({x}, engine)[0].equal(at::tensor({1.0f, 3.0f, 5.0f})));
  EXPECT_EQ(engine->last_capture_decision(), "not_capturable");
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
  // ... and inside an outer capture the call is refused before anything runs.
  backend->simulate_outer_capture = true;
  const int64_t runs = stat(engine, "context.runs");
  EXPECT_CONTAINS(
      error_of([&] { rt::execute_engine({x}, engine); }),
      "engine 'filter' cannot be captured in a CUDA graph: the engine has data-dependent output shapes");
  EXPECT_EQ(stat(engine, "context.runs"), runs);
  // The refusal is recorded, as on the Python runtime (the last run before it recorded no_capture).
  backend->simulate_outer_capture = false;
  rt::set_cudagraphs_mode(false);
  rt::execute_engine({x}, engine);
  EXPECT_EQ(engine->last_capture_decision(), "no_capture");
  backend->simulate_outer_capture = true;
  EXPECT_THROW(rt::execute_engine({x}, engine), c10::Error);
  EXPECT_EQ(engine->last_capture_decision(), "not_capturable");
  backend->simulate_outer_capture = false;
}

TEST_F(ExecuteEngineTest, DataDependentOutputsRunUncapturedOnStandardTensorRT) {
  auto standard = std::make_shared<FakeBackend>("fake_standard", /*rtx=*/false);
  rt::BackendRegistry::instance().add(standard);
  rt::BackendRegistry::instance().select("fake_standard");
  auto spec = fake_spec("filter_positive", {{"x", {-1}}}, {"y"});
  auto engine = c10::make_intrusive<rt::TRTEngine>(make_info(spec, "filter", torch_tensorrt::tests::default_metadata(), true));
  rt::set_cudagraphs_mode(true);
  EXPECT_TRUE(rt::execute_engine({at::tensor({2.0f, -1.0f})}, engine)[0].equal(at::tensor({2.0f})));
  EXPECT_EQ(engine->last_capture_decision(), "no_capture"); // a graph cannot replay an unknown size
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
}

TEST_F(ExecuteEngineTest, DynamicAllocationHandsScratchMemory) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(make_info(
      fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}),
      "dyn",
      torch_tensorrt::tests::default_metadata(),
      false,
      "dynamic"));
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  EXPECT_EQ(stat(engine, "context.allocation"), 1);
  EXPECT_EQ(stat(engine, "context.device_memory_sets"), 1);
}

TEST_F(ExecuteEngineTest, SubgraphCudaGraphsCaptureOnceAndReplay) {
  // Torch-level capture is for standard TensorRT (TensorRT-RTX captures natively instead).
  auto standard = std::make_shared<FakeBackend>("fake_standard", /*rtx=*/false);
  rt::BackendRegistry::instance().add(standard);
  rt::BackendRegistry::instance().select("fake_standard");
  auto engine = add_engine();
  rt::set_cudagraphs_mode(true);
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  at::Tensor y = at::arange(6, at::kFloat).reshape({2, 3});
  EXPECT_TRUE(rt::execute_engine({x, y}, engine)[0].equal(x + y));
  EXPECT_EQ(engine->last_capture_decision(), "torch_subgraph_capture");
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 0);
  EXPECT_EQ(stat(engine, "graph_captures"), 1);
  // Replay with new values: the inputs are copied into the captured buffers.
  at::Tensor x2 = x * 10;
  auto out = rt::execute_engine({x2, y}, engine);
  EXPECT_TRUE(out[0].equal(x2 + y));
  EXPECT_EQ(stat(engine, "graph_replays"), 1);
  // The returned outputs are not the static buffers: a later replay does not change them.
  rt::execute_engine({x, y}, engine);
  EXPECT_TRUE(out[0].equal(x2 + y));
  // New shapes: captured again.
  at::Tensor z = at::ones({4, 3}, at::kFloat);
  EXPECT_TRUE(rt::execute_engine({z, z}, engine)[0].equal(z * 2));
  EXPECT_EQ(stat(engine, "graph_captures"), 2);
  // Mode off: plain runs again.
  rt::set_cudagraphs_mode(false);
  EXPECT_TRUE(rt::execute_engine({x, y}, engine)[0].equal(x + y));
  EXPECT_EQ(engine->last_capture_decision(), "no_capture");
  // A stream TensorRT cannot capture: no capture is attempted, the call runs uncaptured.
  standard->simulate_not_capturable = true;
  rt::set_cudagraphs_mode(true);
  EXPECT_TRUE(rt::execute_engine({z, z}, engine)[0].equal(z * 2));
  EXPECT_EQ(engine->last_capture_decision(), "not_capturable");
  EXPECT_EQ(stat(engine, "graph_captures"), 2);
}

TEST_F(ExecuteEngineTest, NativeCaptureIsNotCapturedTwice) {
  auto engine = add_engine();
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  rt::execute_engine({x, x}, engine);
  engine->set_runtime_settings(/*eager*/ 1, /*whole_graph_capture*/ 1);
  EXPECT_EQ(engine->get_runtime_settings(), (std::vector<int64_t>{1, 1}));
  rt::set_cudagraphs_mode(true);
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  // The engine captures itself: no torch-level capture on top.
  EXPECT_EQ(engine->last_capture_decision(), "rtx_native_capture");
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
  EXPECT_EQ(stat(engine, "contexts_created"), 2); // recreated once for the new settings
  EXPECT_EQ(stat(engine, "context.kernel_strategy"), 1);
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 1);
  EXPECT_EQ(stat(engine, "context.native_capture_runs"), 1);
  // An outer capture records the engine: TensorRT-RTX applies the CUDA graph strategy when a
  // context is created, so the engine runs on a new context created without native capture.
  backend->simulate_outer_capture = true;
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  EXPECT_EQ(engine->last_capture_decision(), "outer_whole_graph_capture");
  EXPECT_EQ(stat(engine, "contexts_created"), 3);
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 0);
  EXPECT_EQ(stat(engine, "context.native_capture_runs"), 0);
  EXPECT_EQ(stat(engine, "context.kernel_strategy"), 1); // the other settings are kept
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
  rt::execute_engine({x, x}, engine); // still captured from outside: same context
  EXPECT_EQ(stat(engine, "contexts_created"), 3);
  backend->simulate_outer_capture = false;
  // Native capture again, on a context created for it; same settings again: no new context.
  rt::execute_engine({x, x}, engine);
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 1);
  engine->set_runtime_settings(1, 1);
  rt::execute_engine({x, x}, engine);
  EXPECT_EQ(stat(engine, "contexts_created"), 4);
  EXPECT_THROW(engine->set_runtime_settings(7, 0), c10::ValueError);
}

TEST_F(ExecuteEngineTest, SubgraphModeOnTensorRTRtxCapturesNatively) {
  // cuda_graph_strategy stays "disabled": subgraph mode alone makes TensorRT-RTX capture the engine
  // (as in the Python runtime), never a torch capture around it.
  auto engine = add_engine();
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  rt::set_cudagraphs_mode(true);
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  EXPECT_EQ(engine->last_capture_decision(), "rtx_native_capture");
  EXPECT_EQ(engine->get_runtime_settings(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 1);
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
  // Leaving the mode recreates the context once, without native capture.
  rt::set_cudagraphs_mode(false);
  rt::execute_engine({x, x}, engine);
  rt::execute_engine({x, x}, engine);
  EXPECT_EQ(engine->last_capture_decision(), "no_capture");
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 0);
  EXPECT_EQ(stat(engine, "contexts_created"), 2);
}

TEST_F(ExecuteEngineTest, StreamThatCannotBeCapturedKeepsItsContext) {
  auto engine = add_engine();
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  backend->simulate_not_capturable = true;
  rt::set_cudagraphs_mode(true);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  }
  EXPECT_EQ(engine->last_capture_decision(), "not_capturable");
  EXPECT_EQ(stat(engine, "contexts_created"), 1); // not recreated call after call
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
}

TEST_F(ExecuteEngineTest, LazyKernelsWithDynamicInputsCaptureOnlyNatively) {
  const std::string md =
      R"({"format":"torch_tensorrt.engine_metadata","version":1,"inputs":[)"
      R"({"name":"x","dtype":"float32","shape":["s0",3],"min_shape":[1,3],"opt_shape":[2,3],"max_shape":[4,3]},)"
      R"({"name":"y","dtype":"float32","shape":["s0",3],"min_shape":[1,3],"opt_shape":[2,3],"max_shape":[4,3]}]})";
  auto engine = add_engine(md);
  at::Tensor x = at::ones({3, 3}, at::kFloat);
  rt::set_cudagraphs_mode(true);
  // Default strategy "lazy": kernels swapped in later would invalidate a torch graph, so TensorRT-RTX
  // captures natively (its capture follows the swapped kernels), as with default settings upstream.
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  EXPECT_EQ(engine->last_capture_decision(), "rtx_native_capture");
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 1);
  EXPECT_EQ(stat(engine, "graph_captures"), 0); // no torch capture around it
  // Under an outer capture the same is an error, raised before a context is created.
  auto fresh = add_engine(md);
  backend->simulate_outer_capture = true;
  EXPECT_CONTAINS(
      error_of([&] { rt::execute_engine({x, x}, fresh); }),
      "engine 'adder' cannot be captured in a CUDA graph: dynamic_shapes_kernel_specialization_strategy='lazy'");
  EXPECT_EQ(stat(fresh, "contexts_created"), 0);
  EXPECT_EQ(fresh->last_capture_decision(), "not_capturable"); // recorded though nothing ran
  EXPECT_EQ(stat(fresh, "executions"), 0);
  backend->simulate_outer_capture = false;
  // "eager": TensorRT-RTX captures natively.
  engine->set_runtime_settings(/*eager*/ 1, /*disabled*/ 0);
  EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  EXPECT_EQ(engine->last_capture_decision(), "rtx_native_capture");
}

TEST_F(ExecuteEngineTest, StrippedEngineIsRefusedFromItsMetadataBeforeLoading) {
  const std::string stripped_md =
      R"({"format":"torch_tensorrt.engine_metadata","version":1,"flags":{"weights_stripped":true}})";
  auto engine = add_engine(stripped_md);
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  for (int i = 0; i < 2; ++i) {
    EXPECT_CONTAINS(
        error_of([&] { rt::execute_engine({x, x}, engine); }),
        "engine 'adder' was built with strip_engine_weights=True and holds no weights: refit it with "
        "torch_tensorrt.dynamo.refit_module_weights(compiled, exported_program_with_weights) before running it");
  }
  EXPECT_EQ(backend->engines_loaded, 0); // refused by the runtime, whatever the backend would do
  EXPECT_EQ(stat(engine, "contexts_created"), 0);
  // The flag set to false (or absent) runs.
  auto refitted = add_engine(R"({"format":"torch_tensorrt.engine_metadata","version":1,"flags":{"weights_stripped":false}})");
  EXPECT_TRUE(rt::execute_engine({x, x}, refitted)[0].equal(x * 2));
}

TEST_F(ExecuteEngineTest, StandardTensorRTIgnoresRtxSettings) {
  auto standard = std::make_shared<FakeBackend>("fake_standard", /*rtx=*/false);
  rt::BackendRegistry::instance().add(standard);
  rt::BackendRegistry::instance().select("fake_standard");
  auto engine = add_engine();
  engine->set_runtime_settings(2, 1);
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  rt::execute_engine({x, x}, engine);
  EXPECT_EQ(engine->last_capture_decision(), "no_capture");
  EXPECT_EQ(stat(engine, "context.kernel_strategy"), 0);
  EXPECT_EQ(stat(engine, "context.cuda_graph_strategy"), 0);
  EXPECT_EQ(stat(engine, "context.use_runtime_cache"), 0);
}

TEST_F(ExecuteEngineTest, RuntimeCacheIsSavedLoadedAndBadFilesSurvived) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("torchtrt_cpp_cache_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "shared.trtcache").string();
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  {
    auto engine = add_engine();
    engine->set_runtime_cache_path(path);
    rt::execute_engine({x, x}, engine);
    EXPECT_TRUE(engine->save_runtime_cache());
  }
  ASSERT_TRUE(fs::exists(path));
  {
    auto engine = add_engine();
    engine->set_runtime_cache_path(path);
    rt::execute_engine({x, x}, engine);
    EXPECT_EQ(stat(engine, "context.cache_kernels_loaded"), 1);
    rt::execute_engine({at::ones({3, 3}, at::kFloat), at::ones({3, 3}, at::kFloat)}, engine);
  } // saved when the engine goes away
  {
    auto engine = add_engine();
    engine->set_runtime_cache_path(path);
    rt::execute_engine({x, x}, engine);
    EXPECT_EQ(stat(engine, "context.cache_kernels_loaded"), 2);
  }
  {
    std::ofstream garbage(path, std::ios::binary | std::ios::trunc);
    garbage << "not a cache";
  }
  {
    auto engine = add_engine();
    engine->set_runtime_cache_path(path);
    EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2)); // never fatal
  }
  // A file in our format whose payload the backend refuses is moved aside too.
  {
    std::ofstream wrong(path, std::ios::binary | std::ios::trunc);
    wrong << rt::RuntimeCacheFile::encode("some other backend's cache");
  }
  {
    auto engine = add_engine();
    engine->set_runtime_cache_path(path);
    EXPECT_TRUE(rt::execute_engine({x, x}, engine)[0].equal(x * 2));
  }
  int moved_aside = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    moved_aside += entry.path().filename().string().find(".corrupt-") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(moved_aside, 2);
  fs::remove_all(dir);
}

TEST_F(ExecuteEngineTest, UnavailableBackendExplains) {
  rt::BackendRegistry::instance().select("default");
  if (rt::BackendRegistry::instance().has_tensorrt_backend()) {
    GTEST_SKIP() << "built with a TensorRT SDK";
  }
  auto engine = add_engine();
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  EXPECT_CONTAINS(error_of([&] { rt::execute_engine({x, x}, engine); }), "built without a TensorRT SDK");
}

TEST_F(ExecuteEngineTest, EngineConstructionChecks) {
  auto info = make_info(fake_spec("add", {{"x", {3}}, {"y", {3}}}, {"z"}));
  info[rt::TARGET_PLATFORM_IDX] = rt::current_platform() == "linux_aarch64" ? "linux_x86_64" : "linux_aarch64";
  EXPECT_CONTAINS(
      error_of([&] { (void)c10::make_intrusive<rt::TRTEngine>(info); }), "was built for platform");
  EXPECT_THROW(c10::make_intrusive<rt::TRTEngine>(info), c10::ValueError); // Python's verdict too
  info.pop_back();
  EXPECT_THROW(c10::make_intrusive<rt::TRTEngine>(info), c10::ValueError);
  auto good = make_info(fake_spec("add", {{"x", {3}}, {"y", {3}}}, {"z"}));
  auto engine = c10::make_intrusive<rt::TRTEngine>(good);
  EXPECT_EQ(engine->serialize(), good);
  EXPECT_EQ(engine->name(), "engine");
  EXPECT_CONTAINS(engine->to_str(), "inputs=[x, y]");
}

TEST_F(ExecuteEngineTest, TheOpJoinsEngineBytesByDigestAndCachesEngines) {
  auto spec = fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"});
  auto info = make_info(spec, "by_digest");
  std::string bytes = spec.serialize();
  at::Tensor engine_tensor = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(engine_tensor.data_ptr(), bytes.data(), bytes.size());
  auto short_info = info;
  short_info[rt::SERIALIZED_ENGINE_IDX] = "sha256:" + rt::Sha256::hex(bytes);
  EXPECT_EQ(rt::TRTEngine::join_engine_info(engine_tensor, short_info), info);

  auto op = c10::Dispatcher::singleton().findSchemaOrThrow("tensorrt::execute_engine", "");
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  auto call = [&](const std::vector<std::string>& i) {
    torch::jit::Stack stack;
    stack.emplace_back(std::vector<at::Tensor>{x, x});
    stack.emplace_back(engine_tensor);
    stack.emplace_back(i);
    op.callBoxed(&stack);
    return stack[0].toTensorVector();
  };
  rt::set_python_delegate_mode(0);
  EXPECT_TRUE(call(short_info)[0].equal(x * 2));
  EXPECT_TRUE(call(info)[0].equal(x * 2)); // the engine inline (base64) works too
  auto& registry = rt::EngineRegistry::instance();
  EXPECT_EQ(registry.get_or_create(engine_tensor, short_info).get(), registry.get_or_create(engine_tensor, short_info).get());
  EXPECT_EQ(backend->engines_loaded, 2); // the inline form replaced the digest form's engine of this tensor
  // Another tensor holding the same bytes (another module): an engine of its own.
  at::Tensor copy = engine_tensor.clone();
  EXPECT_NE(registry.get_or_create(copy, short_info).get(), registry.get_or_create(engine_tensor, short_info).get());
  // Released once its tensor is gone.
  const int64_t before = registry.size();
  copy = at::Tensor();
  EXPECT_EQ(registry.release_expired(), 1);
  EXPECT_EQ(registry.size(), before - 1);
  auto tampered = short_info;
  tampered[rt::SERIALIZED_ENGINE_IDX] = "sha256:" + std::string(64, '0');
  EXPECT_CONTAINS(error_of([&] { call(tampered); }), "does not match the engine the info refers to");
}
