// The C++ CUDA-graph rule set. Its agreement with the Python runtime's decide_capture on every
// combination of inputs is asserted in tests/py/runtime/test_cudagraph_policy_parity.py; here the
// rules themselves, case by case (the same table as tests/py/runtime/test_cudagraph_decisions.py).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/runtime/CudaGraphPolicy.h"

namespace rt = torch_tensorrt::core::runtime;
using Path = rt::CudaGraphPolicy::Path;
using rt::CudaGraphStrategy;
using rt::KernelSpecializationStrategy;

namespace {

// Defaults of a case: TensorRT-RTX, nothing asked for, static inputs.
rt::CudaGraphPolicy::Inputs rtx() {
  rt::CudaGraphPolicy::Inputs in;
  in.is_rtx = true;
  return in;
}

struct Case {
  std::string name;
  rt::CudaGraphPolicy::Inputs in;
  Path path;
};

template <typename Edit>
Case make_case(const std::string& name, Edit edit, Path path) {
  rt::CudaGraphPolicy::Inputs in = rtx();
  edit(in);
  return {name, in, path};
}

using In = rt::CudaGraphPolicy::Inputs;
constexpr auto kWhole = CudaGraphStrategy::kWHOLE_GRAPH_CAPTURE;

std::vector<Case> cases() {
  return {
      make_case("nothing asked", [](In&) {}, Path::kNO_CAPTURE),
      make_case("standard, nothing asked", [](In& i) { i.is_rtx = false; }, Path::kNO_CAPTURE),
      make_case("subgraph mode on rtx", [](In& i) { i.cudagraphs_mode = true; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("subgraph mode on standard", [](In& i) { i.cudagraphs_mode = true, i.is_rtx = false; }, Path::kTORCH_SUBGRAPH_CAPTURE),
      make_case("whole_graph_capture on rtx", [](In& i) { i.cuda_graph_strategy = kWhole; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("whole_graph_capture ignored on standard", [](In& i) { i.cuda_graph_strategy = kWhole, i.is_rtx = false; }, Path::kNO_CAPTURE),
      make_case("lazy + dynamic", [](In& i) { i.cudagraphs_mode = true, i.dynamic_inputs = true; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("lazy + dynamic, native strategy", [](In& i) { i.cuda_graph_strategy = kWhole, i.dynamic_inputs = true; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("eager + dynamic", [](In& i) { i.cudagraphs_mode = true, i.dynamic_inputs = true, i.kernel_strategy = KernelSpecializationStrategy::kEAGER; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("none + dynamic", [](In& i) { i.cudagraphs_mode = true, i.dynamic_inputs = true, i.kernel_strategy = KernelSpecializationStrategy::kNONE; }, Path::kRTX_NATIVE_CAPTURE),
      make_case("lazy + dynamic on standard", [](In& i) { i.cudagraphs_mode = true, i.dynamic_inputs = true, i.is_rtx = false; }, Path::kTORCH_SUBGRAPH_CAPTURE),
      make_case("lazy + dynamic, nothing asked", [](In& i) { i.dynamic_inputs = true; }, Path::kNO_CAPTURE),
      make_case("outer + subgraph mode", [](In& i) { i.outer_capture = true, i.cudagraphs_mode = true; }, Path::kOUTER_WHOLE_GRAPH_CAPTURE),
      make_case("outer + native strategy", [](In& i) { i.outer_capture = true, i.cuda_graph_strategy = kWhole; }, Path::kOUTER_WHOLE_GRAPH_CAPTURE),
      make_case("outer on standard", [](In& i) { i.outer_capture = true, i.is_rtx = false; }, Path::kOUTER_WHOLE_GRAPH_CAPTURE),
      make_case("outer + lazy + dynamic", [](In& i) { i.outer_capture = true, i.dynamic_inputs = true; }, Path::kNOT_CAPTURABLE),
      make_case("outer + dynamic on standard", [](In& i) { i.outer_capture = true, i.dynamic_inputs = true, i.is_rtx = false; }, Path::kOUTER_WHOLE_GRAPH_CAPTURE),
      make_case("outer + data-dependent", [](In& i) { i.outer_capture = true, i.data_dependent_outputs = true; }, Path::kNOT_CAPTURABLE),
      make_case("outer ignores the stream probe", [](In& i) { i.outer_capture = true, i.stream_capturable = false; }, Path::kOUTER_WHOLE_GRAPH_CAPTURE),
      make_case("stream not capturable", [](In& i) { i.cudagraphs_mode = true, i.stream_capturable = false; }, Path::kNOT_CAPTURABLE),
      make_case("stream not capturable, nothing asked", [](In& i) { i.stream_capturable = false; }, Path::kNO_CAPTURE),
      make_case("data-dependent on standard", [](In& i) { i.cudagraphs_mode = true, i.is_rtx = false, i.data_dependent_outputs = true; }, Path::kNO_CAPTURE),
      make_case("data-dependent on rtx", [](In& i) { i.cudagraphs_mode = true, i.data_dependent_outputs = true; }, Path::kRTX_NATIVE_CAPTURE),
  };
}

} // namespace

TEST(CudaGraphPolicy, DecisionTable) {
  for (const Case& c : cases()) {
    rt::CudaGraphPolicy::Decision d = rt::CudaGraphPolicy::decide(c.in);
    EXPECT_EQ(rt::CudaGraphPolicy::path_name(d.path), std::string(rt::CudaGraphPolicy::path_name(c.path))) << c.name;
    // Every refusal and every capture says why.
    if (d.path != Path::kNO_CAPTURE) {
      EXPECT_FALSE(d.reason.empty()) << c.name;
    }
  }
}

TEST(CudaGraphPolicy, OnlyNativeCaptureGetsANativeContext) {
  // Never two captures of the same work: only rtx_native_capture creates its context with
  // whole_graph_capture; a torch capture or an outer capture runs on a context without it.
  for (int bits = 0; bits < 128; ++bits) {
    In in;
    in.cudagraphs_mode = bits & 1, in.outer_capture = bits & 2, in.is_rtx = bits & 4, in.dynamic_inputs = bits & 8;
    in.stream_capturable = bits & 16, in.data_dependent_outputs = bits & 32;
    in.cuda_graph_strategy = (bits & 64) ? kWhole : CudaGraphStrategy::kDISABLED;
    rt::CudaGraphPolicy::Decision d = rt::CudaGraphPolicy::decide(in);
    EXPECT_EQ(d.native_strategy() == kWhole, d.path == Path::kRTX_NATIVE_CAPTURE) << bits;
    if (in.outer_capture) {
      EXPECT_TRUE(d.path == Path::kOUTER_WHOLE_GRAPH_CAPTURE || d.path == Path::kNOT_CAPTURABLE) << bits;
    }
    if (d.path == Path::kRTX_NATIVE_CAPTURE) {
      EXPECT_TRUE(in.is_rtx) << bits;
    }
  }
}

TEST(CudaGraphPolicy, ReasonsNameTheCause) {
  In in = rtx();
  in.outer_capture = true; // lazy kernels only break a graph recorded outside the engine
  in.dynamic_inputs = true;
  std::string lazy = rt::CudaGraphPolicy::decide(in).reason;
  EXPECT_NE(lazy.find("dynamic_shapes_kernel_specialization_strategy='lazy'"), std::string::npos) << lazy;
  EXPECT_NE(lazy.find("'eager'"), std::string::npos) << lazy;
  in = rtx();
  in.outer_capture = true;
  in.data_dependent_outputs = true;
  EXPECT_NE(rt::CudaGraphPolicy::decide(in).reason.find("data-dependent output shapes"), std::string::npos);
  EXPECT_STREQ(rt::CudaGraphPolicy::path_name(Path::kOUTER_WHOLE_GRAPH_CAPTURE), "outer_whole_graph_capture");
  EXPECT_STREQ(rt::CudaGraphPolicy::path_name(Path::kNOT_CAPTURABLE), "not_capturable");
}
