#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "image_set.h"

namespace ecotta::data {

// A continual test stream: ordered (domain, severity, count) segments,
// repeated for `rounds`, cut into batches. Domains are corruption names
// (see core/corrupt) or "clean".
struct StreamSegment {
  std::string domain;
  int severity = 5;
  size_t count = 0;
};

enum class StreamOrder {
  Iid,         // samples shuffled within a segment
  Correlated,  // samples sorted by label within a segment: one class after another
  Dirichlet,   // label groups with Dirichlet(alpha) proportions, as in NOTE/RoTTA
};
StreamOrder parse_stream_order(const std::string& name);  // "iid" | "correlated" | "dirichlet"

struct StreamSpec {
  std::vector<StreamSegment> segments;
  int rounds = 1;
  size_t batch = 64;
  StreamOrder order = StreamOrder::Iid;
  double dirichlet_alpha = 0.1;
  uint64_t seed = 0;
};

// "standard" -> the 15 standard corruptions in order; otherwise a comma list
// of names, validated. Throws std::invalid_argument naming a bad entry.
// Spaces around entries are ignored. An entry "file:PATH" names an external
// IDX domain and is kept verbatim, unchecked (callers read the file).
std::vector<std::string> parse_domains(const std::string& list);

// One segment per domain, each of `per_domain` samples at `severity`.
// Throws std::invalid_argument for a severity outside 1..5, per_domain 0,
// rounds < 1 or batch 0.
StreamSpec make_stream_spec(const std::vector<std::string>& domains, int severity, size_t per_domain, int rounds,
                            size_t batch, StreamOrder order, uint64_t seed);

// A batch before corruption: which source samples, under which condition.
struct StreamBatch {
  int round = 0;
  size_t segment = 0;
  std::string domain;
  int severity = 0;
  std::vector<size_t> indices;    // into the source set
  std::vector<uint64_t> seeds;    // the corruption seed of each sample
};

// Walks a StreamSpec over a source of `labels.size()` samples. Sample choice
// and order depend only on the spec's seed, round and segment.
//
// Each segment takes `count` distinct samples from a seeded permutation of the
// source (more than the source holds: several permutations, one after another)
// and orders them by spec.order:
//   Iid         as permuted;
//   Correlated  stable-sorted by label;
//   Dirichlet   as in NOTE (Gong et al. 2022): the segment is split into T time
//               slots, T = its number of batches; each class spreads its
//               samples over the slots in contiguous chunks whose sizes follow
//               Dirichlet(alpha) proportions, and each slot is shuffled. Small
//               alpha puts a class into few slots (label-homogeneous batches);
//               large alpha approaches Iid.
// Batches hold `batch` samples; the last of a segment may be smaller, and no
// batch spans two segments. Each sample's corruption seed is a splitmix64 hash
// of (spec seed, round, segment, position in the segment).
// The constructor throws std::invalid_argument for batch 0, a negative round
// count, a non-positive Dirichlet alpha, or an empty source with samples to draw.
class ContinualStream {
 public:
  ContinualStream(std::vector<uint8_t> labels, StreamSpec spec);
  bool next(StreamBatch& out);  // false at the end
  size_t total_batches() const;
  const StreamSpec& spec() const { return spec_; }

 private:
  void plan_segment();
  std::vector<uint8_t> labels_;
  StreamSpec spec_;
  int round_ = 0;
  size_t segment_ = 0;
  bool planned_ = false;       // order_ holds (round_, segment_)
  std::vector<size_t> order_;  // the current segment's samples in stream order
  size_t pos_ = 0;
};

// Corrupts the batch's samples of `source` (e.g. 32x32x3 model inputs) with
// corrupt::apply and each sample's seed; "clean" copies them. Labels are
// copied. Throws std::invalid_argument for an index outside `source`, a source
// that is not 3-channel, or a "file:" domain (its images come from that file,
// which the caller reads).
ImageSet materialize(const StreamBatch& batch, const ImageSet& source);

}  // namespace ecotta::data
