// The Python type torch_tensorrt._C._EngineFastPath (engine_fast_path.h): construction from the objects
// _engine_fast_path.py hands over (checked), garbage-collector support (a runner and its engine refer to
// each other) and vectorcall into the call (engine_fast_path.cpp).
#include "core/runtime/engine_fast_path.h"

#include <torch/csrc/Device.h>
#include <torch/csrc/Dtype.h>

#include <cstddef>

#include "core/runtime/engine_fast_path_state.h"

namespace torch_tensorrt::core::runtime::python {
namespace {

using namespace fast_path;

PyTypeObject fast_path_type = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyObject* fast_path_vectorcall(PyObject* callable, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != nullptr && PyTuple_GET_SIZE(kwnames) > 0)) {
    PyErr_SetString(PyExc_TypeError, "_EngineFastPath(inputs) takes the engine's inputs as one sequence");
    return nullptr;
  }
  return run(reinterpret_cast<FastPath*>(callable), args[0]);
}

bool is_global_source(PyObject* source) {
  return PyTuple_Check(source) && PyTuple_GET_SIZE(source) == 2 && PyDict_Check(PyTuple_GET_ITEM(source, 0)) &&
      PyUnicode_Check(PyTuple_GET_ITEM(source, 1));
}

// What a valid set of objects looks like; a TypeError naming the first one that is not.
bool check_refs(PyObject* const* refs) {
  const char* wrong = nullptr;
  PyObject* plan = refs[kPlan];
  if (!PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) != 3 || !PyTuple_Check(PyTuple_GET_ITEM(plan, 0)) ||
      PyTuple_GET_SIZE(PyTuple_GET_ITEM(plan, 0)) != 5) {
    wrong = "plan must be (stamp: 5-tuple, decision, context)";
  } else if (!is_global_source(refs[kDefaultBackend]) || !is_global_source(refs[kDefaults]) ||
             !is_global_source(refs[kFeatures]) || !is_global_source(refs[kCudagraphs]) ||
             !is_global_source(refs[kMultiDevice])) {
    wrong = "default_backend, defaults, features, cudagraphs and multi_device must be (globals dict, name)";
  } else if (!PyContextVar_CheckExact(refs[kBackendVar]) || !PyContextVar_CheckExact(refs[kOuterCaptureVar])) {
    wrong = "backend_var and outer_capture_var must be contextvars.ContextVar";
  } else if (!PyTuple_Check(refs[kNames]) || !PyTuple_Check(refs[kOutputs])) {
    wrong = "names and outputs must be tuples";
  } else if (refs[kDevice] != Py_None && !THPDevice_Check(refs[kDevice])) {
    wrong = "device must be a torch.device or None";
  } else if (!PyList_Check(refs[kShapesState]) || PyList_GET_SIZE(refs[kShapesState]) != 2) {
    wrong = "shapes_state must be a list of two items";
  }
  for (Py_ssize_t j = 0; wrong == nullptr && j < PyTuple_GET_SIZE(refs[kOutputs]); ++j) {
    PyObject* output = PyTuple_GET_ITEM(refs[kOutputs], j);
    if (!PyTuple_Check(output) || PyTuple_GET_SIZE(output) != 2 || !THPDtype_Check(PyTuple_GET_ITEM(output, 1))) {
      wrong = "outputs must hold (name, torch.dtype) pairs";
    }
  }
  if (wrong != nullptr) {
    PyErr_Format(PyExc_TypeError, "_EngineFastPath: %s", wrong);
  }
  return wrong == nullptr;
}

// The C++ state derived once from the objects: counts, output dtypes, device, backend facts.
State* new_state(PyObject* const* refs) {
  const int pinned = PyObject_IsTrue(refs[kPinnedBackend]);
  PyObject* device_type = PyObject_GetAttrString(PyTuple_GET_ITEM(PyTuple_GET_ITEM(refs[kPlan], 0), 0), "device_type");
  static PyObject* const cuda = interned("cuda");
  const int cuda_backend = device_type == nullptr ? -1 : PyObject_RichCompareBool(device_type, cuda, Py_EQ);
  Py_XDECREF(device_type);
  if (pinned < 0 || cuda_backend < 0) {
    return nullptr;
  }
  auto* state = new State();
  state->count = PyTuple_GET_SIZE(refs[kNames]);
  state->signatures.resize(static_cast<size_t>(state->count));
  for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(refs[kOutputs]); ++j) {
    PyObject* dtype = PyTuple_GET_ITEM(PyTuple_GET_ITEM(refs[kOutputs], j), 1);
    state->output_dtypes.push_back(reinterpret_cast<THPDtype*>(dtype)->scalar_type);
  }
  if (refs[kDevice] != Py_None) {
    state->device = reinterpret_cast<THPDevice*>(refs[kDevice])->device;
  }
  state->pinned = pinned == 1;
  state->stamp_backend_is_cuda = cuda_backend == 1;
  return state;
}

