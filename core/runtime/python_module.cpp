// `import torch_tensorrt._C` (setup.py builds the runtime as this Python extension).  The module
// itself is empty: loading the library runs the static registrations of the torch.classes /
// torch.ops.tensorrt API (register_jit_hooks.cpp).  Bazel builds the same sources into a plain
// shared library loaded with torch.ops.load_library, without this file.
#include <Python.h>

static struct PyModuleDef torch_tensorrt_c_module = {
    PyModuleDef_HEAD_INIT,
    "_C",
    "torch_tensorrt C++ runtime (registers torch.classes.tensorrt.Engine and torch.ops.tensorrt.*)",
    -1,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr};

PyMODINIT_FUNC PyInit__C(void) {
  return PyModule_Create(&torch_tensorrt_c_module);
}
