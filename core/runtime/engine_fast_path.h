// The Python runtime's per-call fast path in C (issue 17 item 9): the type
// torch_tensorrt._C._EngineFastPath, built per plan by py/torch_tensorrt/dynamo/runtime/_engine_fast_path.py
// (fast_runner) and called by TRTEngine.execute and by _eager_call (python_module.cpp) without a Python
// frame. Same checks, declines and state as that file's pure-Python runner, which serves installs without
// this extension and calls made under Python modes or tracing. Part of the Python extension module only.
#pragma once

#include <Python.h>

namespace torch_tensorrt::core::runtime::python {

// Adds _EngineFastPath to the extension module; false with a Python error set.
bool add_engine_fast_path_type(PyObject* module);

// Whether `object` is an _EngineFastPath.
bool is_engine_fast_path(PyObject* object);

// Runs the fast path `fast_path` (an _EngineFastPath) on `inputs`: a new reference to the list of
// outputs, Py_None when it declines the call (the general path then runs it), or nullptr with the
// Python error a backend call raised.
PyObject* run_engine_fast_path(PyObject* fast_path, PyObject* inputs);

} // namespace torch_tensorrt::core::runtime::python
