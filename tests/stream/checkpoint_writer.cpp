// Saves EcoTTA's adapted state for a bundle to one path over and over,
// changing it between saves, until it is killed. test_stream_faults kills it
// at random moments, mid-write among them, and then loads what is left.
#include <cstdio>
#include <exception>

#include <torch/torch.h>

#include "adapt/methods.h"
#include "model/bundle.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: checkpoint_writer BUNDLE STATE_FILE\n");
    return 2;
  }
  try {
    auto bundle = ecotta::model::load_bundle(argv[1]);
    auto method = ecotta::adapt::make_method("ecotta", bundle, {});
    for (long i = 0;; ++i) {
      {
        torch::NoGradGuard no_grad;
        for (auto& t : method->adapted_state())
          if (t.is_floating_point()) t.add_(1e-3);
      }
      method->save_state(argv[2]);
      std::printf("saved %ld\n", i);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_writer: %s\n", e.what());
    return 1;
  }
}
