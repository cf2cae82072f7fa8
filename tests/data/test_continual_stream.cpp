#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <opencv2/core.hpp>

#include "corrupt/corruption.h"
#include "data/continual_stream.h"
#include "data/fashion_mnist.h"

using namespace ecotta::data;

namespace {

const std::vector<uint8_t>& real_labels() {
  static const std::vector<uint8_t> labels = load_fashion_mnist(default_data_dir(), Split::Test).labels;
  return labels;
}

std::vector<StreamBatch> drain(ContinualStream& stream) {
  std::vector<StreamBatch> batches;
  StreamBatch b;
  while (stream.next(b)) batches.push_back(b);
  return batches;
}

StreamSpec spec_of(std::vector<std::string> domains, size_t per_domain, int rounds, size_t batch, StreamOrder order,
                   uint64_t seed) {
  return make_stream_spec(domains, 5, per_domain, rounds, batch, order, seed);
}

// The samples of each (round, segment), in stream order.
std::map<std::pair<int, size_t>, std::vector<size_t>> by_segment(const std::vector<StreamBatch>& batches) {
  std::map<std::pair<int, size_t>, std::vector<size_t>> out;
  for (const StreamBatch& b : batches) {
    auto& v = out[{b.round, b.segment}];
    v.insert(v.end(), b.indices.begin(), b.indices.end());
  }
  return out;
}

// Mean over batches of the share of the batch's most frequent label.
double mean_majority_share(const std::vector<StreamBatch>& batches, const std::vector<uint8_t>& labels) {
  double sum = 0;
  for (const StreamBatch& b : batches) {
    std::map<uint8_t, size_t> counts;
    for (size_t i : b.indices) counts[labels[i]]++;
    size_t top = 0;
    for (auto [label, n] : counts) top = std::max(top, n);
    sum += double(top) / b.indices.size();
  }
  return sum / batches.size();
}

std::string invalid_argument_message(const std::string& list) {
  try {
    parse_domains(list);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no invalid_argument)";
}

}  // namespace

TEST(ContinualStream, StandardDomainsAreTheFifteenCorruptionsInOrder) {
  const auto domains = parse_domains("standard");
  EXPECT_EQ(domains, ecotta::corrupt::standard_corruptions());
  ASSERT_EQ(domains.size(), 15u);
  EXPECT_EQ(domains.front(), "gaussian_noise");
  EXPECT_EQ(domains.back(), "jpeg_compression");
}

TEST(ContinualStream, DomainListsAreValidated) {
  EXPECT_EQ(parse_domains("fog, brightness,clean"), (std::vector<std::string>{"fog", "brightness", "clean"}));
  EXPECT_EQ(parse_domains("snow,file:/data/night-images.idx.gz"),
            (std::vector<std::string>{"snow", "file:/data/night-images.idx.gz"}));
  const std::string bad = invalid_argument_message("fog,gausian_noise,snow");
  EXPECT_NE(bad.find("'gausian_noise'"), std::string::npos) << bad;
  EXPECT_NE(bad.find("ecotta corrupt --list"), std::string::npos) << bad;
  EXPECT_NE(invalid_argument_message("fog,,snow").find("empty entry"), std::string::npos);
  EXPECT_THROW(parse_domains(""), std::invalid_argument);
  EXPECT_THROW(parse_domains("Standard"), std::invalid_argument);
}

TEST(ContinualStream, StreamOrderNames) {
  EXPECT_EQ(parse_stream_order("iid"), StreamOrder::Iid);
  EXPECT_EQ(parse_stream_order("correlated"), StreamOrder::Correlated);
  EXPECT_EQ(parse_stream_order("dirichlet"), StreamOrder::Dirichlet);
  try {
    parse_stream_order("shuffled");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'shuffled'"), std::string::npos) << e.what();
  }
}

