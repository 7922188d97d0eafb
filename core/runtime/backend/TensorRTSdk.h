#pragma once
// The one place the TensorRT SDK header enters the build: every file of the backend target includes
// this header instead of the SDK's own, so the SDK dependency has a single, obvious entry point.
// TensorRT-RTX defines TRT_MAJOR_RTX in its version header; standard TensorRT does not.
#include <NvInfer.h>
