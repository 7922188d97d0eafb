// Aliased engine outputs on the C++ runtime (AliasedIO.h): an output the engine writes into an input's
// memory (lift_mutable_buffers engines, TensorRT's KV-cache update layer) is bound to the caller's input
// tensor and returned as that tensor. The fake backend's aliased output fails the enqueue unless it is
// bound at its input's address, and adds input 0 into it in place.
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>

#include <string>

#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/torch_test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::error_of;
using torch_tensorrt::tests::FakeBackend;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

class AliasedIOTest : public torch_tensorrt::tests::FakeBackendTest {
 protected:
  // x + cache after the cache took x in place: outputs (total, cache_out aliased to cache).
  static c10::intrusive_ptr<rt::TRTEngine> kv_engine(const std::string& alias_target = "cache") {
    auto spec = fake_spec("add", {{"x", {2, 3}}, {"cache", {2, 3}}}, {"total", "cache_out"});
    spec.io.back().aliased_input = alias_target;
    return c10::make_intrusive<rt::TRTEngine>(make_info(spec, "kv"));
  }

  static int64_t stat(const c10::intrusive_ptr<rt::TRTEngine>& engine, const std::string& key) {
    auto stats = engine->stats();
    return stats.contains(key) ? stats.at(key) : 0;
  }
};

} // namespace

TEST_F(AliasedIOTest, TheCallersCacheIsWrittenInPlaceAndReturnedAcrossCalls) {
  auto engine = kv_engine();
  at::Tensor cache = at::zeros({2, 3}, at::kFloat);
  void* address = cache.data_ptr();
  at::Tensor expected_cache = cache.clone();
  for (int step = 1; step <= 3; ++step) { // same shapes again: the context's shapes are reused
    at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3}) * step;
    expected_cache = expected_cache + x;
    auto out = rt::execute_engine({x, cache}, engine);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(out[0].equal(x + expected_cache)); // computed after the in-place write
    EXPECT_TRUE(out[1].is_same(cache)); // the aliased output is the caller's tensor itself
    EXPECT_TRUE(cache.equal(expected_cache));
    EXPECT_EQ(cache.data_ptr(), address);
  }
  EXPECT_EQ(stat(engine, "context.aliased_writes"), 3);
  auto reported = engine->aliased_outputs();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported.at("cache_out"), 1);
}

TEST_F(AliasedIOTest, ANonContiguousCacheIsRefusedWithThePythonRuntimesWords) {
  auto engine = kv_engine();
  at::Tensor strided = at::zeros({3, 2}, at::kFloat).t(); // shape (2, 3), not contiguous
  std::string message;
  try {
    rt::execute_engine({at::ones({2, 3}, at::kFloat), strided}, engine);
  } catch (const c10::ValueError& e) {
    message = e.what_without_backtrace();
  }
  EXPECT_EQ(
      message,
      "input cache of engine 'kv' is written in place (output cache_out is aliased to it), so it must be a "
      "contiguous tensor: a contiguous copy would receive the update instead. Pass cache.contiguous() and keep "
      "using that tensor.");
  EXPECT_EQ(strided.abs().sum().item<float>(), 0.0F);
  EXPECT_EQ(stat(engine, "context.enqueues"), 0);
}

TEST_F(AliasedIOTest, ATorchSubgraphCaptureIsRefusedBeforeRunning) {
  // Standard TensorRT: cudagraphs mode captures the engine in a torch CUDA graph of input copies.
  auto standard = std::make_shared<FakeBackend>("fake_standard", /*rtx=*/false);
  rt::BackendRegistry::instance().add(standard);
  rt::BackendRegistry::instance().select("fake_standard");
  auto engine = kv_engine();
  at::Tensor cache = at::zeros({2, 3}, at::kFloat);
  rt::set_cudagraphs_mode(true);
  EXPECT_EQ(
      error_of([&] { rt::execute_engine({at::ones({2, 3}, at::kFloat), cache}, engine); }),
      "engine 'kv' writes its inputs in place (aliased outputs ['cache_out']), which a torch CUDA graph replaying "
      "copies of the inputs cannot do; run it without enable_cudagraphs");
  EXPECT_EQ(engine->last_capture_decision(), "torch_subgraph_capture");
  EXPECT_EQ(cache.abs().sum().item<float>(), 0.0F);
  EXPECT_EQ(stat(engine, "graph_captures"), 0);
  // Without the mode it runs, writing the caller's cache.
  rt::set_cudagraphs_mode(false);
  rt::execute_engine({at::ones({2, 3}, at::kFloat), cache}, engine);
  EXPECT_TRUE(cache.equal(at::ones({2, 3}, at::kFloat)));
}

TEST_F(AliasedIOTest, AnOuterCaptureRecordsTheInPlaceRun) {
  // A whole-graph capture records the run on the caller's own buffers, so it is allowed (as in Python).
  auto engine = kv_engine();
  backend->simulate_outer_capture = true;
  at::Tensor cache = at::zeros({2, 3}, at::kFloat);
  auto out = rt::execute_engine({at::ones({2, 3}, at::kFloat), cache}, engine);
  backend->simulate_outer_capture = false;
  EXPECT_TRUE(out[1].is_same(cache));
  EXPECT_TRUE(cache.equal(at::ones({2, 3}, at::kFloat)));
}

TEST_F(AliasedIOTest, AnAliasToAnInputTheEngineInfoLacksIsRefusedAtLoad) {
  auto engine = kv_engine("ghost");
  EXPECT_CONTAINS(
      error_of([&] { rt::execute_engine({at::ones({2, 3}, at::kFloat), at::zeros({2, 3}, at::kFloat)}, engine); }),
      "engine output cache_out is aliased to input ghost, which is not one of the engine info's inputs ['x', 'cache']");
}

TEST_F(AliasedIOTest, EnginesWithoutAliasesAllocateEveryOutput) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(fake_spec("add", {{"x", {2, 3}}, {"y", {2, 3}}}, {"z"}), "plain"));
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  auto out = rt::execute_engine({x, x}, engine);
  EXPECT_FALSE(out[0].is_same(x));
  EXPECT_TRUE(out[0].equal(x * 2));
  EXPECT_EQ(engine->aliased_outputs().size(), 0u);
}
