#pragma once
// Runs the built `ecotta` binary (path in $ECOTTA_EXE) as a user would,
// capturing its exit status, stdout and stderr.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "temp_dir.h"

namespace ecotta::testing {

inline std::string ecotta_exe() {
  const char* exe = std::getenv("ECOTTA_EXE");
  return exe ? exe : "";
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Result {
  int status = -1;
  std::string out, err;
};

inline Result run_ecotta(const std::string& args, const TempDir& dir) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string command = "'" + ecotta_exe() + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int raw = std::system(command.c_str());
  Result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

}  // namespace ecotta::testing
