#include "torch_runtime.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace ecotta::runtime {

int configure_threads(int requested) {
  int n = requested;
  if (n <= 0) {
    if (const char* env = std::getenv("ECOTTA_THREADS"); env && *env) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (*end != '\0' || v <= 0 || v > 1024)
        throw std::invalid_argument(std::string("ECOTTA_THREADS='") + env + "' is not a positive thread count");
      n = static_cast<int>(v);
    }
  }
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  return at::get_num_threads();
}

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  info.intra_op_threads = at::get_num_threads();
  // The BLAS that libtorch_cpu resolved at load time shows in our own mappings.
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const auto base = path.substr(path.rfind('/') + 1);
    if (base.rfind("libblas", 0) == 0 || base.rfind("libopenblas", 0) == 0 || base.rfind("libmkl", 0) == 0) {
      info.blas_library = path;
      break;
    }
  }
  info.reference_blas = info.blas_library.find("/blas/libblas") != std::string::npos;
  return info;
}

}  // namespace ecotta::runtime
