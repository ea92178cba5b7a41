// Helpers shared by the front end's tests.
#pragma once

#include <attnjit/language.hpp>

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace attnjit::testing {

// Parses a text that must hold exactly one valid variant.
inline Variant parse_one(std::string_view text) {
  ParseResult result = parse_variants(text, "test.attn");
  std::string errors;
  for (const Diagnostic& error : result.errors) errors += error.render();
  if (!result.ok() || result.variants.size() != 1) {
    ADD_FAILURE() << "expected one valid variant, got " << result.variants.size() << "\n" << errors;
    throw std::runtime_error("parse failed");
  }
  return std::move(result.variants.front());
}

// The first error of a text that must be rejected.
inline Diagnostic first_error(std::string_view text) {
  ParseResult result = parse_variants(text, "test.attn");
  if (result.ok()) {
    ADD_FAILURE() << "expected an error for:\n" << text;
    throw std::runtime_error("no error");
  }
  return result.errors.front();
}

}  // namespace attnjit::testing