TEST(ContinualStream, SpecHasOneSegmentPerDomain) {
  const StreamSpec spec = make_stream_spec({"fog", "snow"}, 3, 500, 4, 50, StreamOrder::Correlated, 9);
  ASSERT_EQ(spec.segments.size(), 2u);
  EXPECT_EQ(spec.segments[0].domain, "fog");
  EXPECT_EQ(spec.segments[1].domain, "snow");
  for (const StreamSegment& s : spec.segments) {
    EXPECT_EQ(s.severity, 3);
    EXPECT_EQ(s.count, 500u);
  }
  EXPECT_EQ(spec.rounds, 4);
  EXPECT_EQ(spec.batch, 50u);
  EXPECT_EQ(spec.order, StreamOrder::Correlated);
  EXPECT_EQ(spec.seed, 9u);
  EXPECT_THROW(make_stream_spec({"fog"}, 6, 500, 1, 50, StreamOrder::Iid, 0), std::invalid_argument);
  EXPECT_THROW(make_stream_spec({"fog"}, 5, 0, 1, 50, StreamOrder::Iid, 0), std::invalid_argument);
  EXPECT_THROW(make_stream_spec({"fog"}, 5, 10, 0, 50, StreamOrder::Iid, 0), std::invalid_argument);
  EXPECT_THROW(make_stream_spec({"fog"}, 5, 10, 1, 0, StreamOrder::Iid, 0), std::invalid_argument);
}

TEST(ContinualStream, DomainsRepeatInOrderAndBatchesStayInsideSegments) {
  const std::vector<std::string> domains{"gaussian_noise", "fog", "clean"};
  ContinualStream stream(real_labels(), spec_of(domains, 100, 3, 32, StreamOrder::Iid, 1));
  EXPECT_EQ(stream.total_batches(), 3u * 3 * 4);
  const auto batches = drain(stream);
  ASSERT_EQ(batches.size(), stream.total_batches());
  size_t i = 0;
  for (int round = 0; round < 3; ++round)
    for (size_t seg = 0; seg < 3; ++seg)
      for (size_t k = 0; k < 4; ++k, ++i) {
        const StreamBatch& b = batches[i];
        EXPECT_EQ(b.round, round);
        EXPECT_EQ(b.segment, seg);
        EXPECT_EQ(b.domain, domains[seg]);
        EXPECT_EQ(b.severity, 5);
        EXPECT_EQ(b.indices.size(), k < 3 ? 32u : 4u) << "batch " << i;
        EXPECT_EQ(b.seeds.size(), b.indices.size());
      }
  StreamBatch after;
  EXPECT_FALSE(stream.next(after));

  for (const auto& [key, samples] : by_segment(batches)) {
    ASSERT_EQ(samples.size(), 100u);
    EXPECT_EQ(std::set<size_t>(samples.begin(), samples.end()).size(), 100u)
        << "round " << key.first << " segment " << key.second << " repeats samples";
    for (size_t s : samples) ASSERT_LT(s, real_labels().size());
  }
}

TEST(ContinualStream, StreamIsDeterministicInSeedAndVariesOverRoundsAndSegments) {
  const StreamSpec spec = spec_of({"fog", "snow"}, 200, 2, 64, StreamOrder::Iid, 42);
  ContinualStream a(real_labels(), spec), b(real_labels(), spec);
  const auto ba = drain(a), bb = drain(b);
  ASSERT_EQ(ba.size(), bb.size());
  for (size_t i = 0; i < ba.size(); ++i) {
    EXPECT_EQ(ba[i].indices, bb[i].indices);
    EXPECT_EQ(ba[i].seeds, bb[i].seeds);
  }
  StreamSpec other = spec;
  other.seed = 43;
  ContinualStream c(real_labels(), other);
  const auto bc = drain(c);
  EXPECT_NE(ba[0].indices, bc[0].indices);
  EXPECT_NE(ba[0].seeds, bc[0].seeds);

  const auto segs = by_segment(ba);
  EXPECT_NE(segs.at({0, 0}), segs.at({0, 1}));
  EXPECT_NE(segs.at({0, 0}), segs.at({1, 0}));

  std::set<uint64_t> seeds;
  size_t total = 0;
  for (const StreamBatch& batch : ba) {
    seeds.insert(batch.seeds.begin(), batch.seeds.end());
    total += batch.seeds.size();
  }
  EXPECT_EQ(seeds.size(), total) << "corruption seeds repeat";
}

