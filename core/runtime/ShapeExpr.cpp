#include "core/runtime/ShapeExpr.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace torch_tensorrt {
namespace core {
namespace runtime {

namespace {

std::string shorten(const std::string& text, size_t limit = 60) {
  if (text.size() <= limit) {
    return "'" + text + "'";
  }
  return "'" + text.substr(0, limit) + "'...";
}

bool is_allowed_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ' ' ||
      c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '(' || c == ')' || c == ',';
}

bool is_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

enum class Tok { kInt, kName, kPlus, kMinus, kStar, kFloorDiv, kPercent, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind;
  std::string text;
  bool overflow = false; // integer literal above INT64_MAX
};

class Validator {
 public:
  Validator(const std::string& expr, const std::set<std::string>& extra) : expr_(expr), extra_(extra) {}

  void run() {
    tokenize();
    size_t depth = parse_expr();
    if (tokens_[pos_].kind != Tok::kEnd) {
      syntax("unexpected token after the expression");
    }
    if (depth > ShapeExpr::kMaxDepth) {
      throw std::invalid_argument(
          "shape expression " + shorten(expr_) + ": nested deeper than " + std::to_string(ShapeExpr::kMaxDepth) +
          " levels");
    }
    for (const auto& name : names_) {
      if (!ShapeExpr::is_symbol_name(name) && extra_.count(name) == 0) {
        throw std::invalid_argument("shape expression " + shorten(expr_) + ": unknown symbol '" + name + "'");
      }
    }
  }

 private:
  [[noreturn]] void syntax(const std::string& what) const {
    throw std::invalid_argument("shape expression " + shorten(expr_) + " is not valid syntax: " + what);
  }
  [[noreturn]] void refuse(const std::string& what) const {
    throw std::invalid_argument("shape expression " + shorten(expr_) + ": " + what);
  }

  static bool is_keyword(const std::string& word) {
    static const std::set<std::string> kKeywords = {
        "False", "None",   "True",    "and",      "as",   "assert", "async",  "await",
        "break", "class",  "continue", "def",     "del",  "elif",   "else",   "except",
        "finally", "for",  "from",    "global",   "if",   "import", "in",     "is",
        "lambda", "nonlocal", "not",  "or",       "pass", "raise",  "return", "try",
        "while", "with",   "yield"};
    return kKeywords.count(word) != 0;
  }

  // Python integer literal (decimal, 0x/0o/0b, '_' separators); anything float- or complex-like
  // (1.5 can't occur: no '.', but 1e5 and 1j can) is refused like the Python reader refuses it.
  void lex_number(size_t& i) {
    size_t start = i;
    while (i < expr_.size() && is_ident_char(expr_[i])) {
      ++i;
    }
    std::string lit = expr_.substr(start, i - start);
    int base = 10;
    std::string digits = lit;
    if (lit.size() >= 2 && lit[0] == '0' && (lit[1] == 'x' || lit[1] == 'X' || lit[1] == 'o' || lit[1] == 'O' ||
                                             lit[1] == 'b' || lit[1] == 'B')) {
      char p = static_cast<char>(lit[1] | 0x20);
      base = p == 'x' ? 16 : (p == 'o' ? 8 : 2);
      digits = lit.substr(2);
      if (!digits.empty() && digits[0] == '_') {
        digits = digits.substr(1); // 0x_1f is valid Python
      }
    }
    auto digit_value = [](char c) -> int {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
      }
      return 99;
    };
    if (base == 10) {
      bool has_exp_or_j = false;
      for (char c : lit) {
        if (c == 'e' || c == 'E' || c == 'j' || c == 'J') {
          has_exp_or_j = true;
        }
      }
      if (has_exp_or_j) {
        // 1e5 / 1j are float/complex literals in Python (or invalid); never integers.
        refuse("only integer literals are allowed, found " + shorten(lit, 20));
      }
    }
    if (digits.empty() || digits.back() == '_') {
      syntax("invalid integer literal " + shorten(lit, 20));
    }
    uint64_t value = 0;
    bool overflow = false;
    bool all_zero = true;
    for (size_t k = 0; k < digits.size(); ++k) {
      char c = digits[k];
      if (c == '_') {
        if (k + 1 < digits.size() && digits[k + 1] == '_') {
          syntax("invalid integer literal " + shorten(lit, 20));
        }
        continue;
      }
      int d = digit_value(c);
      if (d >= base) {
        syntax("invalid integer literal " + shorten(lit, 20));
      }
      if (d != 0) {
        all_zero = false;
      }
      if (value > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
        overflow = true;
      } else {
        value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      }
    }
    if (base == 10 && digits.size() > 1 && digits[0] == '0' && !all_zero) {
      syntax("leading zeros in decimal integer literals are not permitted");
    }
    Token t{Tok::kInt, lit};
    t.overflow = overflow || value > static_cast<uint64_t>(INT64_MAX);
    tokens_.push_back(t);
  }

  void tokenize() {
    size_t i = 0;
    while (i < expr_.size()) {
      char c = expr_[i];
      if (c == ' ') {
        ++i;
      } else if (c >= '0' && c <= '9') {
        lex_number(i);
      } else if (is_ident_start(c)) {
        size_t start = i;
        while (i < expr_.size() && is_ident_char(expr_[i])) {
          ++i;
        }
        tokens_.push_back({Tok::kName, expr_.substr(start, i - start)});
      } else if (c == '/') {
        if (i + 1 < expr_.size() && expr_[i + 1] == '/') {
          tokens_.push_back({Tok::kFloorDiv, "//"});
          i += 2;
        } else {
          refuse("operator Div is not allowed (use + - * // % max min)");
        }
      } else if (c == '*') {
        if (i + 1 < expr_.size() && expr_[i + 1] == '*') {
          refuse("operator Pow is not allowed (use + - * // % max min)");
        }
        tokens_.push_back({Tok::kStar, "*"});
        ++i;
      } else {
        Tok kind = c == '+' ? Tok::kPlus
            : c == '-'      ? Tok::kMinus
            : c == '%'      ? Tok::kPercent
            : c == '('      ? Tok::kLParen
            : c == ')'      ? Tok::kRParen
                            : Tok::kComma;
        tokens_.push_back({kind, std::string(1, c)});
        ++i;
      }
    }
    tokens_.push_back({Tok::kEnd, ""});
  }

