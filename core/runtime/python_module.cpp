// `import torch_tensorrt._C` (setup.py builds the runtime as this Python extension). Loading the
// library runs the static registrations of the torch.classes / torch.ops.tensorrt API
// (register_jit_hooks.cpp). Bazel builds the same sources into a plain shared library loaded with
// torch.ops.load_library, without this file.
//
// The module's own functions are the eager per-call path of TorchTensorRTModule (its __call__).
// Calling the execute_engine op from Python costs more than the engine's own host work (the
// dispatcher boxes the input list and converts the eleven info strings on every call), so a module
// that has made its first call through the op runs the same engine directly:
//   _execute_registered(engine_tensor, token, inputs) -> list[Tensor] | None
// with the token the op path handed out (tensorrt::_engine_token). None: not run here (the engine was
// released or replaced, or calls go to the Python runtime); the caller then takes the op path, which
// runs exactly the same code after its engine lookup (run_on_selected_backend).
#include <Python.h>

#include <ATen/record_function.h>
#include <c10/core/impl/TorchDispatchModeTLS.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <vector>

#include "core/runtime/EngineRegistry.h"
#include "core/runtime/engine_fast_path.h"
#include "core/runtime/execute_engine.h"

namespace {

using torch_tensorrt::core::runtime::EngineRegistry;

// The inputs as tensors, or false when one is not exactly a torch.Tensor (tracing or a subclass:
// those calls take the op path, where modes and subclasses see the op).
bool unpack_inputs(PyObject* seq, std::vector<at::Tensor>& out) {
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  PyObject** items = PySequence_Fast_ITEMS(seq);
  out.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (!THPVariable_CheckExact(items[i])) {
      return false;
    }
    out.push_back(THPVariable_Unpack(items[i]));
  }
  return true;
}

