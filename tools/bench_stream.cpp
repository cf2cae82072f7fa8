#include "bench_stream.h"

#include <filesystem>
#include <map>
#include <stdexcept>

#include <torch/torch.h>

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
  // The clean images once as an ImageSet, so data::materialize corrupts each
  // batch exactly as every other stream consumer does.
  const auto pixels = source.images.contiguous();
  data::ImageSet clean;
  clean.height = static_cast<int>(pixels.size(1));
  clean.width = static_cast<int>(pixels.size(2));
  clean.channels = 3;
  clean.pixels.assign(pixels.data_ptr<uint8_t>(), pixels.data_ptr<uint8_t>() + pixels.numel());
  clean.labels.assign(static_cast<size_t>(source.size()), 0);  // segmentation: one order for every scene
  if (source.targets.dim() == 1) {
    const auto t = source.targets.to(torch::kUInt8).contiguous();
    std::copy(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel(), clean.labels.begin());
  }
  std::map<std::string, train::TensorDataset> files;
  std::map<std::pair<int, size_t>, int64_t> file_position;  // (round, segment) -> next sample

  data::ContinualStream stream(clean.labels, spec);
  std::vector<bench::BenchBatch> out;
  data::StreamBatch b;
  while (stream.next(b)) {
    torch::Tensor images, targets;
    if (b.domain.rfind("file:", 0) == 0) {
      const auto prefix = b.domain.substr(5);
      auto it = files.find(prefix);
      if (it == files.end())
        it = files.emplace(prefix, load_idx_pair(existing(prefix + "-images.idx"), existing(prefix + "-labels.idx"),
                                                 clean.height, clean.width)).first;
      auto& pos = file_position[{b.round, b.segment}];
      std::vector<int64_t> idx;
      for (size_t i = 0; i < b.indices.size(); ++i) idx.push_back(pos++ % it->second.size());
      const auto part = it->second.index(torch::tensor(idx, torch::kInt64));
      images = part.images;
      targets = part.targets;
    } else {
      images = train::to_tensors(data::materialize(b, clean)).images;
      targets = source.targets.index_select(0, torch::tensor(std::vector<int64_t>(b.indices.begin(), b.indices.end())));
    }
    out.push_back({b.round, b.segment, train::prepare_input(images, input, torch::kCPU), targets});
  }
  return out;
}

}  // namespace ecotta::tools