// _EngineFastPath(**objects): every keyword of kKeywords, nothing else.
PyObject* fast_path_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  if (PyTuple_GET_SIZE(args) != 0 || kwargs == nullptr || PyDict_GET_SIZE(kwargs) != kRefCount) {
    PyErr_Format(
        PyExc_TypeError, "_EngineFastPath takes exactly the %d keyword arguments of engine_fast_path.cpp", kRefCount);
    return nullptr;
  }
  PyObject* refs[kRefCount];
  for (int r = 0; r < kRefCount; ++r) {
    refs[r] = PyDict_GetItemString(kwargs, kKeywords[r]);
    if (refs[r] == nullptr) {
      PyErr_Format(PyExc_TypeError, "_EngineFastPath: missing keyword argument %s", kKeywords[r]);
      return nullptr;
    }
  }
  State* state = check_refs(refs) ? new_state(refs) : nullptr;
  auto* self = state == nullptr ? nullptr : reinterpret_cast<FastPath*>(type->tp_alloc(type, 0));
  if (self == nullptr) {
    delete state;
    return nullptr;
  }
  for (int r = 0; r < kRefCount; ++r) {
    self->refs[r] = Py_NewRef(refs[r]);
  }
  self->state = state;
  self->vectorcall = fast_path_vectorcall;
  return reinterpret_cast<PyObject*>(self);
}

int fast_path_traverse(PyObject* object, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<FastPath*>(object);
  for (PyObject* ref : self->refs) {
    Py_VISIT(ref);
  }
  if (self->state != nullptr) {
    for (const Signature& signature : self->state->signatures) {
      Py_VISIT(signature.key);
    }
    Py_VISIT(self->state->known.list);
  }
  return 0;
}

int fast_path_clear(PyObject* object) {
  auto* self = reinterpret_cast<FastPath*>(object);
  for (PyObject*& ref : self->refs) {
    Py_CLEAR(ref);
  }
  if (self->state != nullptr) {
    for (Signature& signature : self->state->signatures) {
      Py_CLEAR(signature.key);
    }
    Py_CLEAR(self->state->known.list);
  }
  return 0;
}

void fast_path_dealloc(PyObject* object) {
  PyObject_GC_UnTrack(object);
  fast_path_clear(object);
  auto* self = reinterpret_cast<FastPath*>(object);
  delete self->state;
  self->state = nullptr;
  Py_TYPE(object)->tp_free(object);
}

} // namespace

bool add_engine_fast_path_type(PyObject* module) {
  fast_path_type.tp_name = "torch_tensorrt._C._EngineFastPath";
  fast_path_type.tp_doc =
      "The Python runtime's per-call fast path of one engine plan (made by _engine_fast_path.fast_runner): "
      "called with the inputs, returns the outputs, or None to leave the call to the general path.";
  fast_path_type.tp_basicsize = sizeof(FastPath);
  fast_path_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  fast_path_type.tp_vectorcall_offset = offsetof(FastPath, vectorcall);
  fast_path_type.tp_call = PyVectorcall_Call;
  fast_path_type.tp_new = fast_path_new;
  fast_path_type.tp_traverse = fast_path_traverse;
  fast_path_type.tp_clear = fast_path_clear;
  fast_path_type.tp_dealloc = fast_path_dealloc;
  if (PyType_Ready(&fast_path_type) < 0) {
    return false;
  }
  Py_INCREF(&fast_path_type);
  if (PyModule_AddObject(module, "_EngineFastPath", reinterpret_cast<PyObject*>(&fast_path_type)) < 0) {
    Py_DECREF(&fast_path_type);
    return false;
  }
  return true;
}

bool is_engine_fast_path(PyObject* object) {
  return Py_TYPE(object) == &fast_path_type;
}

} // namespace torch_tensorrt::core::runtime::python
