// Backends selected for a scope (BackendRegistry::exchange / restore, as emulated_runtime() selects a
// DispatcherBackend) and engines that follow the selection per call (TRTEngine::follow_selected_backend).
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/ops/ones.h>

#include <memory>
#include <string>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::FakeBackend;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

class BackendSelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    outer = std::make_shared<FakeBackend>("outer", /*rtx=*/true);
    scoped = std::make_shared<FakeBackend>("scoped", /*rtx=*/true);
    rt::BackendRegistry::instance().add(outer);
    rt::BackendRegistry::instance().select("outer");
  }
  void TearDown() override {
    rt::BackendRegistry::instance().select("default");
    rt::EngineRegistry::instance().clear();
  }

  // One call as the op makes it: follow the selection, then execute.
  void run(const c10::intrusive_ptr<rt::TRTEngine>& engine) {
    at::Tensor x = at::ones({2, 3}, at::kFloat);
    engine->follow_selected_backend();
    auto out = rt::execute_engine({x, x}, engine);
    ASSERT_TRUE(out.at(0).equal(x * 2));
  }

  std::shared_ptr<FakeBackend> outer;
  std::shared_ptr<FakeBackend> scoped;
};

} // namespace

TEST_F(BackendSelectionTest, ExchangeSelectsAnUnregisteredBackendAndRestoreUndoesIt) {
  auto& registry = rt::BackendRegistry::instance();
  const uint64_t before = registry.generation();
  auto previous = registry.exchange(scoped);
  EXPECT_EQ(previous, outer);
  EXPECT_EQ(registry.current_name(), "scoped");
  EXPECT_NE(registry.generation(), before);
  // Not registered by name: a scope's backend is reachable only through its scope.
  for (const auto& name : registry.names()) {
    EXPECT_NE(name, "scoped");
  }
  // Another selection happened since: restoring on behalf of `scoped` must not undo it.
  registry.select("outer");
  EXPECT_FALSE(registry.restore(scoped, previous));
  registry.exchange(scoped);
  EXPECT_TRUE(registry.restore(scoped, previous));
  EXPECT_EQ(registry.current_name(), "outer");
}

TEST_F(BackendSelectionTest, EnginesFollowTheSelectionPerCallAndKeepTheirKernels) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}), "adder"));
  engine->set_runtime_cache_path(""); // kernels kept in memory, across contexts
  run(engine);
  EXPECT_EQ(engine->backend_name(), "outer");

  auto previous = rt::BackendRegistry::instance().exchange(scoped);
  run(engine);
  EXPECT_EQ(engine->backend_name(), "scoped");
  EXPECT_EQ(scoped->engines_loaded, 1);
  EXPECT_EQ(engine->stats().at("contexts_created"), 2);
  // The kernels compiled on the outer backend's context reached the scoped one's.
  EXPECT_EQ(engine->stats().at("context.cache_kernels_loaded"), 1);
  run(engine);
  EXPECT_EQ(engine->stats().at("contexts_created"), 2) << "same selection: the context is reused";

  ASSERT_TRUE(rt::BackendRegistry::instance().restore(scoped, previous));
  run(engine);
  EXPECT_EQ(engine->backend_name(), "outer");
  EXPECT_EQ(outer->engines_loaded, 2) << "the engine is deserialized again on the backend it returns to";
  EXPECT_EQ(engine->stats().at("executions"), 4);
}
