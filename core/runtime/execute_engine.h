// The tensorrt::execute_engine op (C++ kernels).  Registered in register_jit_hooks.cpp with the same
// schema as the Python runtime's op (py/torch_tensorrt/dynamo/runtime/_execute_engine_op.py), so
// saved programs run on either:
//   tensorrt::execute_engine(Tensor[] input_tensors, Tensor serialized_engine, str[] engine_info) -> Tensor[]
// (engine bytes as a uint8 tensor, engine slot of the info = "sha256:<hex>" of them), plus, for
// TorchScript users of torch.classes.tensorrt.Engine:
//   tensorrt::execute_engine.engine(Tensor[] input_tensors, __torch__.torch.classes.tensorrt.Engine engine)
//       -> Tensor[]
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/intrusive_ptr.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/runtime/TRTEngine.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

std::vector<at::Tensor> execute_engine(std::vector<at::Tensor> inputs, c10::intrusive_ptr<TRTEngine> engine);
// execute_engine on the backend selected for this call (TRTEngine::follow_selected_backend): what
// every entry point (op overloads, Engine.execute, the Python module's direct call) runs.
std::vector<at::Tensor> run_on_selected_backend(std::vector<at::Tensor> inputs, const c10::intrusive_ptr<TRTEngine>& engine);

// The torch dtype of an engine binding's data type (every backend's tensors use this one map).
c10::ScalarType to_scalar_type(DataType t);

// The tensor + str[] overload (register_jit_hooks.cpp) runs the engine from the per-info cache
// (EngineRegistry::get_or_create) unless this says to hand the call to the Python runtime's
// tensorrt::execute_engine_python.
bool should_delegate_to_python();

// Who runs the str[] overload:
//   0 = always the C++ runtime;
//   1 = the Python runtime's delegate when this build cannot run engines (no TensorRT SDK and no
//       other backend selected), else C++ (what torch_tensorrt sets at import);
//   2 = always the Python delegate (e.g. while torch_tensorrt.testing.emulated_runtime() is active).
enum class PythonDelegateMode : int64_t { kNEVER = 0, kWHEN_NO_BACKEND = 1, kALWAYS = 2 };
// Whether a module left to choose (use_python_runtime=None) runs on the C++ runtime: the delegate
// mode is kNEVER, or kWHEN_NO_BACKEND in a build with a TensorRT SDK (a test backend loaded into a
// build without one does not make it the default).
bool runs_engines_by_default();
void set_python_delegate_mode(int64_t mode);
int64_t get_python_delegate_mode();

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
