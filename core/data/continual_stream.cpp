#include "continual_stream.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include "../corrupt/corruption.h"
#include "splitmix.h"

namespace ecotta::data {
namespace {

// Tags that keep the seeds of different uses of one spec seed apart.
constexpr uint64_t kTagSelection = 0x73656c656374ULL;  // "select"
constexpr uint64_t kTagOrder = 0x6f72646572ULL;         // "order"
constexpr uint64_t kTagCorruption = 0x636f7272ULL;      // "corr"

const char* const kFilePrefix = "file:";

using Rng = SplitMixRng;

void shuffle(std::vector<size_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

bool is_file_domain(const std::string& domain) { return domain.rfind(kFilePrefix, 0) == 0; }

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

size_t batches_in(size_t count, size_t batch) { return (count + batch - 1) / batch; }

// Dirichlet(alpha, ..., alpha) over `slots` categories. Gamma variates are
// drawn in log space (G(a) = G(a + 1) * U^(1/a)) so that tiny alphas do not
// underflow every variate to zero.
std::vector<double> dirichlet(size_t slots, double alpha, std::mt19937_64& engine, Rng& rng) {
  std::gamma_distribution<double> gamma(alpha + 1.0, 1.0);
  std::vector<double> logs(slots);
  for (double& l : logs) l = std::log(gamma(engine)) + std::log(1.0 - rng.uniform()) / alpha;
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (double& l : logs) sum += (l = std::exp(l - top));
  for (double& l : logs) l /= sum;
  return logs;
}

// NOTE-style non-i.i.d. order: each class's samples are cut into contiguous
// chunks over `slots` time slots with Dirichlet(alpha) proportions; each slot
// is shuffled; the slots are concatenated.
std::vector<size_t> dirichlet_order(const std::vector<size_t>& samples, const std::vector<uint8_t>& labels,
                                    size_t slots, double alpha, uint64_t seed) {
  std::map<uint8_t, std::vector<size_t>> by_class;  // ordered: deterministic
  for (size_t s : samples) by_class[labels[s]].push_back(s);
  std::mt19937_64 engine(seed);
  Rng rng(splitmix64(seed));
  std::vector<std::vector<size_t>> slot_samples(slots);
  for (const auto& [label, members] : by_class) {
    const std::vector<double> share = dirichlet(slots, alpha, engine, rng);
    const size_t n = members.size();
    double cumulative = 0;
    size_t begin = 0;
    for (size_t slot = 0; slot < slots; ++slot) {
      cumulative += share[slot];
      const size_t end = slot + 1 == slots ? n : std::min(n, static_cast<size_t>(std::floor(cumulative * n)));
      if (end > begin) {
        slot_samples[slot].insert(slot_samples[slot].end(), members.begin() + begin, members.begin() + end);
        begin = end;
      }
    }
  }
  std::vector<size_t> order;
  order.reserve(samples.size());
  for (std::vector<size_t>& slot : slot_samples) {
    shuffle(slot, rng);
    order.insert(order.end(), slot.begin(), slot.end());
  }
  return order;
}

}  // namespace

StreamOrder parse_stream_order(const std::string& name) {
  if (name == "iid") return StreamOrder::Iid;
  if (name == "correlated") return StreamOrder::Correlated;
  if (name == "dirichlet") return StreamOrder::Dirichlet;
  throw std::invalid_argument("unknown stream order '" + name + "' (expected 'iid', 'correlated' or 'dirichlet')");
}

std::vector<std::string> parse_domains(const std::string& list) {
  if (trim(list) == "standard") return corrupt::standard_corruptions();
  std::vector<std::string> domains;
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(',', start);
    const std::string entry = trim(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (entry.empty())
      throw std::invalid_argument("empty entry in domain list '" + list +
                                  "' (expected 'standard' or comma-separated corruption names)");
    if (!is_file_domain(entry) && !corrupt::is_corruption(entry))
      throw std::invalid_argument("unknown domain '" + entry + "' in '" + list +
                                  "': `ecotta corrupt --list` shows the corruption names; use 'clean' for "
                                  "uncorrupted data or 'file:PATH' for an IDX file");
    domains.push_back(entry);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return domains;
}

StreamSpec make_stream_spec(const std::vector<std::string>& domains, int severity, size_t per_domain, int rounds,
                            size_t batch, StreamOrder order, uint64_t seed) {
  if (severity < 1 || severity > 5)
    throw std::invalid_argument("severity must be 1..5, got " + std::to_string(severity));
  if (per_domain == 0) throw std::invalid_argument("a stream needs at least one sample per domain");
  if (rounds < 1) throw std::invalid_argument("a stream needs at least one round, got " + std::to_string(rounds));
  if (batch == 0) throw std::invalid_argument("stream batch size must be at least 1");
  StreamSpec spec;
  for (const std::string& d : domains) spec.segments.push_back({d, severity, per_domain});
  spec.rounds = rounds;
  spec.batch = batch;
  spec.order = order;
  spec.seed = seed;
  return spec;
}

ContinualStream::ContinualStream(std::vector<uint8_t> labels, StreamSpec spec)
    : labels_(std::move(labels)), spec_(std::move(spec)) {
  if (spec_.batch == 0) throw std::invalid_argument("stream batch size must be at least 1");
  if (spec_.rounds < 0) throw std::invalid_argument("stream rounds must not be negative");
  if (spec_.order == StreamOrder::Dirichlet && !(spec_.dirichlet_alpha > 0))
    throw std::invalid_argument("Dirichlet alpha must be positive, got " + std::to_string(spec_.dirichlet_alpha));
  const bool draws = std::any_of(spec_.segments.begin(), spec_.segments.end(),
                                 [](const StreamSegment& s) { return s.count > 0; });
  if (labels_.empty() && draws && spec_.rounds > 0)
    throw std::invalid_argument("a continual stream needs a non-empty source to draw samples from");
}

void ContinualStream::plan_segment() {
  const StreamSegment& seg = spec_.segments[segment_];
  const uint64_t round = static_cast<uint64_t>(round_);
  const size_t n = labels_.size();

  // `count` samples: whole seeded permutations of the source, one after
  // another, the last one cut short. Within one permutation samples are distinct.
  order_.clear();
  order_.reserve(seg.count);
  std::vector<size_t> perm(n);
  for (uint64_t k = 0; order_.size() < seg.count; ++k) {
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    Rng rng(hash_of({spec_.seed, kTagSelection, round, segment_, k}));
    shuffle(perm, rng);
    const size_t take = std::min(n, seg.count - order_.size());
    order_.insert(order_.end(), perm.begin(), perm.begin() + take);
  }

  switch (spec_.order) {
    case StreamOrder::Iid:
      break;
    case StreamOrder::Correlated:
      std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return labels_[a] < labels_[b]; });
      break;
    case StreamOrder::Dirichlet:
      order_ = dirichlet_order(order_, labels_, std::max<size_t>(1, batches_in(seg.count, spec_.batch)),
                               spec_.dirichlet_alpha, hash_of({spec_.seed, kTagOrder, round, segment_}));
      break;
  }
  pos_ = 0;
  planned_ = true;
}

bool ContinualStream::next(StreamBatch& out) {
  while (round_ < spec_.rounds && !spec_.segments.empty()) {
    if (!planned_) plan_segment();
    if (pos_ < order_.size()) {
      const StreamSegment& seg = spec_.segments[segment_];
      const size_t end = std::min(order_.size(), pos_ + spec_.batch);
      out.round = round_;
      out.segment = segment_;
      out.domain = seg.domain;
      out.severity = seg.severity;
      out.indices.assign(order_.begin() + pos_, order_.begin() + end);
      out.seeds.resize(end - pos_);
      for (size_t p = pos_; p < end; ++p)
        out.seeds[p - pos_] = hash_of({spec_.seed, kTagCorruption, static_cast<uint64_t>(round_), segment_, p});
      pos_ = end;
      return true;
    }
    planned_ = false;
    if (++segment_ == spec_.segments.size()) {
      segment_ = 0;
      ++round_;
    }
  }
  return false;
}

size_t ContinualStream::total_batches() const {
  size_t per_round = 0;
  for (const StreamSegment& s : spec_.segments) per_round += batches_in(s.count, spec_.batch);
  return per_round * static_cast<size_t>(std::max(0, spec_.rounds));
}

ImageSet materialize(const StreamBatch& batch, const ImageSet& source) {
  if (is_file_domain(batch.domain))
    throw std::invalid_argument("domain '" + batch.domain +
                                "' is an external IDX file: read its images from that file instead of corrupting");
  if (batch.indices.size() != batch.seeds.size())
    throw std::invalid_argument("stream batch holds " + std::to_string(batch.indices.size()) + " indices but " +
                                std::to_string(batch.seeds.size()) + " seeds");
  if (source.channels != 3)
    throw std::invalid_argument("corruptions need 3-channel RGB images; the source has " +
                                std::to_string(source.channels) + " channels (see to_model_input)");
  ImageSet out;
  out.height = source.height;
  out.width = source.width;
  out.channels = source.channels;
  out.pixels.reserve(batch.indices.size() * out.image_bytes());
  out.labels.reserve(batch.indices.size());
  const bool clean = batch.domain == "clean";
  for (size_t i = 0; i < batch.indices.size(); ++i) {
    const size_t index = batch.indices[i];
    if (index >= source.size())
      throw std::invalid_argument("stream batch names sample " + std::to_string(index) + " but the source holds " +
                                  std::to_string(source.size()));
    const cv::Mat image = source.image(index);
    const uint8_t label = source.labels[index];
    if (clean)
      out.push_back(image, label);
    else
      out.push_back(corrupt::apply(batch.domain, batch.severity, image, batch.seeds[i]), label);
  }
  return out;
}

}  // namespace ecotta::data
