// The serialized engine-info layout shared with Python
// (py/torch_tensorrt/dynamo/runtime/_engine_layout.py is authoritative) and the
// process-wide runtime modes.  No torch and no TensorRT headers here.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

// Bumped whenever the meaning of a slot changes; a file with another ABI is refused.
constexpr const char* ABI_VERSION = "1";

// The serialized engine-info slots in index order: the one list the enum and the names table come
// from. Same names and order as SerializedInfoIndex in
// py/torch_tensorrt/dynamo/runtime/_engine_layout.py; torch.ops.tensorrt.serialized_info_names()
// returns them and torch_tensorrt compares them with its own at import.
#define TORCH_TENSORRT_SERIALIZED_INFO_SLOTS(X) \
  X(ABI_TARGET_IDX)                             \
  X(NAME_IDX)                                   \
  X(DEVICE_IDX)                                 \
  X(SERIALIZED_ENGINE_IDX)                      \
  X(INPUT_BINDING_NAMES_IDX)                    \
  X(OUTPUT_BINDING_NAMES_IDX)                   \
  X(HW_COMPATIBLE_IDX)                          \
  X(SERIALIZED_METADATA_IDX)                    \
  X(TARGET_PLATFORM_IDX)                        \
  X(REQUIRES_OUTPUT_ALLOCATOR_IDX)              \
  X(RESOURCE_ALLOCATION_STRATEGY_IDX)

enum SerializedInfoIndex : int64_t {
#define TORCH_TENSORRT_SLOT_ENUMERATOR(name) name,
  TORCH_TENSORRT_SERIALIZED_INFO_SLOTS(TORCH_TENSORRT_SLOT_ENUMERATOR)
#undef TORCH_TENSORRT_SLOT_ENUMERATOR
  SERIALIZATION_LEN, // one past the last slot
};

// Slot names by index.
inline constexpr std::array<const char*, SERIALIZATION_LEN> SERIALIZED_INFO_NAMES = {
#define TORCH_TENSORRT_SLOT_NAME(name) #name,
    TORCH_TENSORRT_SERIALIZED_INFO_SLOTS(TORCH_TENSORRT_SLOT_NAME)
#undef TORCH_TENSORRT_SLOT_NAME
};

constexpr char BINDING_DELIM = '%';
constexpr char DEVICE_DELIM = '%';

constexpr std::array<const char*, 3> KNOWN_PLATFORMS = {"linux_x86_64", "linux_aarch64", "windows_x86_64"};
constexpr std::array<const char*, 2> RESOURCE_ALLOCATION_STRATEGIES = {"static", "dynamic"};

// This host in the spelling of KNOWN_PLATFORMS (e.g. "linux_x86_64"); an unsupported host gives a
// name outside the list ("unknown_<arch>").
std::string current_platform();

// "NAME_IDX (1)", used in messages.
std::string slot_label(int64_t index);

// ---------------------------------------------------------------------------------------------
// Process-wide runtime modes (set from Python via torch.ops.tensorrt.set_*).
// ---------------------------------------------------------------------------------------------

// Torch-level CUDA-graph capture of each engine (torch_tensorrt.runtime.set_cudagraphs_mode).
bool get_cudagraphs_mode();
void set_cudagraphs_mode(bool enabled);

// Check (and switch to) each engine's device before running it.
bool get_multi_device_safe_mode();
void set_multi_device_safe_mode(bool enabled);

// Log levels, the same numbering as Torch-TensorRT's logging API.
enum class LogLevel : int64_t {
  kINTERNAL_ERROR = 0,
  kERROR = 1,
  kWARNING = 2,
  kINFO = 3,
  kDEBUG = 4,
  kGRAPH = 5,
};
LogLevel get_log_level();
void set_log_level(LogLevel level);
// Writes "[torch_tensorrt] <LEVEL>: message" to stderr when `level` is enabled.
void log(LogLevel level, const std::string& message);
bool log_enabled(LogLevel level);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
