#pragma once
// Which camera of an adaptation group gets the next step. One worker serves
// the group, one step at a time, so the group's adaptation memory is one
// step's worth however many cameras it has; this policy decides whose.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ecotta::stream {

// A camera ready to step (adaptation on, a batch buffered, new samples).
struct CameraTurn {
  double entropy = 0;               // running mean of its predictions' H / ln C now
  double entropy_at_last_step = 0;  // the same when it last stepped
  int64_t waited = 0;               // group steps taken since its own last one
};

// The policy, in order:
// 1. A camera that has waited `2 x cameras` group steps or more goes first
//    (the longest waiting): every ready camera gets at least one step in
//    every 3N (starving after 2N, then behind at most N - 1 other starving
//    cameras), whatever the others' need.
// 2. Otherwise the neediest: the highest entropy now plus its rise since the
//    camera's last step (a scene turning to fog or night rises; a clean
//    daylight scene stays low), ties to the longest waiting.
// `cameras` is the group's size (ready or not). Returns an index into
// `ready`, which must not be empty.
size_t choose_camera(const std::vector<CameraTurn>& ready, size_t cameras);

}  // namespace ecotta::stream
