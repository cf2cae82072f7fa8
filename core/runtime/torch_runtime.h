#pragma once
#include <string>

namespace ecotta::runtime {

// Sets LibTorch's intra-op thread count explicitly: LibTorch picks 1 thread
// on a 2-core machine by itself. `requested` > 0 wins; otherwise
// $ECOTTA_THREADS; otherwise every core. Returns the count now in force.
int configure_threads(int requested = 0);

// What the process runs on, for `ecotta info` and for sanity checks.
struct RuntimeInfo {
  std::string torch_version;
  int intra_op_threads = 0;
  std::string blas_library;  // path of the BLAS shared object mapped into the process
  bool reference_blas = false;  // Debian's unoptimized netlib BLAS: ~8x slower convolutions
};
RuntimeInfo runtime_info();

}  // namespace ecotta::runtime
