#include "core/runtime/text.h"

#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include "core/runtime/runtime.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

// Length of the valid UTF-8 sequence starting at text[i], or 0.
size_t utf8_sequence_length(const std::string& text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  size_t len = 0;
  uint32_t cp = 0;
  if (lead < 0x80) {
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return len;
}

std::string quote(const std::string& text, size_t limit) {
  std::string out = "'";
  size_t shown = 0;
  for (size_t i = 0; i < text.size() && shown < limit; ++shown) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
      ++i;
    } else {
      size_t len = utf8_sequence_length(text, i);
      if (len == 0) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out += buf;
        ++i;
      } else {
        out.append(text, i, len);
        i += len;
      }
    }
  }
  out += "'";
  size_t total = utf8_length(text);
  if (total > limit) {
    out += "... (" + std::to_string(total) + " chars)";
  }
  return out;
}

bool is_valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

size_t utf8_length(const std::string& text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence_length(text, i);
    i += len == 0 ? 1 : len;
    ++n;
  }
  return n;
}

std::vector<std::string> split(const std::string& text, char delim) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(delim, start);
    if (end == std::string::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

void check_c_string(const std::string& text, const std::string& what) {
  if (text.find('\0') != std::string::npos) {
    throw std::invalid_argument(what + " " + quote(text) + " contains a NUL character");
  }
  if (!is_valid_utf8(text)) {
    throw std::invalid_argument(what + " " + quote(text) + " is not valid Unicode text");
  }
}

void check_tensor_name(const std::string& name, const std::string& what) {
  if (name.empty()) {
    throw std::invalid_argument(what + " is empty");
  }
  if (name.find(BINDING_DELIM) != std::string::npos) {
    throw std::invalid_argument(
        what + " " + quote(name) + " contains the delimiter '" + std::string(1, BINDING_DELIM) + "'");
  }
  check_c_string(name, what);
}

bool is_capability(const std::string& text) {
  // (0|[1-9][0-9]?)\.(0|[1-9][0-9]?), the Python reader's pattern.
  auto number = [](const std::string& s) {
    if (s.empty() || s.size() > 2) {
      return false;
    }
    for (char c : s) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return !(s.size() == 2 && s[0] == '0');
  };
  size_t dot = text.find('.');
  return dot != std::string::npos && number(text.substr(0, dot)) && number(text.substr(dot + 1));
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
