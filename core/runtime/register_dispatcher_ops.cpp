// The ops of DispatcherBackend (DispatcherBackend.h): the schemas it calls, implemented outside this
// library (torch_tensorrt.testing's emulated runtime implements them in Python), and the two it offers
// to open and close a session.
#include <torch/library.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/runtime/DispatcherBackend.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {
namespace {

void end_session(int64_t session, std::vector<int64_t> contexts, std::vector<at::Tensor> caches) {
  TORCH_CHECK_VALUE(contexts.size() == caches.size(), "one runtime cache per context, got ", contexts.size(), " contexts and ", caches.size(), " caches");
  std::map<int64_t, std::string> final_caches;
  for (size_t i = 0; i < contexts.size(); ++i) {
    at::Tensor bytes = caches[i].contiguous().cpu();
    TORCH_CHECK_VALUE(bytes.scalar_type() == at::kByte, "runtime caches are uint8 tensors");
    final_caches[contexts[i]] = std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel()));
  }
  try {
    DispatcherBackend::end(session, final_caches);
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

} // namespace

TORCH_LIBRARY_FRAGMENT(tensorrt, m) {
  // Called by DispatcherBackend, implemented elsewhere (see DispatcherBackend.h).
  m.def("_dispatcher_load(int session, Tensor engine, str name) -> (int, str[], bool[], str[], int[], bool[])");
  m.def(
      "_dispatcher_create_context(int session, int engine, int allocation, int kernel_strategy, "
      "int cuda_graph_strategy, bool use_runtime_cache, Tensor runtime_cache) -> (int, str)");
  m.def("_dispatcher_output_shapes(int session, int context, str[] input_names, Tensor[] inputs, str[] output_names) -> int[]");
  m.def(
      "_dispatcher_execute(int session, int context, str[] names, Tensor[] tensors, bool inputs_bound, "
      "str[] allocated) -> Tensor[]");
  m.def("_dispatcher_runtime_cache(int session, int context) -> Tensor");
  m.def("_dispatcher_outer_capture(int session) -> bool");
  m.def("_dispatcher_profiles(int session, int engine) -> int[]");
  m.def("_dispatcher_set_profile(int session, int context, int profile) -> bool");
  m.def("_dispatcher_weights(int session, int engine) -> int[]");
  m.def("_dispatcher_set_weight_budget(int session, int engine, int budget) -> bool");
  m.def("_dispatcher_set_profiler(int session, int context, bool enabled) -> bool");
  m.def("_dispatcher_layer_times(int session, int context) -> (str[], float[])");
  m.def("_dispatcher_aliases(int session, int engine) -> str[]");

  // Sessions: begin selects a new DispatcherBackend named `name`; end closes it (handing each context
  // its final runtime cache) and restores the backend selected before.
  m.def("_begin_dispatcher_backend(int session, str name, bool rtx) -> ()", [](int64_t session, std::string name, bool rtx) {
    try {
      DispatcherBackend::begin(session, name, rtx);
    } catch (const std::invalid_argument& e) {
      TORCH_CHECK_VALUE(false, e.what());
    }
  });
  m.def("_end_dispatcher_backend(int session, int[] contexts, Tensor[] runtime_caches) -> ()", &end_session);
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
