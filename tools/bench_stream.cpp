#include "bench_stream.h"

#include <filesystem>
#include <map>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "corrupt/corruption.h"
#include "task_data.h"

namespace ecotta::tools {
namespace {

std::string existing(const std::string& base) {
  for (const auto& candidate : {base + ".gz", base})
    if (std::filesystem::exists(candidate)) return candidate;
  throw std::invalid_argument("domain file '" + base + "[.gz]' does not exist (write it with `ecotta corrupt --out`)");
}

}  // namespace

std::vector<bench::BenchBatch> build_bench_stream(const data::StreamSpec& spec, const train::TensorDataset& source,
                                                  const model::InputSpec& input) {
  std::vector<uint8_t> labels(static_cast<size_t>(source.size()), 0);
  if (source.targets.dim() == 1) {
    const auto t = source.targets.to(torch::kUInt8).contiguous();
    std::copy(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel(), labels.begin());
  }
  std::map<std::string, train::TensorDataset> files;
  std::map<std::pair<int, size_t>, int64_t> file_position;  // (round, segment) -> next sample
  std::vector<std::string> domains;
  for (const auto& s : spec.segments) domains.push_back(s.domain);

  data::ContinualStream stream(labels, spec);
  std::vector<bench::BenchBatch> out;
  data::StreamBatch b;
  while (stream.next(b)) {
    train::TensorDataset part;
    if (b.domain.rfind("file:", 0) == 0) {
      const auto prefix = b.domain.substr(5);
      auto it = files.find(prefix);
      if (it == files.end())
        it = files.emplace(prefix, load_idx_pair(existing(prefix + "-images.idx"), existing(prefix + "-labels.idx"),
                                                 source.images.size(1), source.images.size(2))).first;
      auto& pos = file_position[{b.round, b.segment}];
      std::vector<int64_t> idx;
      for (size_t i = 0; i < b.indices.size(); ++i) idx.push_back(pos++ % it->second.size());
      part = it->second.index(torch::tensor(idx, torch::kInt64));
    } else {
      std::vector<int64_t> idx(b.indices.begin(), b.indices.end());
      part = source.index(torch::tensor(idx, torch::kInt64));
      if (b.domain != "clean") {
        auto images = part.images.contiguous();
        const int h = static_cast<int>(images.size(1)), w = static_cast<int>(images.size(2));
        const size_t bytes = static_cast<size_t>(h) * w * 3;
        for (int64_t i = 0; i < images.size(0); ++i) {
          cv::Mat img(h, w, CV_8UC3, images.data_ptr<uint8_t>() + i * bytes);
          corrupt::apply(b.domain, b.severity, img, b.seeds[static_cast<size_t>(i)]).copyTo(img);
        }
        part.images = images;
      }
    }
    out.push_back({b.round, b.segment, train::prepare_input(part.images, input, torch::kCPU), part.targets});
  }
  return out;
}

}  // namespace ecotta::tools
