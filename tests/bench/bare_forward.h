#pragma once
#include <string>

namespace ecotta::bench {

struct BareForward {
  double paced_p50_ms = 0;    // one frame every 1/fps seconds, as a live source gives them
  double paced_p99_ms = 0;
  double unpaced_p50_ms = 0;  // frames back to back (warm caches: a lower bound)
};

// A plain LibTorch application on the same frames as the element, per frame:
// a width x height RGB frame cut to the bundle's view and shrunk with
// OpenCV's area resize, to a normalized float tensor, a batch-1 forward of
// the network (with its meta networks when it has them, robust statistics
// frozen, no autograd, one intra-op thread), and the arg-max. This is what
// the element is compared against: the same work without the element.
BareForward bare_forward(const std::string& bundle_path, int width, int height, double fps, int runs);

}  // namespace ecotta::bench
