# This project's own version (not Torch-TensorRT's, whose API it implements: see README). setup.py
# and MODULE.bazel use the same number; tests/py/test_api_compat.py checks that they agree.
__version__ = "0.2.0"
