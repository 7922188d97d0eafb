#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/runtime/Json.h"

namespace rt = torch_tensorrt::core::runtime;
using rt::JsonValue;

namespace {
JsonValue parse(const std::string& text) {
  return JsonValue::parse(text, 32);
}
} // namespace

TEST(Json, ParsesValues) {
  JsonValue v = parse(R"( {"a": [1, -2, 3.5e1, true, false, null, "x\u00e9\ud83d\ude00\n"], "b": {}} )");
  ASSERT_EQ(v.kind(), JsonValue::Kind::kObject);
  const auto& a = v.find("a")->items();
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1].as_int(), -2);
  EXPECT_EQ(a[2].kind(), JsonValue::Kind::kFloat);
  EXPECT_TRUE(a[3].as_bool());
  EXPECT_EQ(a[5].kind(), JsonValue::Kind::kNull);
  EXPECT_EQ(a[6].as_string(), "x\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ(v.find("b")->keys().size(), 0u);
  EXPECT_EQ(v.find("zzz"), nullptr);
}

TEST(Json, IntegerRange) {
  EXPECT_EQ(parse("9223372036854775807").as_int(), INT64_MAX);
  EXPECT_EQ(parse("-9223372036854775808").as_int(), INT64_MIN);
  EXPECT_EQ(parse("9223372036854775808").int_overflow(), 1);
  EXPECT_EQ(parse("-99999999999999999999").int_overflow(), -1);
  EXPECT_THROW(parse("123456789012345678901"), std::invalid_argument); // 21 digits
  EXPECT_EQ(parse("-0").as_int(), 0);
}

TEST(Json, RefusesWhatPythonRefuses) {
  for (const char* bad :
       {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "NaN", "Infinity", "-Infinity", "1e400",
        "{\"a\":1,\"a\":2}", "'x'", "\"\t\"", "\"\\x\"", "[1] 2", "tru", "{1:2}", "\"\\ud83d\\uZZZZ\"",
        "\xef\xbb\xbf{}", "// c\n{}", "\"\xff\""}) {
    EXPECT_THROW(parse(bad), std::invalid_argument) << bad;
  }
}

TEST(Json, KeepsLoneSurrogatesLikePython) {
  // Python's json keeps a lone surrogate in the str; we keep it too (names check it later).
  EXPECT_NO_THROW(parse("\"\\ud800\""));
  EXPECT_EQ(parse("\"\\ud800\"").as_string(), "\xed\xa0\x80");
}

TEST(Json, DepthLimit) {
  std::string ok(32, '[');
  ok += std::string(32, ']');
  EXPECT_NO_THROW(parse(ok));
  std::string deep(33, '[');
  deep += std::string(33, ']');
  try {
    parse(deep);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 32"), std::string::npos);
  }
  // Brackets inside strings do not count.
  EXPECT_NO_THROW(parse("[\"" + std::string(100, '[') + "\"]"));
}
