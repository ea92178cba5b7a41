// Exceptions thrown at the public API. Each carries a message fit for a user.
#pragma once

#include <stdexcept>
#include <string>

namespace attnjit {

// Base of every error attnjit throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A variant that breaks the language's rules (types, names, declarations),
// built through the C++ builder or reached through the text path.
class SpecError : public Error {
 public:
  using Error::Error;
};

// Inputs to a computation (shapes, params, tensors) that do not fit the variant.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace attnjit
