// Optimization profiles and weight-streaming budgets of the C++ engine on the fake backend: profile
// selection (automatic, forced, cached per shapes), the errors naming shapes and ranges, and budgets
// (automatic on load, set with no context alive, kept across backend switches, refused when invalid).
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/ops/ones.h>

#include <string>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/OptimizationProfiles.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/torch_test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::error_of;
using torch_tensorrt::tests::FakeBackend;
using torch_tensorrt::tests::FakeEngineSpec;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

class ProfilesAndBudgetsTest : public torch_tensorrt::tests::FakeBackendTest {
 protected:
  // An adder of two (n, 3) inputs: profile 0 takes n = 1, profile 1 takes n in 4..16.
  static FakeEngineSpec two_profile_spec(int64_t streamable = 0, int64_t automatic = -1) {
    FakeEngineSpec spec = fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"});
    for (const char* name : {"x", "y"}) {
      spec.profiles[0][name] = rt::ProfileShape{{1, 3}, {1, 3}, {1, 3}};
      spec.profiles[1][name] = rt::ProfileShape{{4, 3}, {8, 3}, {16, 3}};
    }
    spec.streamable = streamable;
    spec.automatic_budget = automatic;
    return spec;
  }

  static c10::intrusive_ptr<rt::TRTEngine> engine_of(const FakeEngineSpec& spec) {
    return c10::make_intrusive<rt::TRTEngine>(make_info(spec, "adder"));
  }

  static at::Tensor run(const c10::intrusive_ptr<rt::TRTEngine>& engine, int64_t batch) {
    at::Tensor x = at::ones({batch, 3});
    auto out = rt::execute_engine({x, x}, engine);
    EXPECT_TRUE(out.at(0).equal(x * 2));
    return out.at(0);
  }

  static int64_t stat(const c10::intrusive_ptr<rt::TRTEngine>& e, const std::string& key) {
    auto s = e->stats();
    return s.contains(key) ? s.at(key) : 0;
  }

};

} // namespace

TEST_F(ProfilesAndBudgetsTest, CallsRunOnTheFirstProfileContainingTheirShapes) {
  auto engine = engine_of(two_profile_spec());
  EXPECT_EQ(engine->num_optimization_profiles(), 2);
  run(engine, 8);
  EXPECT_EQ(engine->active_optimization_profile(), 1);
  EXPECT_EQ(stat(engine, "context.profile"), 1);
  run(engine, 1);
  EXPECT_EQ(engine->active_optimization_profile(), 0);
  run(engine, 1); // same shapes: no switch
  EXPECT_EQ(stat(engine, "context.profile_switches"), 2);
}

TEST_F(ProfilesAndBudgetsTest, ShapesInNoProfileNameShapesAndRanges) {
  auto engine = engine_of(two_profile_spec());
  std::string error = error_of([&] { run(engine, 2); });
  EXPECT_CONTAINS(error, "inputs of engine 'adder' have shapes x=(2, 3), y=(2, 3), which no optimization profile");
  EXPECT_CONTAINS(error, "profile 0: x min (1, 3) max (1, 3), y min (1, 3) max (1, 3); profile 1: x min (4, 3)");
}

TEST_F(ProfilesAndBudgetsTest, ForcedProfileIsUsedAndChecked) {
  auto engine = engine_of(two_profile_spec());
  engine->set_optimization_profile(1);
  EXPECT_EQ(engine->get_optimization_profile(), 1);
  run(engine, 4);
  EXPECT_EQ(engine->active_optimization_profile(), 1);
  std::string error = error_of([&] { run(engine, 1); });
  EXPECT_CONTAINS(error, "outside optimization profile 1 selected with optimization_profile()");
  engine->clear_optimization_profile();
  run(engine, 1);
  EXPECT_EQ(engine->active_optimization_profile(), 0);
  EXPECT_CONTAINS(error_of([&] { engine->set_optimization_profile(2); }), "engine 'adder' has 2 optimization profiles");
  EXPECT_CONTAINS(error_of([&] { engine->set_optimization_profile(-1); }), "optimization profile -1 does not exist");
}

TEST_F(ProfilesAndBudgetsTest, NewContextStartsOnProfileZero) {
  auto engine = engine_of(two_profile_spec());
  run(engine, 8);
  engine->reset_context();
  EXPECT_EQ(engine->active_optimization_profile(), 0);
  run(engine, 8); // the cached choice is 1: the new context must be switched again
  EXPECT_EQ(stat(engine, "context.profile"), 1);
}

TEST_F(ProfilesAndBudgetsTest, BudgetsAutomaticOnLoadSetWithoutContextAndKept) {
  auto engine = engine_of(two_profile_spec(/*streamable=*/1000, /*automatic=*/600));
  EXPECT_EQ(engine->get_streamable_device_memory_budget(), 1000);
  EXPECT_EQ(engine->get_device_memory_budget(), 600); // set to the automatic budget on load
  EXPECT_EQ(engine->get_automatic_device_memory_budget(), 600);
  run(engine, 1);
  const int64_t contexts = stat(engine, "contexts_created");
  // The fake refuses a budget while a context exists: the engine drops it first.
  EXPECT_TRUE(engine->set_device_memory_budget(250));
  EXPECT_EQ(engine->get_device_memory_budget(), 250);
  run(engine, 1);
  EXPECT_EQ(stat(engine, "contexts_created"), contexts + 1);
  // Another backend: the engine is loaded anew there, with the budget set before.
  rt::BackendRegistry::instance().add(std::make_shared<FakeBackend>("fake2", true));
  rt::BackendRegistry::instance().select("fake2");
  engine->follow_selected_backend();
  EXPECT_EQ(engine->get_device_memory_budget(), 250);
  EXPECT_CONTAINS(error_of([&] { engine->set_device_memory_budget(1001); }), "must lie in 0..1000");
  EXPECT_CONTAINS(error_of([&] { engine->set_device_memory_budget(-1); }), "must lie in 0..1000");
}

TEST_F(ProfilesAndBudgetsTest, EnginesWithoutStreamingRefuseBudgets) {
  auto engine = engine_of(fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}));
  EXPECT_EQ(engine->get_streamable_device_memory_budget(), 0);
  EXPECT_EQ(engine->get_device_memory_budget(), 0);
  EXPECT_EQ(engine->num_optimization_profiles(), 1);
  EXPECT_CONTAINS(error_of([&] { engine->set_device_memory_budget(0); }), "enable_weight_streaming=True");
  EXPECT_CONTAINS(error_of([&] { engine->get_automatic_device_memory_budget(); }), "no streamable weights");
  engine->set_optimization_profile(0);
  run(engine, 5);
}

TEST(OptimizationProfiles, ChoicesAreCachedPerShapesAndForcedProfile) {
  rt::OptimizationProfiles profiles(
      "e", {"x"}, {{{{1}, {4}}}, {{{3}, {8}}}});
  EXPECT_EQ(profiles.choose({{3}}, -1), 0);
  EXPECT_EQ(profiles.choose({{5}}, -1), 1);
  EXPECT_EQ(profiles.choose({{3}}, 1), 1);
  EXPECT_THROW(profiles.choose({{9}}, -1), std::invalid_argument);
  EXPECT_THROW(profiles.choose({{2}}, 1), std::invalid_argument);
  EXPECT_FALSE(profiles.fits(0, {{1, 1}})); // wrong rank
  EXPECT_EQ(profiles.describe(1), "profile 1: x min (3,) max (8,)");
}
