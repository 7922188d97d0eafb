#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/runtime/Base64.h"
#include "core/runtime/Sha256.h"
#include "core/runtime/runtime.h"
#include "core/runtime/text.h"

namespace rt = torch_tensorrt::core::runtime;

TEST(Layout, NamesTableIsCompleteAndOrdered) {
  const char* expected[] = {
      "ABI_TARGET_IDX",
      "NAME_IDX",
      "DEVICE_IDX",
      "SERIALIZED_ENGINE_IDX",
      "INPUT_BINDING_NAMES_IDX",
      "OUTPUT_BINDING_NAMES_IDX",
      "HW_COMPATIBLE_IDX",
      "SERIALIZED_METADATA_IDX",
      "TARGET_PLATFORM_IDX",
      "REQUIRES_OUTPUT_ALLOCATOR_IDX",
      "RESOURCE_ALLOCATION_STRATEGY_IDX"};
  ASSERT_EQ(rt::SERIALIZATION_LEN, 11);
  ASSERT_EQ(sizeof(expected) / sizeof(expected[0]), static_cast<size_t>(rt::SERIALIZATION_LEN));
  for (int64_t i = 0; i < rt::SERIALIZATION_LEN; ++i) {
    ASSERT_NE(rt::SERIALIZED_INFO_NAMES[i], nullptr);
    EXPECT_STREQ(rt::SERIALIZED_INFO_NAMES[i], expected[i]);
  }
  EXPECT_EQ(rt::RESOURCE_ALLOCATION_STRATEGY_IDX, 10);
  EXPECT_STREQ(rt::ABI_VERSION, "1");
  EXPECT_EQ(rt::slot_label(rt::NAME_IDX), "NAME_IDX (1)");
}

TEST(Layout, CurrentPlatformIsKnownHere) {
  std::string p = rt::current_platform();
  bool known = false;
  for (const char* k : rt::KNOWN_PLATFORMS) {
    known |= p == k;
  }
  EXPECT_TRUE(known) << p;
}

TEST(Base64, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data += static_cast<char>(i * 37 + 11);
    EXPECT_EQ(rt::Base64::decode(rt::Base64::encode(data)), data);
  }
  EXPECT_EQ(rt::Base64::encode("hello"), "aGVsbG8=");
}

TEST(Base64, RefusesNonCanonicalOrMalformed) {
  for (const char* bad : {"", "a", "abc", "ab=c", "====", "a===", "aGVsbG9=", "aGVsbG8", "aGVs bG8=", "aGVsbG8==="}) {
    EXPECT_THROW(rt::Base64::decode(bad), std::invalid_argument) << bad;
  }
  try {
    rt::Base64::decode("aGVsbG9=");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("non-canonical"), std::string::npos);
  }
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(rt::Sha256::hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(rt::Sha256::hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Text, QuoteAndUtf8) {
  EXPECT_EQ(rt::quote("abc"), "'abc'");
  EXPECT_EQ(rt::quote(std::string("a\0b", 3)), "'a\\x00b'");
  EXPECT_EQ(rt::quote(std::string(100, 'x'), 10), "'xxxxxxxxxx'... (100 chars)");
  EXPECT_TRUE(rt::is_valid_utf8("h\xc3\xa9"));
  EXPECT_FALSE(rt::is_valid_utf8("\xed\xa0\x80")); // a surrogate
  EXPECT_FALSE(rt::is_valid_utf8("\xc0\xaf")); // overlong
  EXPECT_EQ(rt::utf8_length("h\xc3\xa9"), 2u);
  EXPECT_THROW(rt::check_tensor_name("a%b", "input name #0"), std::invalid_argument);
  EXPECT_THROW(rt::check_tensor_name("", "input name #0"), std::invalid_argument);
  EXPECT_THROW(rt::check_tensor_name(std::string("a\0", 2), "input name #0"), std::invalid_argument);
  EXPECT_NO_THROW(rt::check_tensor_name("x.1", "input name #0"));
}

TEST(Text, IsCapability) {
  for (const char* good : {"0.0", "8.6", "12.0", "99.99", "8.60"}) {
    EXPECT_TRUE(rt::is_capability(good)) << good;
  }
  for (const char* bad : {"", "8", "8.", ".6", "08.6", "8.06", "100.0", "8.6.1", "sm86", "8,6", " 8.6"}) {
    EXPECT_FALSE(rt::is_capability(bad)) << bad;
  }
}
