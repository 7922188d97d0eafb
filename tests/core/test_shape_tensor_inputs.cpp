// Shape-tensor inputs (Input(is_shape_tensor=True)) on the C++ runtime, against the fake backend: the
// metadata's shape_values, the per-call value check (the Python runtime's ValueError text), the host
// copy TensorRT reads, and CUDA graphs recorded per set of values.
#include <gtest/gtest.h>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/tensor.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "core/runtime/BackendRegistry.h"
#include "core/runtime/EngineMetadata.h"
#include "core/runtime/EngineRegistry.h"
#include "core/runtime/TRTEngine.h"
#include "core/runtime/execute_engine.h"
#include "tests/core/torch_test_helpers.h"

namespace rt = torch_tensorrt::core::runtime;
using torch_tensorrt::tests::FakeBackend;
using torch_tensorrt::tests::FakeEngineSpec;
using torch_tensorrt::tests::make_info;

namespace {

std::string metadata_with(const std::string& dims_input) {
  return R"({"format":"torch_tensorrt.engine_metadata","version":1,"inputs":[)"
         R"({"name":"x","dtype":"float32","shape":[5]},)" +
      dims_input + "]}";
}

// rows: a one-value int64 shape tensor for values 1..8 (opt 4).
const std::string kRowsInput = R"({"name":"rows","dtype":"int64","shape":[1],"shape_values":[[1],[4],[8]]})";

// The fake op "identity" copies input 0 (x) to the output; `rows` is only read, from host memory.
FakeEngineSpec shape_input_spec(rt::DataType dims_dtype, int64_t dims_len, bool host) {
  FakeEngineSpec spec;
  spec.op = "identity";
  spec.io.push_back({"x", true, rt::DataType::kFLOAT32, {5}});
  rt::IOTensorInfo dims{"rows", true, dims_dtype, {dims_len}};
  dims.host_input = host;
  spec.io.push_back(dims);
  spec.io.push_back({"out", false, rt::DataType::kFLOAT32, {}});
  return spec;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const c10::ValueError& e) {
    return e.what_without_backtrace();
  }
  return "(no ValueError)";
}

class ShapeTensorInputTest : public torch_tensorrt::tests::FakeBackendTest {
 protected:
  static int64_t stat(const c10::intrusive_ptr<rt::TRTEngine>& e, const std::string& key) {
    auto s = e->stats();
    return s.contains(key) ? s.at(key) : -1;
  }

};

} // namespace

TEST(ShapeValuesMetadata, ReadsTheValueRange) {
  auto md = rt::EngineMetadata::from_json(metadata_with(kRowsInput));
  ASSERT_EQ(md.inputs.size(), 2u);
  EXPECT_FALSE(md.inputs[0].has_shape_values);
  EXPECT_TRUE(md.inputs[1].has_shape_values);
  EXPECT_EQ(md.inputs[1].min_values, std::vector<int64_t>{1});
  EXPECT_EQ(md.inputs[1].opt_values, std::vector<int64_t>{4});
  EXPECT_EQ(md.inputs[1].max_values, std::vector<int64_t>{8});
  // Values, unlike dims, may be negative (a reshape's -1).
  auto negative = rt::EngineMetadata::from_json(
      metadata_with(R"({"name":"d","dtype":"int32","shape":[2],"shape_values":[[-1,1],[-1,4],[-1,8]]})"));
  EXPECT_EQ(negative.inputs[1].min_values, (std::vector<int64_t>{-1, 1}));
}

TEST(ShapeValuesMetadata, RefusesMalformedRanges) {
  auto error = [](const std::string& values) {
    try {
      rt::EngineMetadata::from_json(
          metadata_with(R"({"name":"d","dtype":"int64","shape":[2],"shape_values":)" + values + "}"));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(error("[[1],[2]]"), "metadata.inputs[1].shape_values: expected [min, opt, max] value lists, found 2 entries");
  EXPECT_EQ(error("{}"), "metadata.inputs[1].shape_values: expected a list, found object");
  EXPECT_EQ(error("[[1],[2],[true]]"), "metadata.inputs[1].shape_values[2][0]: expected an integer, found bool");
  EXPECT_EQ(
      error("[[3],[2],[4]]"),
      "metadata.inputs[1].shape_values: need min <= opt <= max value lists of one length, found [3], [2], [4]");
  EXPECT_EQ(
      error("[[1,1],[2],[4,4]]"),
      "metadata.inputs[1].shape_values: need min <= opt <= max value lists of one length, found [1, 1], [2], [4, 4]");
  EXPECT_EQ(
      error("[[1],[2],[1,2,3,4,5,6,7,8,9]]"),
      "metadata.inputs[1].shape_values[2]: rank 9 exceeds the maximum of 8");
  EXPECT_EQ(
      error("[[-9223372036854775808],[2],[4]]"),
      "metadata.inputs[1].shape_values[0][0]: -9223372036854775808 is outside [-9223372036854775807, "
      "9223372036854775807]");
}

TEST_F(ShapeTensorInputTest, ValuesInsideTheRangeRunFromAHostCopy) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(shape_input_spec(rt::DataType::kINT64, 1, /*host=*/true), "rows_engine", metadata_with(kRowsInput)));
  at::Tensor x = at::arange(5, at::kFloat);
  for (int64_t rows : {1, 3, 8}) {
    auto out = rt::execute_engine({x, at::tensor({rows}, at::kLong)}, engine);
    EXPECT_TRUE(out.at(0).equal(x));
    // What TensorRT read from the bound host memory is the call's value.
    EXPECT_EQ(stat(engine, "context.host_value:rows:0"), rows);
  }
}