PyObject* wrap_outputs(std::vector<at::Tensor>&& outputs) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(outputs.size()));
  if (list == nullptr) {
    return nullptr;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    PyObject* item = THPVariable_Wrap(std::move(outputs[i]));
    if (item == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

PyObject* run_registered(const at::Tensor& engine_tensor, int64_t token, PyObject* inputs_seq) {
  auto engine = EngineRegistry::instance().find(engine_tensor.storage().unsafeGetStorageImpl(), token);
  std::vector<at::Tensor> inputs;
  if (!engine || !unpack_inputs(inputs_seq, inputs)) {
    Py_RETURN_NONE;
  }
  std::vector<at::Tensor> outputs;
  {
    // The op path's profiler event, so traces look the same either way.
    RECORD_FUNCTION("tensorrt::execute_engine", std::vector<c10::IValue>());
    // Without the GIL, as the op path runs: the engine's mutex is held across backend calls that may
    // need the GIL (emulated backends call Python), so holding both here could deadlock.
    pybind11::gil_scoped_release no_gil;
    outputs = torch_tensorrt::core::runtime::run_on_selected_backend(std::move(inputs), engine);
  }
  return wrap_outputs(std::move(outputs));
}

PyObject* execute_registered(PyObject* /*self*/, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (nargs != 3 || !THPVariable_Check(args[0]) || !PyLong_Check(args[1]) ||
      !(PyTuple_Check(args[2]) || PyList_Check(args[2]))) {
    PyErr_SetString(PyExc_TypeError, "_execute_registered(engine_tensor, token: int, inputs: tuple | list)");
    return nullptr;
  }
  if (torch_tensorrt::core::runtime::should_delegate_to_python()) {
    Py_RETURN_NONE;
  }
  const int64_t token = PyLong_AsLongLong(args[1]);
  if (token == -1 && PyErr_Occurred()) {
    return nullptr;
  }
  return run_registered(THPVariable_Unpack(args[0]), token, args[2]);
  END_HANDLE_TH_ERRORS
}

// --- _eager_call(module, inputs): TorchTensorRTModule.__call__ without nn.Module.__call__ -------------

PyObject* interned(const char* name) {
  PyObject* s = PyUnicode_InternFromString(name);
  TORCH_CHECK(s != nullptr, "could not intern ", name);
  return s; // kept for the process: module-level names
}

// The instance __dict__ of a module (nn.Module keeps hooks, buffers and plain attributes there);
// reading it directly skips nn.Module's Python-level __getattr__ hook on every lookup. Borrowed.
PyObject* instance_dict(PyObject* module) {
  PyObject** dict = _PyObject_GetDictPtr(module);
  return dict == nullptr ? nullptr : *dict;
}

// Truthiness of dict[name] (false when absent).
bool item_true(PyObject* dict, PyObject* name) {
  PyObject* value = PyDict_GetItemWithError(dict, name);
  return value != nullptr && value != Py_None && PyObject_IsTrue(value) != 0;
}

// Whether nn.Module.__call__ would only call forward and the call is eager (what
// _TorchTensorRTModule._plain_call and _tracing check in Python).
bool plain_eager_call(PyObject* attrs, PyObject* inputs) {
  static PyObject* const nn_module = PyImport_ImportModule("torch.nn.modules.module");
  static PyObject* const instance_hooks[] = {
      interned("_forward_hooks"), interned("_forward_pre_hooks"), interned("_backward_hooks"), interned("_backward_pre_hooks")};
  static PyObject* const global_hooks[] = {
      interned("_global_forward_hooks"),
      interned("_global_forward_pre_hooks"),
      interned("_global_backward_hooks"),
      interned("_global_backward_pre_hooks")};
  // module.compile() sets it on the instance; the class default is None.
  static PyObject* const compiled_call = interned("_compiled_call_impl");
  if (nn_module == nullptr || c10::impl::TorchDispatchModeTLS::stack_len() > 0 || torch::jit::tracer::isTracing()) {
    return false;
  }
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(inputs); ++i) {
    if (!THPVariable_CheckExact(PyTuple_GET_ITEM(inputs, i))) {
      return false; // fake/proxy tensors (tracing) and subclasses see the op
    }
  }
  PyObject* globals = PyModule_GetDict(nn_module);
  for (PyObject* name : global_hooks) {
    if (item_true(globals, name)) {
      return false;
    }
  }
  for (PyObject* name : instance_hooks) {
    if (item_true(attrs, name)) {
      return false;
    }
  }
  return !item_true(attrs, compiled_call);
}

// Whether this module's calls run on the C++ runtime: use_python_runtime False, or None with the
// C++ runtime running engines (runs_engines_by_default).
bool module_runs_in_cpp(PyObject* attrs) {
  static PyObject* const use_python_runtime = interned("use_python_runtime");
  PyObject* choice = PyDict_GetItemWithError(attrs, use_python_runtime);
  return choice == Py_False || (choice == Py_None && torch_tensorrt::core::runtime::runs_engines_by_default());
}

// (engine tensor, token) of the module's registered C++ engine; false when it has none yet.
bool registered_engine(PyObject* attrs, at::Tensor& engine_tensor, int64_t& token) {
  static PyObject* const buffers = interned("_buffers");
  static PyObject* const serialized_engine = interned("serialized_engine");
  static PyObject* const token_name = interned("_cpp_engine_token");
  PyObject* token_obj = PyDict_GetItemWithError(attrs, token_name);
  token = token_obj != nullptr && PyLong_CheckExact(token_obj) ? PyLong_AsLongLong(token_obj) : 0;
  PyObject* dict = PyDict_GetItemWithError(attrs, buffers);
  PyObject* tensor = dict != nullptr && PyDict_Check(dict) ? PyDict_GetItemWithError(dict, serialized_engine) : nullptr;
  if (token <= 0 || tensor == nullptr || !THPVariable_Check(tensor)) {
    return false;
  }
  engine_tensor = THPVariable_Unpack(tensor);
  return true;
}

// The outputs of the module's Python engine through its fast path (engine._fast: the C one of
// engine_fast_path.cpp, run here without a Python call, or _engine_fast_path.py's Python closure on
// installs that force it): a new reference to a list, Py_None when it does not run this call (no
// engine or fast path yet, or it declined), or nullptr with the Python error it raised.
PyObject* python_engine_outputs(PyObject* attrs, PyObject* inputs) {
  static PyObject* const engine_name = interned("_engine");
  static PyObject* const fast_name = interned("_fast");
  PyObject* engine = PyDict_GetItemWithError(attrs, engine_name);
  PyObject* engine_attrs = engine != nullptr && engine != Py_None ? instance_dict(engine) : nullptr;
  PyObject* fast = engine_attrs != nullptr && PyDict_Check(engine_attrs) ? PyDict_GetItemWithError(engine_attrs, fast_name)
                                                                          : nullptr;
  if (fast == nullptr || fast == Py_None) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  using namespace torch_tensorrt::core::runtime::python;
  Py_INCREF(fast); // borrowed from the engine's dict, which the call may change (a new plan)
  PyObject* outputs =
      is_engine_fast_path(fast) ? run_engine_fast_path(fast, inputs) : PyObject_CallOneArg(fast, inputs);
  Py_DECREF(fast);
  return outputs;
}

// What TorchTensorRTModule returns for the engine's `outputs` (a list; reference stolen): a tuple when
// module.output_is_tuple, else the only one.
PyObject* module_result(PyObject* attrs, PyObject* outputs) {
  static PyObject* const output_is_tuple = interned("output_is_tuple");
  if (item_true(attrs, output_is_tuple)) {
    PyObject* result = PyList_AsTuple(outputs);
    Py_DECREF(outputs);
    return result;
  }
  if (!PyList_Check(outputs) || PyList_GET_SIZE(outputs) < 1) {
    Py_DECREF(outputs);
    PyErr_SetString(PyExc_RuntimeError, "the engine returned no outputs");
    return nullptr;
  }
  PyObject* first = PyList_GET_ITEM(outputs, 0);
  Py_INCREF(first);
  Py_DECREF(outputs);
  return first;
}

// None: not a plain eager call (take nn.Module.__call__). False: a plain eager call this function does
// not run (first call, engine replaced, calls handed to Python, a call the Python engine's fast path
// declines): call module._run_eager. Otherwise what the module returns: its engine's outputs (the C++
// engine's, or the Python engine's fast path), as a tuple when module.output_is_tuple, else the only one.
PyObject* eager_call(PyObject* /*self*/, PyObject* const* args, Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (nargs != 2 || !PyTuple_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError, "_eager_call(module, inputs: tuple)");
    return nullptr;
  }
  PyObject* attrs = instance_dict(args[0]);
  if (attrs == nullptr || !PyDict_Check(attrs) || !plain_eager_call(attrs, args[1])) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  static PyObject* const aliased_io = interned("aliased_io");
  if (item_true(attrs, aliased_io)) {
    Py_RETURN_FALSE; // module._run_eager leaves the aliased outputs out of the result (_aliased_io.py)
  }
  PyObject* outputs = nullptr;
  if (!module_runs_in_cpp(attrs)) {
    outputs = python_engine_outputs(attrs, args[1]);
  } else {
    at::Tensor engine_tensor;
    int64_t token = 0;
    if (torch_tensorrt::core::runtime::should_delegate_to_python() || !registered_engine(attrs, engine_tensor, token)) {
      PyErr_Clear();
      Py_RETURN_FALSE;
    }
    outputs = run_registered(engine_tensor, token, args[1]);
  }
  if (outputs == nullptr) {
    return nullptr;
  }
  if (outputs == Py_None) {
    Py_DECREF(outputs);
    Py_RETURN_FALSE;
  }
  return module_result(attrs, outputs);
  END_HANDLE_TH_ERRORS
}

