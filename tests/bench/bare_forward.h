#pragma once
#include <string>

namespace ecotta::bench {

// Mean milliseconds of a bare LibTorch batch-1 forward of the bundle's
// network (with its meta networks when it has them, robust statistics, no
// autograd, one intra-op thread) on a ready input tensor: what the element
// is compared against. `runs` timed after a few untimed ones.
double bare_forward_ms(const std::string& bundle_path, int runs);

}  // namespace ecotta::bench