TEST_F(ShapeTensorInputTest, ValuesOutsideTheRangeAreAValueErrorBeforeAnyRun) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(shape_input_spec(rt::DataType::kINT64, 1, /*host=*/true), "rows_engine", metadata_with(kRowsInput)));
  at::Tensor x = at::arange(5, at::kFloat);
  rt::execute_engine({x, at::tensor({int64_t{2}}, at::kLong)}, engine);
  const int64_t enqueues = stat(engine, "context.enqueues");
  for (int64_t rows : {0, 9}) {
    EXPECT_EQ(
        error_of([&] { rt::execute_engine({x, at::tensor({rows}, at::kLong)}, engine); }),
        "input rows of engine 'rows_engine' is a shape tensor with values (" + std::to_string(rows) +
            ",), outside the values the engine was built for: min (1,), max (8,). Pass values inside that range, "
            "or recompile with a wider torch_tensorrt.Input(min_shape=..., max_shape=..., is_shape_tensor=True).");
  }
  EXPECT_EQ(stat(engine, "context.enqueues"), enqueues);
  // A good call afterwards still runs.
  EXPECT_TRUE(rt::execute_engine({x, at::tensor({int64_t{8}}, at::kLong)}, engine).at(0).equal(x));
}

TEST_F(ShapeTensorInputTest, EveryValueOfAnInt32ShapeTensorIsChecked) {
  const std::string dims = R"({"name":"rows","dtype":"int32","shape":[2],"shape_values":[[1,1],[3,4],[12,12]]})";
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(shape_input_spec(rt::DataType::kINT32, 2, /*host=*/true), "dims_engine", metadata_with(dims)));
  at::Tensor x = at::arange(5, at::kFloat);
  rt::execute_engine({x, at::tensor({2, 6}, at::kInt)}, engine);
  EXPECT_EQ(stat(engine, "context.host_value:rows:0"), 2);
  EXPECT_EQ(stat(engine, "context.host_value:rows:1"), 6);
  EXPECT_EQ(
      error_of([&] { rt::execute_engine({x, at::tensor({2, 13}, at::kInt)}, engine); }),
      "input rows of engine 'dims_engine' is a shape tensor with values (2, 13), outside the values the engine was "
      "built for: min (1, 1), max (12, 12). Pass values inside that range, or recompile with a wider "
      "torch_tensorrt.Input(min_shape=..., max_shape=..., is_shape_tensor=True).");
}

TEST_F(ShapeTensorInputTest, EnginesWithoutShapeInputsHaveNone) {
  auto engine = c10::make_intrusive<rt::TRTEngine>(make_info(
      torch_tensorrt::tests::fake_spec("add", {{"x", {-1, 3}}, {"y", {-1, 3}}}, {"z"}), "adder"));
  at::Tensor x = at::ones({2, 3}, at::kFloat);
  rt::execute_engine({x, x}, engine);
  EXPECT_TRUE(engine->shape_inputs().empty()); // the per-call path tests only this
}

