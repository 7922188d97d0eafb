#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/runtime/ShapeExpr.h"

namespace rt = torch_tensorrt::core::runtime;

TEST(ShapeExpr, AcceptsTheGrammar) {
  for (const char* ok :
       {"s0", "u3", "s0*4", "(s0 + 1)//2", "max(s0, s1)", "min(s0, 1, 2)", "max(s0, s1,)", "-s0", "--s0", "s0 % 3",
        "  s0  ", "1_000", "0x1F", "0o17", "0b101", "00", "0_0", "s0 - -1", "max (s0, s1)", "9223372036854775807"}) {
    EXPECT_NO_THROW(rt::ShapeExpr::validate(ok)) << ok;
  }
}

TEST(ShapeExpr, RefusesEverythingElse) {
  for (const char* bad :
       {"", "   ", "x", "s0.real", "s0 / 2", "s0 ** 2", "+s0", "abs(s0)", "max(s0)", "max()", "max", "s0(1)",
        "1e5", "1j", "True", "None", "01", "1__0", "1_", "0x", "9223372036854775808", "(s0, s1)", "s0 s1",
        "s0 +", "(s0", "s0)", "max(*s0, s1)", "lambda", "s0 if s1 else s2", "s0\t", "s0;", "\xef\xbc\x93",
        "__import__", "max(s0, s1)(s2)", "(s0)(s1)", "1(s0)"}) {
    EXPECT_THROW(rt::ShapeExpr::validate(bad), std::invalid_argument) << bad;
  }
  EXPECT_NO_THROW(rt::ShapeExpr::validate("batch * 2", {"batch"}));
}

TEST(ShapeExpr, DepthAndLengthLimits) {
  // A left-nested chain of 63 additions has an AST depth of 64: allowed; one more is too deep.
  std::string ok = "s0";
  for (int i = 0; i < 63; ++i) {
    ok += "+s0";
  }
  EXPECT_NO_THROW(rt::ShapeExpr::validate(ok));
  EXPECT_THROW(rt::ShapeExpr::validate(ok + "+s0"), std::invalid_argument);
  std::string negs(64, '-');
  EXPECT_THROW(rt::ShapeExpr::validate(negs + "s0"), std::invalid_argument);
  EXPECT_NO_THROW(rt::ShapeExpr::validate(std::string(63, '-') + "s0"));
  EXPECT_THROW(rt::ShapeExpr::validate(std::string(1001, '1')), std::invalid_argument);
}
