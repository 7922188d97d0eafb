#include "core/runtime/Base64.h"

#include <array>
#include <cstdint>
#include <stdexcept>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

[[noreturn]] void invalid(const std::string& text) {
  throw std::invalid_argument(
      "not valid base64: " + std::to_string(text.size()) +
      " chars, expected a multiple of 4 from [A-Za-z0-9+/] with '=' padding (truncated or corrupted?)");
}

} // namespace

std::string Base64::encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = byte(i) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Base64::decode(const std::string& text) {
  static const std::array<int8_t, 256> table = make_decode_table();
  if (text.empty()) {
    throw std::invalid_argument("engine is empty");
  }
  if (text.size() % 4 != 0) {
    invalid(text);
  }
  size_t padding = 0;
  if (text.back() == '=') {
    padding = text[text.size() - 2] == '=' ? 2 : 1;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  const size_t data_len = text.size() - padding;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_len; ++i) {
    int8_t v = table[static_cast<unsigned char>(text[i])];
    if (v < 0) {
      invalid(text); // includes '=' in the middle
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
      acc &= (1u << bits) - 1;
    }
  }
  // The bits left over by padding must be zero in a canonical encoding.
  if (acc != 0) {
    throw std::invalid_argument("not valid base64: non-canonical padding bits");
  }
  if (out.empty()) {
    throw std::invalid_argument("engine is empty");
  }
  return out;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
