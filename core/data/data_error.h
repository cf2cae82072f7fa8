#pragma once
#include <stdexcept>
#include <string>

namespace ecotta::data {

// Thrown for unreadable or malformed data files; the message names the file
// and says what was expected, so a person can act on it.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ecotta::data
