// Per-layer profiling of the C++ engine on the fake backend (EngineProfiler.h): the trace file after each
// run, in both layouts, summed over runs; the receiver attached to every new context; disable dropping the
// context; format and prefix checks; the writer's JSON for awkward layer names.
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/ops/ones.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/runtime/EngineProfiler.h"
#include "core/runtime/Json.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/torch_test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
namespace fs = std::filesystem;
using torch_tensorrt::tests::error_of;
using torch_tensorrt::tests::fake_spec;
using torch_tensorrt::tests::make_info;

namespace {

class EngineProfilingTest : public torch_tensorrt::tests::FakeBackendTest {
 protected:
  void SetUp() override {
    FakeBackendTest::SetUp();
    dir = fs::temp_directory_path() / ("torchtrt_profile_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    auto spec = fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"});
    spec.layers = {"conv1", "relu1", "fc"};
    engine = c10::make_intrusive<rt::TRTEngine>(make_info(spec, "adder"));
    engine->set_profile_path_prefix(dir.string());
  }
  void TearDown() override {
    fs::remove_all(dir);
    FakeBackendTest::TearDown();
  }

  void run() {
    at::Tensor x = at::ones({2, 3});
    EXPECT_TRUE(rt::execute_engine({x, x}, engine).at(0).equal(x * 2));
  }

  rt::JsonValue trace() const {
    std::ifstream f(dir / "adder_engine_execution_profile.trace");
    EXPECT_TRUE(f.good()) << "no trace file in " << dir;
    std::stringstream text;
    text << f.rdbuf();
    return rt::JsonValue::parse(text.str(), 8);
  }

  int64_t stat(const std::string& key) const {
    auto stats = engine->stats();
    return stats.contains(key) ? stats.at(key) : 0;
  }

  fs::path dir;
  c10::intrusive_ptr<rt::TRTEngine> engine;
};

double member(const rt::JsonValue& object, const std::string& key) {
  const rt::JsonValue* v = object.find(key);
  EXPECT_NE(v, nullptr) << key;
  return v == nullptr ? -1.0 : v->as_number();
}

} // namespace

TEST_F(EngineProfilingTest, NoTraceWithoutProfiling) {
  run();
  EXPECT_FALSE(fs::exists(dir / "adder_engine_execution_profile.trace"));
  EXPECT_FALSE(engine->profiling_enabled());
}

TEST_F(EngineProfilingTest, PerfettoTraceHasEveryLayerSummedOverRuns) {
  engine->enable_profiling();
  run();
  run();
  rt::JsonValue events = trace();
  ASSERT_EQ(events.kind(), rt::JsonValue::Kind::kArray);
  ASSERT_EQ(events.items().size(), 3u);
  const char* names[] = {"conv1", "relu1", "fc"};
  double start_us = 0;
  for (size_t k = 0; k < 3; ++k) {
    const rt::JsonValue& e = events.items()[k];
    EXPECT_EQ(e.find("name")->as_string(), names[k]);
    EXPECT_EQ(e.find("ph")->as_string(), "X");
    EXPECT_EQ(e.find("pid")->as_string(), "adder Engine Execution");
    // The fake backend's layer k takes 0.25 * (k + 1) ms per run; two runs.
    EXPECT_DOUBLE_EQ(member(e, "dur"), 2 * 250.0 * static_cast<double>(k + 1));
    EXPECT_DOUBLE_EQ(member(e, "ts"), start_us);
    EXPECT_EQ(e.find("args")->find("runs")->as_int(), 2);
    start_us += member(e, "dur");
  }
  auto [layers, ms, runs] = engine->layer_profile();
  EXPECT_EQ(layers, (std::vector<std::string>{"conv1", "relu1", "fc"}));
  EXPECT_EQ(runs, (std::vector<int64_t>{2, 2, 2}));
}

TEST_F(EngineProfilingTest, TrexTraceHasTimesAveragesAndPercentages) {
  engine->set_profile_format("trex");
  engine->enable_profiling();
  run();
  run();
  rt::JsonValue entries = trace();
  ASSERT_EQ(entries.items().size(), 3u);
  const double total = 2 * (0.25 + 0.5 + 0.75);
  for (size_t k = 0; k < 3; ++k) {
    const rt::JsonValue& e = entries.items()[k];
    const double per_run = 0.25 * static_cast<double>(k + 1);
    EXPECT_DOUBLE_EQ(member(e, "timeMs"), 2 * per_run);
    EXPECT_DOUBLE_EQ(member(e, "averageMs"), per_run);
    EXPECT_NEAR(member(e, "percentage"), 2 * per_run * 100.0 / total, 1e-9);
    EXPECT_EQ(e.find("ph"), nullptr);
  }
}

TEST_F(EngineProfilingTest, EnabledBeforeTheFirstContextAndAfterIt) {
  run(); // a context without a profiler exists now
  EXPECT_EQ(stat("context.profiler_attached"), 0);
  engine->enable_profiling(); // attached to the live context
  EXPECT_EQ(stat("context.profiler_attached"), 1);
  run();
  EXPECT_EQ(std::get<2>(engine->layer_profile()), (std::vector<int64_t>{1, 1, 1}));
  // A new context (settings changed) gets the receiver too, and the profile goes on.
  engine->set_runtime_settings(1, 0);
  run();
  EXPECT_EQ(stat("contexts_created"), 2);
  EXPECT_EQ(std::get<2>(engine->layer_profile()), (std::vector<int64_t>{2, 2, 2}));
}

TEST_F(EngineProfilingTest, DisableDropsTheContextAndStopsWriting) {
  engine->enable_profiling();
  run();
  engine->disable_profiling();
  fs::remove(dir / "adder_engine_execution_profile.trace");
  run();
  EXPECT_FALSE(fs::exists(dir / "adder_engine_execution_profile.trace"));
  EXPECT_EQ(stat("contexts_created"), 2);
  EXPECT_EQ(stat("context.profiler_attached"), 0);
  EXPECT_TRUE(std::get<0>(engine->layer_profile()).empty());
}

TEST_F(EngineProfilingTest, BadFormatAndPrefixAreRefused) {
  EXPECT_CONTAINS(
      error_of([&] { engine->set_profile_format("chrome"); }),
      "profile_format must be one of ('perfetto', 'trex', 'cudagraph'), got 'chrome'");
  EXPECT_CONTAINS(error_of([&] { engine->set_profile_path_prefix(""); }), "profile_path_prefix must name a directory");
  EXPECT_EQ(engine->get_profile_format(), "perfetto");
}

TEST_F(EngineProfilingTest, AnUnwritablePrefixFailsTheCallNamingThePath) {
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  engine->set_profile_path_prefix((dir / "file").string()); // a file, not a directory
  engine->enable_profiling();
  EXPECT_CONTAINS(error_of([&] { run(); }), "could not write the engine profile");
}

TEST(TraceJson, EscapesLayerNamesAndWritesAnEmptyProfileAsAnEmptyArray) {
  std::vector<rt::LayerRecord> records = {{"a \"quoted\"\\name\n", 1.5, 3}};
  rt::JsonValue v = rt::JsonValue::parse(rt::trace_json("e", "perfetto", records), 8);
  EXPECT_EQ(v.items().at(0).find("name")->as_string(), "a \"quoted\"\\name\n");
  EXPECT_EQ(rt::JsonValue::parse(rt::trace_json("e", "trex", {}), 8).items().size(), 0u);
}