  const Token& cur() const {
    return tokens_[pos_];
  }

  // Each parse_* returns the depth of the Python AST it would produce (the root counts 1).
  size_t parse_expr() {
    size_t depth = parse_term();
    while (cur().kind == Tok::kPlus || cur().kind == Tok::kMinus) {
      ++pos_;
      size_t rhs = parse_term();
      depth = 1 + std::max(depth, rhs);
    }
    return depth;
  }

  size_t parse_term() {
    size_t depth = parse_factor();
    while (cur().kind == Tok::kStar || cur().kind == Tok::kFloorDiv || cur().kind == Tok::kPercent) {
      ++pos_;
      size_t rhs = parse_factor();
      depth = 1 + std::max(depth, rhs);
    }
    return depth;
  }

  size_t parse_factor() {
    if (cur().kind == Tok::kMinus) {
      ++pos_;
      return 1 + parse_factor();
    }
    if (cur().kind == Tok::kPlus) {
      ++pos_;
      parse_factor();
      refuse("unary operator UAdd is not allowed");
    }
    return parse_atom();
  }

  size_t parse_atom() {
    if (++guard_ > 4 * ShapeExpr::kMaxChars) {
      refuse("nested too deeply");
    }
    const Token t = cur();
    switch (t.kind) {
      case Tok::kInt:
        ++pos_;
        if (t.overflow) {
          refuse("integer literal does not fit in int64");
        }
        reject_call_of("an integer");
        return 1;
      case Tok::kName: {
        ++pos_;
        if (t.text == "max" || t.text == "min") {
          if (cur().kind != Tok::kLParen) {
            refuse("invalid name '" + t.text + "'");
          }
          return parse_call(t.text);
        }
        if (is_keyword(t.text)) {
          if (t.text == "True" || t.text == "False") {
            refuse("only integer literals are allowed, found bool");
          }
          if (t.text == "None") {
            refuse("only integer literals are allowed, found NoneType");
          }
          syntax("keyword '" + t.text + "' is not allowed");
        }
        if (cur().kind == Tok::kLParen) {
          refuse("only max(...) and min(...) may be called");
        }
        names_.insert(t.text);
        return 1;
      }
      case Tok::kLParen: {
        ++pos_;
        if (++paren_depth_ > 200) {
          syntax("too many nested parentheses");
        }
        size_t depth = parse_expr();
        if (cur().kind == Tok::kComma) {
          refuse("Tuple is not allowed in a shape expression");
        }
        if (cur().kind != Tok::kRParen) {
          syntax("'(' was never closed");
        }
        ++pos_;
        --paren_depth_;
        reject_call_of("a parenthesised expression");
        return depth;
      }
      case Tok::kEnd:
        syntax("unexpected end of expression");
      default:
        syntax("unexpected '" + t.text + "'");
    }
  }

  void reject_call_of(const std::string& what) {
    if (cur().kind == Tok::kLParen) {
      refuse("only max(...) and min(...) may be called, not " + what);
    }
  }

  size_t parse_call(const std::string& fn) {
    ++pos_; // '('
    if (++paren_depth_ > 200) {
      syntax("too many nested parentheses");
    }
    size_t args = 0;
    size_t depth = 0;
    while (cur().kind != Tok::kRParen) {
      if (cur().kind == Tok::kStar) {
        refuse(fn + "() does not accept *arguments");
      }
      depth = std::max(depth, parse_expr());
      ++args;
      if (cur().kind == Tok::kComma) {
        ++pos_;
        continue;
      }
      if (cur().kind != Tok::kRParen) {
        syntax("'(' was never closed");
      }
    }
    ++pos_;
    --paren_depth_;
    if (args < 2) {
      refuse(fn + "() needs at least two arguments");
    }
    reject_call_of("a call");
    return 1 + depth;
  }

  const std::string& expr_;
  const std::set<std::string>& extra_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t guard_ = 0;
  size_t paren_depth_ = 0;
  std::set<std::string> names_;
};

} // namespace

bool ShapeExpr::is_symbol_name(const std::string& name) {
  if (name.size() < 2 || (name[0] != 's' && name[0] != 'u')) {
    return false;
  }
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') {
      return false;
    }
  }
  return true;
}

void ShapeExpr::validate(const std::string& expr, const std::set<std::string>& extra_symbols) {
  if (expr.size() > kMaxChars) {
    throw std::invalid_argument("shape expression longer than " + std::to_string(kMaxChars) + " characters");
  }
  for (char c : expr) {
    if (!is_allowed_char(c)) {
      std::string shown = (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
          ? std::string(1, c)
          : "\\x" + std::to_string(static_cast<unsigned char>(c));
      throw std::invalid_argument(
          "shape expression " + shorten(expr) + " contains unexpected character '" + shown + "'");
    }
  }
  if (expr.find_first_not_of(' ') == std::string::npos) {
    throw std::invalid_argument("empty shape expression");
  }
  Validator(expr, extra_symbols).run();
}

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