TEST(ContinualStream, SegmentChoiceDependsOnlyOnSeedRoundAndSegment) {
  // Changing the batch size or adding rounds leaves each segment's samples alone.
  ContinualStream a(real_labels(), spec_of({"fog", "snow"}, 150, 1, 64, StreamOrder::Iid, 5));
  ContinualStream b(real_labels(), spec_of({"fog", "snow"}, 150, 2, 10, StreamOrder::Iid, 5));
  const auto sa = by_segment(drain(a)), sb = by_segment(drain(b));
  EXPECT_EQ(sa.at({0, 0}), sb.at({0, 0}));
  EXPECT_EQ(sa.at({0, 1}), sb.at({0, 1}));
}

TEST(ContinualStream, CountsBeyondTheSourceWrapAround) {
  const std::vector<uint8_t> labels(50, 3);
  ContinualStream stream(labels, spec_of({"fog"}, 120, 1, 16, StreamOrder::Iid, 3));
  EXPECT_EQ(stream.total_batches(), 8u);
  const auto samples = by_segment(drain(stream)).at({0, 0});
  ASSERT_EQ(samples.size(), 120u);
  EXPECT_EQ(std::set<size_t>(samples.begin(), samples.begin() + 50).size(), 50u);
  EXPECT_EQ(std::set<size_t>(samples.begin() + 50, samples.begin() + 100).size(), 50u);
  std::map<size_t, int> uses;
  for (size_t s : samples) uses[s]++;
  ASSERT_EQ(uses.size(), 50u);
  for (auto [s, n] : uses) EXPECT_TRUE(n == 2 || n == 3) << "sample " << s << " used " << n << " times";
}

TEST(ContinualStream, CorrelatedOrderIsSortedByLabel) {
  const auto& labels = real_labels();
  ContinualStream iid(labels, spec_of({"fog", "snow"}, 1000, 1, 64, StreamOrder::Iid, 8));
  ContinualStream cor(labels, spec_of({"fog", "snow"}, 1000, 1, 64, StreamOrder::Correlated, 8));
  const auto si = by_segment(drain(iid)), sc = by_segment(drain(cor));
  for (const auto& [key, samples] : sc) {
    std::vector<uint8_t> seq;
    for (size_t s : samples) seq.push_back(labels[s]);
    EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end())) << "segment " << key.second;
    EXPECT_EQ(std::set<uint8_t>(seq.begin(), seq.end()).size(), 10u);
    // The same samples as the i.i.d. stream, only reordered.
    std::vector<size_t> a = samples, b = si.at(key);
    EXPECT_NE(a, b);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
  }
}

TEST(ContinualStream, DirichletWithSmallAlphaMakesLabelHomogeneousBatches) {
  const auto& labels = real_labels();
  auto stream_with = [&](StreamOrder order, double alpha) {
    StreamSpec spec = spec_of({"fog", "snow"}, 3000, 1, 64, order, 17);
    spec.dirichlet_alpha = alpha;
    ContinualStream s(labels, spec);
    return drain(s);
  };
  const auto iid = stream_with(StreamOrder::Iid, 0.1);
  const auto non_iid = stream_with(StreamOrder::Dirichlet, 0.01);
  const auto mild = stream_with(StreamOrder::Dirichlet, 1000);
  const double share_iid = mean_majority_share(iid, labels);
  const double share_dir = mean_majority_share(non_iid, labels);
  const double share_mild = mean_majority_share(mild, labels);
  EXPECT_LT(share_iid, 0.3);
  EXPECT_GT(share_dir, 0.6) << "iid " << share_iid;
  EXPECT_LT(share_mild, 0.3) << "large alpha should approach iid";

  // Same batch geometry and the same samples per segment as the i.i.d. stream.
  ASSERT_EQ(non_iid.size(), iid.size());
  const auto si = by_segment(iid), sd = by_segment(non_iid);
  for (const auto& [key, samples] : sd) {
    std::vector<size_t> a = samples, b = si.at(key);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
  }

  // Deterministic.
  const auto again = stream_with(StreamOrder::Dirichlet, 0.01);
  for (size_t i = 0; i < again.size(); ++i) ASSERT_EQ(again[i].indices, non_iid[i].indices);
}

