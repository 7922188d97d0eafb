#include "core/runtime/Json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <unordered_set>

#include "core/runtime/text.h"

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {
constexpr size_t kMaxIntDigits = 20;
} // namespace

class JsonParser {
 public:
  JsonParser(const std::string& text, size_t max_depth) : text_(text), max_depth_(max_depth) {}

  JsonValue parse_document() {
    skip_ws();
    JsonValue value = parse_value(0);
    skip_ws();
    if (pos_ != text_.size()) {
      fail("extra data after the JSON value");
    }
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(what + " at position " + std::to_string(pos_));
  }

  bool at_end() const {
    return pos_ >= text_.size();
  }

  char peek() const {
    return at_end() ? '\0' : text_[pos_];
  }

  void skip_ws() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  void expect_literal(const char* word) {
    size_t start = pos_;
    for (const char* p = word; *p; ++p) {
      if (at_end() || text_[pos_] != *p) {
        pos_ = start;
        fail("expecting a value");
      }
      ++pos_;
    }
  }

  JsonValue parse_value(size_t depth) {
    if (at_end()) {
      fail("expecting a value");
    }
    char c = peek();
    JsonValue v;
    switch (c) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"':
        v.kind_ = JsonValue::Kind::kString;
        v.string_ = parse_string();
        return v;
      case 't':
        expect_literal("true");
        v.kind_ = JsonValue::Kind::kBool;
        v.bool_ = true;
        return v;
      case 'f':
        expect_literal("false");
        v.kind_ = JsonValue::Kind::kBool;
        v.bool_ = false;
        return v;
      case 'n':
        expect_literal("null");
        return v;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return parse_number();
        }
        // NaN, Infinity, comments, single quotes, ...
        fail("expecting a value");
    }
  }

  void enter(size_t depth) {
    if (depth > max_depth_) {
      fail("JSON is nested deeper than " + std::to_string(max_depth_) + " levels");
    }
  }

  JsonValue parse_object(size_t depth) {
    enter(depth);
    JsonValue v;
    v.kind_ = JsonValue::Kind::kObject;
    ++pos_; // '{'
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return v;
    }
    std::unordered_set<std::string> seen;
    while (true) {
      skip_ws();
      if (peek() != '"') {
        fail("expecting a property name enclosed in double quotes");
      }
      std::string key = parse_string();
      if (!seen.insert(key).second) {
        fail("duplicate key '" + key.substr(0, 40) + "'");
      }
      skip_ws();
      if (peek() != ':') {
        fail("expecting ':' delimiter");
      }
      ++pos_;
      skip_ws();
      JsonValue member = parse_value(depth);
      v.keys_.push_back(std::move(key));
      v.items_.push_back(std::move(member));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return v;
      }
      fail("expecting ',' delimiter");
    }
  }

  JsonValue parse_array(size_t depth) {
    enter(depth);
    JsonValue v;
    v.kind_ = JsonValue::Kind::kArray;
    ++pos_; // '['
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return v;
    }
    while (true) {
      skip_ws();
      v.items_.push_back(parse_value(depth));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      fail("expecting ',' delimiter");
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    // Lone surrogates are kept (as the 3-byte WTF-8 form), like Python keeps them in a str;
    // names are checked for valid UTF-8 later, where it matters.
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > text_.size()) {
      fail("invalid \\uXXXX escape");
    }
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + i];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        fail("invalid \\uXXXX escape");
      }
    }
    pos_ += 4;
    return value;
  }

  // Copies one raw (unescaped) UTF-8 sequence, refusing malformed bytes.
  void copy_utf8_sequence(std::string& out) {
    const size_t len = utf8_sequence_length(text_, pos_);
    if (len == 0) {
      fail("invalid UTF-8 in JSON text");
    }
    out.append(text_, pos_, len);
    pos_ += len;
  }

  std::string parse_string() {
    ++pos_; // opening quote
    std::string out;
    while (true) {
      if (at_end()) {
        fail("unterminated string");
      }
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        fail("invalid control character in string");
      }
      if (c != '\\') {
        copy_utf8_sequence(out);
        continue;
      }
      ++pos_;
      if (at_end()) {
        fail("unterminated string");
      }
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 <= text_.size() && text_[pos_] == '\\' &&
              text_[pos_ + 1] == 'u') {
            size_t save = pos_;
            pos_ += 2;
            uint32_t low = parse_hex4();
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = save; // a lone high surrogate followed by another escape
            }
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail("invalid \\escape");
      }
    }
  }

  JsonValue parse_number() {
    size_t start = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') {
        ++pos_;
      }
    } else {
      fail("expecting a value");
    }
    size_t int_end = pos_;
    bool is_float = false;
    if (peek() == '.' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9') {
      is_float = true;
      ++pos_;
      while (peek() >= '0' && peek() <= '9') {
        ++pos_;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t save = pos_;
      ++pos_;
      if (peek() == '+' || peek() == '-') {
        ++pos_;
      }
      if (peek() >= '0' && peek() <= '9') {
        is_float = true;
        while (peek() >= '0' && peek() <= '9') {
          ++pos_;
        }
      } else {
        pos_ = save; // "1e" is "1" followed by garbage, reported by the caller
      }
    }
    JsonValue v;
    if (!is_float) {
      std::string digits = text_.substr(start + (negative ? 1 : 0), int_end - start - (negative ? 1 : 0));
      if (digits.size() > kMaxIntDigits) {
        pos_ = start;
        fail("integer literal longer than " + std::to_string(kMaxIntDigits) + " digits");
      }
      v.kind_ = JsonValue::Kind::kInt;
      // Accumulate as a negative number so INT64_MIN fits.
      int64_t acc = 0;
      bool overflow = false;
      for (char d : digits) {
        int digit = d - '0';
        if (acc < (INT64_MIN + digit) / 10) {
          overflow = true;
          break;
        }
        acc = acc * 10 - digit;
      }
      if (overflow) {
        v.int_overflow_ = negative ? -1 : 1;
        v.int_ = negative ? INT64_MIN : INT64_MAX;
      } else if (negative) {
        v.int_ = acc;
      } else if (acc == INT64_MIN) {
        v.int_overflow_ = 1;
        v.int_ = INT64_MAX;
      } else {
        v.int_ = -acc;
      }
      return v;
    }
    std::string literal = text_.substr(start, pos_ - start);
    errno = 0;
    double value = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(value)) {
      pos_ = start;
      fail("number " + literal.substr(0, 30) + " is out of range");
    }
    v.kind_ = JsonValue::Kind::kFloat;
    v.float_ = value;
    return v;
  }

  const std::string& text_;
  size_t max_depth_;
  size_t pos_ = 0;
};

