#pragma once
// The readers under fuzzing take a path: each target writes its input to
// one scratch file of its own (per process) and hands that path on.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ecotta::fuzz {

// Writes the input to /tmp/ecotta-fuzz-NAME-PID; empty string if it cannot.
inline std::string input_file(const char* name, const uint8_t* data, size_t size) {
  const std::string path = "/tmp/ecotta-fuzz-" + std::string(name) + "-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return {};
  const bool written = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && written ? path : std::string();
}

}  // namespace ecotta::fuzz
