// Validation of the symbolic shape expressions stored in engine metadata ("s0*4", "max(s0, s1)").
// The same grammar and limits as py/torch_tensorrt/dynamo/runtime/_shape_expr.py:
//
//   expr := INT | NAME | "-" expr | expr OP expr | "(" expr ")"
//         | ("max" | "min") "(" expr "," expr ("," expr)* [","] ")"
//   OP   := "+" | "-" | "*" | "//" | "%"
//
// with Python's precedence and literal syntax, at most 1000 characters, at most 64 levels of
// (Python AST) nesting, integer literals <= 2**63-1, and names restricted to torch size symbols
// (s<digits>, u<digits>) plus any caller-given names.  Throws std::invalid_argument.
#pragma once

#include <cstddef>
#include <set>
#include <string>

namespace torch_tensorrt {
namespace core {
namespace runtime {

class ShapeExpr {
 public:
  static constexpr size_t kMaxChars = 1000;
  static constexpr size_t kMaxDepth = 64;

  // Throws std::invalid_argument naming the problem.
  static void validate(const std::string& expr, const std::set<std::string>& extra_symbols = {});
  static bool is_symbol_name(const std::string& name);
};

} // namespace runtime
} // namespace core
} // namespace torch_tensorrt