JsonValue JsonValue::parse(const std::string& text, size_t max_depth) {
  return JsonParser(text, max_depth).parse_document();
}

const char* JsonValue::kind_name() const {
  switch (kind_) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kArray:
      return "list";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

bool JsonValue::as_bool() const {
  if (kind_ != Kind::kBool) {
    throw std::logic_error("JsonValue is not a bool");
  }
  return bool_;
}

int64_t JsonValue::as_int() const {
  if (kind_ != Kind::kInt) {
    throw std::logic_error("JsonValue is not an int");
  }
  return int_;
}

double JsonValue::as_number() const {
  if (kind_ == Kind::kInt) {
    return static_cast<double>(int_);
  }
  if (kind_ != Kind::kFloat) {
    throw std::logic_error("JsonValue is not a number");
  }
  return float_;
}

const std::string& JsonValue::as_string() const {
  if (kind_ != Kind::kString) {
    throw std::logic_error("JsonValue is not a string");
  }
  return string_;
}

const std::vector<JsonValue>& JsonValue::items() const {
  if (kind_ != Kind::kArray) {
    throw std::logic_error("JsonValue is not an array");
  }
  return items_;
}

const std::vector<std::string>& JsonValue::keys() const {
  if (kind_ != Kind::kObject) {
    throw std::logic_error("JsonValue is not an object");
  }
  return keys_;
}

const std::vector<JsonValue>& JsonValue::values() const {
  if (kind_ != Kind::kObject) {
    throw std::logic_error("JsonValue is not an object");
  }
  return items_;
}

const JsonValue* JsonValue::find(const std::string& key) const {
  if (kind_ != Kind::kObject) {
    return nullptr;
  }
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      return &items_[i];
    }
  }
  return nullptr;
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
