// _EngineFastPath: the C form of _engine_fast_path.py's runner (see engine_fast_path.h). The Python file
// owns the eligibility rules and hands this type, per plan, everything a call reads: the engine, its
// plan and lock, where TRTEngine._call_stamp's inputs live, the context's bound methods and the shared
// shape state (engine._fast_shapes). A call here does what the Python runner does, in the same order:
//   inputs counted -> lock -> plan, stamp and multi-device checks -> per input: exact torch.Tensor,
//   contiguous, signature already accepted, set the shape only if it changed, bind -> output shapes
//   asked only after a shape change -> outputs allocated and bound -> last_capture_decision -> enqueue.
// The backend's methods stay Python methods, called through vectorcall.
#include "core/runtime/engine_fast_path.h"

#include <ATen/PythonTorchFunctionTLS.h>
#include <ATen/ops/empty.h>
#include <c10/core/impl/TorchDispatchModeTLS.h>
#include <torch/csrc/Device.h>
#include <torch/csrc/DynamicTypes.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/utils/device_lazy_init.h>

#include "core/runtime/engine_fast_path_state.h"

namespace torch_tensorrt::core::runtime::python::fast_path {
namespace {

PyObject* plan_item(FastPath* self, Py_ssize_t index) {
  return PyTuple_GET_ITEM(self->refs[kPlan], index); // checked to be a 3-tuple at construction
}

// --- the call stamp (TRTEngine._call_stamp, read from the same places) --------------------------------

// A new reference to globals[name], or nullptr (with an error only if the read failed).
PyObject* read_global(PyObject* source) {
  PyObject* value = PyDict_GetItemWithError(PyTuple_GET_ITEM(source, 0), PyTuple_GET_ITEM(source, 1));
  Py_XINCREF(value);
  return value;
}

// A new reference to the value of a context variable (its default when unset), or nullptr on error.
PyObject* context_value(PyObject* var) {
  PyObject* value = nullptr;
  return PyContextVar_Get(var, nullptr, &value) < 0 ? nullptr : value;
}

// `value == expected` (1/0), -1 on error; a null value (absent global) compares unequal.
int same(PyObject* value, PyObject* expected) {
  if (value == nullptr) {
    return PyErr_Occurred() ? -1 : 0;
  }
  const int equal = PyObject_RichCompareBool(value, expected, Py_EQ);
  Py_DECREF(value);
  return equal;
}

// A new reference to the backend a call runs on: the pinned one, else the active one or the default.
PyObject* call_backend(FastPath* self) {
  if (self->state->pinned) {
    Py_INCREF(self->refs[kPinnedBackend]);
    return self->refs[kPinnedBackend];
  }
  PyObject* active = context_value(self->refs[kBackendVar]);
  if (active == nullptr) {
    return nullptr;
  }
  const int truthy = active == Py_None ? 0 : PyObject_IsTrue(active);
  if (truthy != 0) {
    return truthy < 0 ? (Py_DECREF(active), nullptr) : active;
  }
  Py_DECREF(active);
  return read_global(self->refs[kDefaultBackend]);
}

// A new reference to the stamp's outer-capture entry: OUTER_CAPTURE, else on a CUDA backend whose
// engine is loaded whether the current stream is capturing.
PyObject* outer_capture(FastPath* self, PyObject* backend) {
  static PyObject* const engine_name = interned("_engine");
  static PyObject* const backend_name = interned("_backend");
  PyObject* outer = context_value(self->refs[kOuterCaptureVar]);
  const int truthy = outer == nullptr ? -1 : PyObject_IsTrue(outer);
  if (truthy != 0 || !self->state->stamp_backend_is_cuda) {
    return truthy < 0 ? (Py_XDECREF(outer), nullptr) : outer;
  }
  PyObject* engine_handle = PyObject_GetAttr(self->refs[kEngine], engine_name);
  PyObject* engine_backend = PyObject_GetAttr(self->refs[kEngine], backend_name);
  const bool ask = engine_handle != nullptr && engine_backend != nullptr && engine_handle != Py_None &&
      engine_backend == backend;
  Py_XDECREF(engine_handle);
  Py_XDECREF(engine_backend);
  if (PyErr_Occurred()) {
    Py_DECREF(outer);
    return nullptr;
  }
  if (!ask) {
    return outer;
  }
  Py_DECREF(outer);
  return PyObject_CallNoArgs(self->refs[kIsCapturing]);
}

// Whether this call's stamp equals the plan's (1/0), -1 on error. The backend is compared first: a
// call on another backend declines before anything of the plan's backend is read.
int stamp_matches(FastPath* self) {
  PyObject* stamp = plan_item(self, 0);
  PyObject* backend = call_backend(self);
  if (backend == nullptr) {
    return PyErr_Occurred() ? -1 : 0;
  }
  const int same_backend = PyObject_RichCompareBool(backend, PyTuple_GET_ITEM(stamp, 0), Py_EQ);
  if (same_backend != 1) {
    Py_DECREF(backend);
    return same_backend;
  }
  PyObject* outer = outer_capture(self, backend);
  Py_DECREF(backend);
  if (outer == nullptr) {
    return -1;
  }
  int result = same(read_global(self->refs[kDefaults]), PyTuple_GET_ITEM(stamp, 1));
  if (result == 1) {
    PyObject* features = read_global(self->refs[kFeatures]);
    PyObject* rtx = features == nullptr ? nullptr : PyObject_GetAttr(features, self->refs[kRtxName]);
    Py_XDECREF(features);
    result = same(rtx, PyTuple_GET_ITEM(stamp, 2));
  }
  if (result == 1) {
    result = same(read_global(self->refs[kCudagraphs]), PyTuple_GET_ITEM(stamp, 3));
  }
  if (result == 1) {
    return same(outer, PyTuple_GET_ITEM(stamp, 4));
  }
  Py_DECREF(outer);
  return result;
}

// Whether the plan still holds for this call: engine._plan is this path's plan, the stamp is unchanged
// and (CUDA engines) multi-device safe mode is off. 1/0, -1 on error.
int plan_holds(FastPath* self) {
  static PyObject* const plan_name = interned("_plan");
  PyObject* plan = PyObject_GetAttr(self->refs[kEngine], plan_name);
  if (plan == nullptr) {
    return -1;
  }
  Py_DECREF(plan); // only its identity is compared
  if (plan != self->refs[kPlan]) {
    return 0;
  }
  const int stamp = stamp_matches(self);
  if (stamp != 1 || !self->state->device.has_value()) {
    return stamp;
  }
  PyObject* multi_device = read_global(self->refs[kMultiDevice]);
  if (multi_device == nullptr) {
    return PyErr_Occurred() ? -1 : 0;
  }
  const int on = PyObject_IsTrue(multi_device);
  Py_DECREF(multi_device);
  return on < 0 ? -1 : !on;
}

// --- the shape state (engine._fast_shapes, shared with the Python runner and the general path) --------

// The sizes in a sequence of ints (a torch.Size, or what output_shape returned); false with an error.
bool read_sizes(PyObject* sequence, Sizes& sizes) {
  PyObject* items = PySequence_Fast(sequence, "a shape must be a sequence of ints");
  if (items == nullptr) {
    return false;
  }
  const Py_ssize_t rank = PySequence_Fast_GET_SIZE(items);
  sizes.resize(static_cast<size_t>(rank));
  bool ok = true;
  for (Py_ssize_t d = 0; ok && d < rank; ++d) {
    sizes[static_cast<size_t>(d)] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(items, d));
    ok = !(sizes[static_cast<size_t>(d)] == -1 && PyErr_Occurred());
  }
  Py_DECREF(items);
  return ok;
}

// Takes `list` as the known shape state: the input shapes the Python runner wrote there (calls it ran
// under a mode) and the output entries it wrote next to them. False (unknown) if they do not read.
bool adopt_shapes(FastPath* self, PyObject* list, PyObject* entries) {
  State& state = *self->state;
  const auto outputs = static_cast<size_t>(PyTuple_GET_SIZE(self->refs[kOutputs]));
  std::vector<Sizes> inputs(static_cast<size_t>(state.count));
  std::vector<Sizes> output_sizes(outputs);
  bool ok = PyList_Check(list) && PyList_GET_SIZE(list) == state.count && PyList_Check(entries) &&
      PyList_GET_SIZE(entries) == static_cast<Py_ssize_t>(outputs);
  for (size_t i = 0; ok && i < inputs.size(); ++i) {
    ok = read_sizes(PyList_GET_ITEM(list, static_cast<Py_ssize_t>(i)), inputs[i]);
  }
  for (size_t j = 0; ok && j < outputs; ++j) {
    PyObject* entry = PyList_GET_ITEM(entries, static_cast<Py_ssize_t>(j));
    ok = PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 3 &&
        read_sizes(PyTuple_GET_ITEM(entry, 2), output_sizes[j]);
  }
  if (!ok) {
    PyErr_Clear();
    return false;
  }
  state.known.inputs = std::move(inputs);
  state.known.outputs = std::move(output_sizes);
  Py_INCREF(list);
  Py_XSETREF(state.known.list, list);
  return true;
}

// Whether the shapes set on the context are known (state.known describes them): shapes_state[0] is
// None after the general path set shapes itself.
bool shapes_known(FastPath* self) {
  PyObject* shapes_state = self->refs[kShapesState];
  if (PyList_GET_SIZE(shapes_state) != 2) {
    return false;
  }
  PyObject* list = PyList_GET_ITEM(shapes_state, 0);
  if (list == Py_None) {
    return false;
  }
  return list == self->state->known.list || adopt_shapes(self, list, PyList_GET_ITEM(shapes_state, 1));
}

bool set_state_item(FastPath* self, Py_ssize_t index, PyObject* value) {
  Py_INCREF(value);
  return PyList_SetItem(self->refs[kShapesState], index, value) == 0; // steals value
}

// Calls fn(a, b) (a bound method: vectorcall with room for its self); false with the error it raised.
bool call2(PyObject* fn, PyObject* a, PyObject* b) {
  PyObject* args[3] = {nullptr, a, b};
  PyObject* result = PyObject_Vectorcall(fn, args + 1, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
  Py_XDECREF(result);
  return result != nullptr;
}

// After a shape change: asks the context for every output shape and records the input shapes and the
// output entries as the shape state, in the Python runner's format. False with an error.
bool record_shapes(FastPath* self) {
  State& state = *self->state;
  PyObject* outputs = self->refs[kOutputs];
  const Py_ssize_t count = PyTuple_GET_SIZE(outputs);
  std::vector<Sizes> output_sizes(static_cast<size_t>(count));
  PyObject* entries = PyList_New(count);
  for (Py_ssize_t j = 0; entries != nullptr && j < count; ++j) {
    PyObject* output = PyTuple_GET_ITEM(outputs, j); // (name, dtype)
    PyObject* name = PyTuple_GET_ITEM(output, 0);
    PyObject* shape = PyObject_CallOneArg(self->refs[kOutputShape], name);
    PyObject* entry = shape == nullptr ? nullptr : PyTuple_Pack(3, name, PyTuple_GET_ITEM(output, 1), shape);
    Py_XDECREF(shape);
    if (entry == nullptr || !read_sizes(PyTuple_GET_ITEM(entry, 2), output_sizes[static_cast<size_t>(j)])) {
      Py_XDECREF(entry);
      Py_CLEAR(entries);
      break;
    }
    PyList_SET_ITEM(entries, j, entry);
  }
  PyObject* list = entries == nullptr ? nullptr : PyList_New(state.count);
  for (Py_ssize_t i = 0; list != nullptr && i < state.count; ++i) {
    PyObject* shape = PyTuple_GET_ITEM(state.signatures[static_cast<size_t>(i)].key, 0); // this call's
    Py_INCREF(shape);
    PyList_SET_ITEM(list, i, shape);
  }
  const bool ok = list != nullptr && set_state_item(self, 1, entries) && set_state_item(self, 0, list);
  Py_XDECREF(entries);
  if (ok) {
    state.known.inputs.clear();
    for (const Signature& signature : state.signatures) {
      state.known.inputs.push_back(signature.sizes);
    }
    state.known.outputs = std::move(output_sizes);
    Py_XSETREF(state.known.list, list);
    return true;
  }
  Py_XDECREF(list);
  return false;
}

// --- one call -------------------------------------------------------------------------------------------

// The signature key of an input (borrowed from its Signature): the last one when the tensor's facts are
// the same, else a new (tensor.shape, tensor.dtype, tensor.device). nullptr with an error.
PyObject* signature_key(Signature& signature, PyObject* object, const at::Tensor& tensor) {
  static PyObject* const shape_name = interned("shape");
  const c10::IntArrayRef sizes = tensor.sizes();
  if (signature.key != nullptr && signature.dtype == tensor.scalar_type() && signature.device == tensor.device() &&
      sizes.equals(signature.sizes)) {
    return signature.key;
  }
  PyObject* shape = PyObject_GetAttr(object, shape_name);
  PyObject* device = shape == nullptr ? nullptr : THPDevice_New(tensor.device());
  PyObject* dtype = reinterpret_cast<PyObject*>(torch::getTHPDtype(tensor.scalar_type()));
  PyObject* key = device == nullptr ? nullptr : PyTuple_Pack(3, shape, dtype, device);
  Py_XDECREF(shape);
  Py_XDECREF(device);
  if (key == nullptr) {
    return nullptr;
  }
  signature.sizes.assign(sizes.begin(), sizes.end());
  signature.dtype = tensor.scalar_type();
  signature.device = tensor.device();
  Py_XSETREF(signature.key, key);
  return key;
}

// Whether the signature of input i is in engine._accepted[i]: 1/0, -1 with an error.
int signature_accepted(PyObject* accepted, Py_ssize_t i, PyObject* key) {
  PyObject* seen = PySequence_GetItem(accepted, i);
  if (seen == nullptr) {
    return -1;
  }
  const int contains = PySequence_Contains(seen, key);
  Py_DECREF(seen);
  return contains;
}

// Checks input i, sets its shape on the context if it changed (or the shapes are unknown) and binds it:
// 1 done, 0 declined, -1 error. The first changed shape makes the state unknown (shapes_state[0] None)
// until every shape is set again.
int bind_input(FastPath* self, PyObject* object, PyObject* accepted, Py_ssize_t i, bool& known) {
  HANDLE_TH_ERRORS
  if (Py_TYPE(object) != reinterpret_cast<PyTypeObject*>(THPVariableClass)) {
    return 0; // subclasses and Parameters (checks, unwrapping) are the general path's
  }
  const at::Tensor& tensor = THPVariable_Unpack(object);
  if (!tensor.is_contiguous()) {
    return 0; // the general path binds a dense copy
  }
  State& state = *self->state;
  PyObject* key = signature_key(state.signatures[static_cast<size_t>(i)], object, tensor);
  const int accepted_before = key == nullptr ? -1 : signature_accepted(accepted, i, key);
  if (accepted_before != 1) {
    return accepted_before; // an unchecked signature is checked by the general path
  }
  PyObject* name = PyTuple_GET_ITEM(self->refs[kNames], i);
  if (!known || !tensor.sizes().equals(state.known.inputs[static_cast<size_t>(i)])) {
    if (known && !set_state_item(self, 0, Py_None)) {
      return -1;
    }
    known = false;
    if (!call2(self->refs[kSetShape], name, PyTuple_GET_ITEM(key, 0))) {
      return -1;
    }
  }
  return call2(self->refs[kBind], name, object) ? 1 : -1;
  END_HANDLE_TH_ERRORS_RET(-1)
}

// A new output tensor (torch.empty(size=..., dtype=..., device=...) as the Python runner calls it: no
// mode is active here, so the default device is the host), or nullptr with an error.
PyObject* new_output(const Sizes& sizes, at::ScalarType dtype, std::optional<c10::Device> device) {
  HANDLE_TH_ERRORS
  at::TensorOptions options = at::TensorOptions().dtype(dtype);
  if (device.has_value()) {
    torch::utils::maybe_initialize_device(*device);
    options = options.device(*device);
  }
  return THPVariable_Wrap(at::empty(sizes, options));
  END_HANDLE_TH_ERRORS
}

// The outputs, each allocated for the known output shape and bound; nullptr with an error.
PyObject* bind_outputs(FastPath* self) {
  State& state = *self->state;
  PyObject* outputs = self->refs[kOutputs];
  const Py_ssize_t count = PyTuple_GET_SIZE(outputs);
  PyObject* results = PyList_New(count);
  for (Py_ssize_t j = 0; results != nullptr && j < count; ++j) {
    const auto index = static_cast<size_t>(j);
    PyObject* out = new_output(state.known.outputs[index], state.output_dtypes[index], state.device);
    if (out == nullptr) {
      Py_CLEAR(results);
      break;
    }
    PyList_SET_ITEM(results, j, out);
    if (!call2(self->refs[kBind], PyTuple_GET_ITEM(PyTuple_GET_ITEM(outputs, j), 0), out)) {
      Py_CLEAR(results);
    }
  }
  return results;
}

// The call, with the engine's lock held: outputs, Py_None when declined, nullptr with an error.
PyObject* run_locked(FastPath* self, PyObject* inputs) {
  static PyObject* const accepted_name = interned("_accepted");
  static PyObject* const decision_name = interned("last_capture_decision");
  const int holds = plan_holds(self);
  PyObject* accepted = holds == 1 ? PyObject_GetAttr(self->refs[kEngine], accepted_name) : nullptr;
  if (accepted == nullptr) {
    return holds == 0 ? Py_NewRef(Py_None) : nullptr;
  }
  bool known = shapes_known(self);
  int bound = 1;
  for (Py_ssize_t i = 0; bound == 1 && i < self->state->count; ++i) {
    bound = bind_input(self, PyTuple_GET_ITEM(inputs, i), accepted, i, known);
  }
  Py_DECREF(accepted);
  if (bound != 1) {
    return bound == 0 ? Py_NewRef(Py_None) : nullptr;
  }
  if (!known && !record_shapes(self)) {
    return nullptr;
  }
  PyObject* results = bind_outputs(self);
  if (results == nullptr) {
    return nullptr;
  }
  if (PyObject_SetAttr(self->refs[kEngine], decision_name, plan_item(self, 1)) < 0) {
    Py_DECREF(results);
    return nullptr;
  }
  PyObject* ran = PyObject_CallOneArg(self->refs[kRun], self->refs[kRunArg]);
  if (ran == nullptr) {
    Py_DECREF(results);
    return nullptr;
  }
  Py_DECREF(ran);
  return results;
}

// Calls made under a torch function or dispatch mode (torch.set_default_device is one) or while the JIT
// traces go to the Python runner, whose tensor reads and torch.empty those see exactly as written.
bool needs_python_runner() {
  return at::impl::torch_function_mode_enabled() || c10::impl::TorchDispatchModeTLS::stack_len() > 0 ||
      torch::jit::tracer::isTracing();
}

// engine._lock.release() after the call; as in Python's `finally`, an error of release replaces the
// call's result or error.
PyObject* release_after(FastPath* self, PyObject* result) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyObject* released = PyObject_CallNoArgs(self->refs[kRelease]);
  if (released != nullptr) {
    Py_DECREF(released);
    PyErr_Restore(type, value, traceback);
    return result;
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  Py_XDECREF(result);
  return nullptr;
}

} // namespace

PyObject* run(FastPath* self, PyObject* inputs) {
  if (self->refs[kPlan] == nullptr) {
    Py_RETURN_NONE; // cleared by the garbage collector
  }
  if (!(PyTuple_Check(inputs) || PyList_Check(inputs)) || needs_python_runner()) {
    return PyObject_CallOneArg(self->refs[kFallback], inputs);
  }
  if (PySequence_Fast_GET_SIZE(inputs) != self->state->count) {
    Py_RETURN_NONE;
  }
  // A tuple: backend calls cannot change it under the loop. This path stays alive for the call even if
  // a backend call drops the engine's reference to it.
  PyObject* snapshot = PyList_Check(inputs) ? PyList_AsTuple(inputs) : Py_NewRef(inputs);
  PyObject* acquired = snapshot == nullptr ? nullptr : PyObject_CallNoArgs(self->refs[kAcquire]);
  if (acquired == nullptr) {
    Py_XDECREF(snapshot);
    return nullptr;
  }
  Py_DECREF(acquired);
  Py_INCREF(self);
  PyObject* result = release_after(self, run_locked(self, snapshot));
  Py_DECREF(self);
  Py_DECREF(snapshot);
  return result;
}

} // namespace torch_tensorrt::core::runtime::python::fast_path

namespace torch_tensorrt::core::runtime::python {

PyObject* run_engine_fast_path(PyObject* fast_path, PyObject* inputs) {
  return fast_path::run(reinterpret_cast<fast_path::FastPath*>(fast_path), inputs);
}

} // namespace torch_tensorrt::core::runtime::python
