#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "data/fashion_mnist.h"
#include "runtime/torch_runtime.h"

namespace ecotta::tools {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show the LibTorch version, thread count, BLAS and data location in use");
  static int threads = 0;
  cmd->add_option("--threads", threads, "Intra-op threads (default: $ECOTTA_THREADS, else all cores)");
  cmd->callback([] {
    runtime::configure_threads(threads);
    const auto info = runtime::runtime_info();
    std::printf("torch version:    %s\n", info.torch_version.c_str());
    std::printf("intra-op threads: %d\n", info.intra_op_threads);
    std::printf("BLAS:             %s%s\n", info.blas_library.empty() ? "(none found)" : info.blas_library.c_str(),
                info.reference_blas ? "  <- reference BLAS, slow: install libopenblas0-openmp (scripts/setup)" : "");
    std::printf("data folder:      %s\n", data::default_data_dir().c_str());
  });
}

}  // namespace ecotta::tools