// Whether modules with use_python_runtime=None run on the C++ runtime (runs_engines_by_default):
// asked on every eager call of such a module, so without an op call.
PyObject* runs_engines_by_default(PyObject* /*self*/, PyObject* /*unused*/) {
  if (torch_tensorrt::core::runtime::runs_engines_by_default()) {
    Py_RETURN_TRUE;
  }
  Py_RETURN_FALSE;
}

PyMethodDef methods[] = {
    {"_execute_registered",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(execute_registered)),
     METH_FASTCALL,
     "Run the registered C++ engine of (engine_tensor, token) on inputs; None when it cannot run here."},
    {"_eager_call",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(eager_call)),
     METH_FASTCALL,
     "TorchTensorRTModule.__call__'s eager path: outputs, False (run module._run_eager) or None (not plain)."},
    {"_runs_engines_by_default", runs_engines_by_default, METH_NOARGS, "Whether use_python_runtime=None runs in C++."},
    {nullptr, nullptr, 0, nullptr}};

struct PyModuleDef torch_tensorrt_c_module = {
    PyModuleDef_HEAD_INIT,
    "_C",
    "torch_tensorrt C++ runtime (registers torch.classes.tensorrt.Engine and torch.ops.tensorrt.*)",
    -1,
    methods,
    nullptr,
    nullptr,
    nullptr,
    nullptr};

} // namespace

PyMODINIT_FUNC PyInit__C(void) {
  PyObject* module = PyModule_Create(&torch_tensorrt_c_module);
  if (module != nullptr && !torch_tensorrt::core::runtime::python::add_engine_fast_path_type(module)) {
    Py_CLEAR(module);
  }
  return module;
}
