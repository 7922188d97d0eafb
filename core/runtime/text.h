// Small text helpers shared by the engine-info and metadata readers (one definition each).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace torch_tensorrt {
namespace core {
namespace runtime {

// 'text' in quotes, cut to `limit` characters ("'abc'... (1234 chars)") with control bytes escaped,
// so that hostile input keeps messages readable.
std::string quote(const std::string& text, size_t limit = 60);

// Strict UTF-8 (no surrogates, no overlong forms).
bool is_valid_utf8(const std::string& text);
// Length of the valid UTF-8 sequence (strict: no surrogates, no overlong forms) at text[i], or 0.
size_t utf8_sequence_length(const std::string& text, size_t i);
// Number of code points, counting each byte of invalid sequences as one.
size_t utf8_length(const std::string& text);

// Splits on `delim`; "" gives one empty part.
std::vector<std::string> split(const std::string& text, char delim);

// A binding name TensorRT can take (non-empty, no delimiter, no NUL, valid UTF-8);
// throws std::invalid_argument("<what> ...").
void check_tensor_name(const std::string& name, const std::string& what);
// A string TensorRT can take as a C string (no NUL, valid UTF-8).
void check_c_string(const std::string& text, const std::string& what);

// A compute capability "major.minor" (the device slot and the metadata settings).
bool is_capability(const std::string& text);

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
