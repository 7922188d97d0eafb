// Standard padded base64 (RFC 4648 section 4), strict: only canonical encodings decode, so that
// decoding and re-encoding reproduces the engine slot exactly (same rule as the Python reader).
#pragma once

#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class Base64 {
 public:
  static std::string encode(const std::string& bytes);
  // Throws std::invalid_argument ("not valid base64: ...", "engine is empty").
  static std::string decode(const std::string& text);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