TEST(ContinualStream, BadStreamsAreRejected) {
  StreamSpec spec = spec_of({"fog"}, 10, 1, 4, StreamOrder::Iid, 0);
  spec.batch = 0;
  EXPECT_THROW(ContinualStream(real_labels(), spec), std::invalid_argument);
  EXPECT_THROW(ContinualStream({}, spec_of({"fog"}, 10, 1, 4, StreamOrder::Iid, 0)), std::invalid_argument);
  StreamSpec dir = spec_of({"fog"}, 10, 1, 4, StreamOrder::Dirichlet, 0);
  dir.dirichlet_alpha = 0;
  EXPECT_THROW(ContinualStream(real_labels(), dir), std::invalid_argument);

  ContinualStream empty(real_labels(), StreamSpec{});
  StreamBatch b;
  EXPECT_FALSE(empty.next(b));
  EXPECT_EQ(empty.total_batches(), 0u);
}

TEST(ContinualStream, MaterializeCorruptsEachSampleWithItsSeed) {
  const ImageSet source = to_model_input(load_fashion_mnist(default_data_dir(), Split::Test, 40));
  ContinualStream stream(source.labels, spec_of({"clean", "gaussian_noise"}, 12, 1, 5, StreamOrder::Iid, 4));
  const auto batches = drain(stream);
  ASSERT_EQ(batches.size(), 6u);

  const ImageSet clean = materialize(batches[0], source);
  ASSERT_EQ(clean.size(), 5u);
  EXPECT_EQ(clean.height, 32);
  EXPECT_EQ(clean.width, 32);
  EXPECT_EQ(clean.channels, 3);
  for (size_t i = 0; i < clean.size(); ++i) {
    EXPECT_EQ(clean.labels[i], source.labels[batches[0].indices[i]]);
    EXPECT_EQ(cv::norm(clean.image(i), source.image(batches[0].indices[i]), cv::NORM_INF), 0);
  }

  const StreamBatch& noisy_batch = batches[3];
  ASSERT_EQ(noisy_batch.domain, "gaussian_noise");
  const ImageSet noisy = materialize(noisy_batch, source);
  ASSERT_EQ(noisy.size(), noisy_batch.indices.size());
  for (size_t i = 0; i < noisy.size(); ++i) {
    const size_t src = noisy_batch.indices[i];
    EXPECT_EQ(noisy.labels[i], source.labels[src]);
    EXPECT_GT(cv::norm(noisy.image(i), source.image(src), cv::NORM_L1), 0) << "sample " << i << " not corrupted";
    const cv::Mat expect = ecotta::corrupt::apply("gaussian_noise", 5, source.image(src), noisy_batch.seeds[i]);
    EXPECT_EQ(cv::norm(noisy.image(i), expect, cv::NORM_INF), 0) << "sample " << i << " used another seed";
  }
  EXPECT_EQ(materialize(noisy_batch, source).pixels, noisy.pixels);
}

TEST(ContinualStream, MaterializeRejectsWhatItCannotCorrupt) {
  const ImageSet gray = load_fashion_mnist(default_data_dir(), Split::Test, 4);
  const ImageSet rgb = to_model_input(gray);
  StreamBatch b;
  b.domain = "fog";
  b.severity = 5;
  b.indices = {0, 1};
  b.seeds = {1, 2};
  EXPECT_THROW(materialize(b, gray), std::invalid_argument);
  b.indices = {0, 4};
  EXPECT_THROW(materialize(b, rgb), std::invalid_argument);
  b.indices = {0, 1};
  b.domain = "file:/tmp/other.idx";
  EXPECT_THROW(materialize(b, rgb), std::invalid_argument);
  b.domain = "fog";
  b.seeds = {1};
  EXPECT_THROW(materialize(b, rgb), std::invalid_argument);
}