TEST_F(ShapeTensorInputTest, SubgraphCudaGraphIsRecordedPerSetOfValues) {
  // Torch-level capture is for standard TensorRT. TensorRT reads shape tensors when the graph is
  // recorded, so other values must record another graph, not replay the old one.
  auto standard = std::make_shared<FakeBackend>("fake_standard", /*rtx=*/false);
  rt::BackendRegistry::instance().add(standard);
  rt::BackendRegistry::instance().select("fake_standard");
  auto engine = c10::make_intrusive<rt::TRTEngine>(
      make_info(shape_input_spec(rt::DataType::kINT64, 1, /*host=*/true), "rows_engine", metadata_with(kRowsInput)));
  rt::set_cudagraphs_mode(true);
  at::Tensor x = at::arange(5, at::kFloat);
  auto rows = [](int64_t v) { return at::tensor({v}, at::kLong); };
  EXPECT_TRUE(rt::execute_engine({x, rows(3)}, engine).at(0).equal(x));
  EXPECT_EQ(engine->last_capture_decision(), "torch_subgraph_capture");
  EXPECT_EQ(stat(engine, "graph_captures"), 1);
  EXPECT_TRUE(rt::execute_engine({x * 2, rows(3)}, engine).at(0).equal(x * 2));
  EXPECT_EQ(stat(engine, "graph_replays"), 1);
  EXPECT_TRUE(rt::execute_engine({x, rows(5)}, engine).at(0).equal(x));
  EXPECT_EQ(stat(engine, "graph_captures"), 2);
  EXPECT_EQ(stat(engine, "context.host_value:rows:0"), 5);
  EXPECT_EQ(stat(engine, "graph_replays"), 1);
}

// Two profiles with the same shapes but different value ranges of `rows` (TensorRT bounds a shape
// tensor's values per profile): the call runs on the first profile whose shapes *and* values fit.
TEST_F(ShapeTensorInputTest, ProfileIsChosenByShapeTensorValuesToo) {
  FakeEngineSpec spec = shape_input_spec(rt::DataType::kINT64, 1, /*host=*/true);
  for (int32_t p : {0, 1}) {
    spec.profiles[p]["x"] = rt::ProfileShape{{5}, {5}, {5}};
    spec.profiles[p]["rows"] = rt::ProfileShape{{1}, {1}, {1}};
  }
  spec.profile_values[0]["rows"] = rt::ProfileShape{{1}, {2}, {4}};
  spec.profile_values[1]["rows"] = rt::ProfileShape{{5}, {6}, {8}};
  auto engine = c10::make_intrusive<rt::TRTEngine>(make_info(spec, "rows_engine", metadata_with(kRowsInput)));
  at::Tensor x = at::arange(5, at::kFloat);
  auto rows = [](int64_t v) { return at::tensor({v}, at::kLong); };
  for (int64_t value : {6, 2, 8, 4, 5}) {
    // Without the values in the choice, every call would run on profile 0, whose context refuses 5..8.
    EXPECT_TRUE(rt::execute_engine({x, rows(value)}, engine).at(0).equal(x)) << value;
    EXPECT_EQ(engine->active_optimization_profile(), value >= 5 ? 1 : 0) << value;
    EXPECT_EQ(stat(engine, "context.host_value:rows:0"), value);
  }
  // Forced onto profile 0, values only profile 1 takes are refused, naming shapes, values and ranges.
  engine->set_optimization_profile(0);
  EXPECT_EQ(
      error_of([&] { rt::execute_engine({x, rows(7)}, engine); }),
      "inputs of engine 'rows_engine' have shapes x=(5,), rows=(1,) values (7,), outside optimization profile 0 "
      "selected with optimization_profile(): profile 0: x min (5,) max (5,), rows min (1,) max (1,) values min (1,) "
      "max (4,). Select a profile containing them, or 'auto' to run on the first profile that does.");
}

TEST(OptimizationProfilesValues, NoProfileContainsTheValues) {
  rt::OptimizationProfiles profiles("e", {"x", "rows"}, {{{{5}, {5}}, {{1}, {1}}}, {{{5}, {5}}, {{1}, {1}}}});
  profiles.set_value_ranges({1}, {{rt::OptimizationProfiles::Range{{1}, {4}}}, {rt::OptimizationProfiles::Range{{6}, {8}}}});
  EXPECT_EQ(profiles.choose({{5}, {1}}, -1, {{3}}), 0);
  EXPECT_EQ(profiles.choose({{5}, {1}}, -1, {{7}}), 1);
  try {
    profiles.choose({{5}, {1}}, -1, {{5}});
    FAIL() << "5 fits no profile";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "inputs of engine 'e' have shapes x=(5,), rows=(1,) values (5,), which no optimization profile of the engine "
        "contains (profile 0: x min (5,) max (5,), rows min (1,) max (1,) values min (1,) max (4,); profile 1: x min "
        "(5,) max (5,), rows min (1,) max (1,) values min (6,) max (8,)). Pass inputs inside one of them, or recompile "
        "with torch_tensorrt.Input(profiles=[...]) covering these shapes.");
  }
  // Without value ranges (a backend that cannot tell), values do not take part.
  rt::OptimizationProfiles shapes_only("e", {"x", "rows"}, {{{{5}, {5}}, {{1}, {1}}}, {{{5}, {5}}, {{1}, {1}}}});
  EXPECT_EQ(shapes_only.choose({{5}, {1}}, -1, {{7}}), 0);
}
