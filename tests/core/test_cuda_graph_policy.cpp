#include <gtest/gtest.h>

#include "core/runtime/CudaGraphPolicy.h"

namespace rt = torch_tensorrt::core::runtime;
using Decision = rt::CudaGraphPolicy::Decision;

namespace {
rt::CudaGraphPolicy::Plan decide(bool subgraph, bool native, bool outer, bool dds) {
  rt::CudaGraphPolicy::Inputs in;
  in.subgraph_mode = subgraph;
  in.native_capture = native;
  in.outer_capture = outer;
  in.data_dependent_outputs = dds;
  return rt::CudaGraphPolicy::decide(in);
}
} // namespace

TEST(CudaGraphPolicy, NeverTwoCapturesOfTheSameWork) {
  // Every combination: at most one party captures, and native capture is off inside an outer capture.
  for (int bits = 0; bits < 16; ++bits) {
    bool subgraph = bits & 1, native = bits & 2, outer = bits & 4, dds = bits & 8;
    auto plan = decide(subgraph, native, outer, dds);
    if (outer) {
      EXPECT_EQ(plan.decision, Decision::kOUTER_CAPTURE);
      EXPECT_FALSE(plan.allow_native_capture);
      EXPECT_EQ(plan.error.empty(), !dds);
    } else if (native) {
      EXPECT_EQ(plan.decision, Decision::kNATIVE);
      EXPECT_TRUE(plan.allow_native_capture);
    } else if (subgraph && !dds) {
      EXPECT_EQ(plan.decision, Decision::kSUBGRAPH);
      EXPECT_FALSE(plan.allow_native_capture);
    } else {
      EXPECT_EQ(plan.decision, Decision::kNONE);
    }
  }
  EXPECT_STREQ(rt::CudaGraphPolicy::to_string(Decision::kOUTER_CAPTURE), "outer_capture");
}
