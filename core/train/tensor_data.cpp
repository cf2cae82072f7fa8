#include "tensor_data.h"

#include <torch/torch.h>

namespace ecotta::train {

TensorDataset TensorDataset::slice(int64_t begin, int64_t end) const {
  return {images.slice(0, begin, end), targets.slice(0, begin, end)};
}

TensorDataset TensorDataset::index(const torch::Tensor& indices) const {
  return {images.index_select(0, indices), targets.index_select(0, indices)};
}

TensorDataset to_tensors(const data::ImageSet& images, const data::ImageSet* label_maps) {
  const auto n = static_cast<int64_t>(images.size());
  TensorDataset ds;
  ds.images = torch::from_blob(const_cast<uint8_t*>(images.pixels.data()),
                               {n, images.height, images.width, images.channels}, torch::kUInt8)
                  .clone();
  if (label_maps) {
    if (label_maps->size() != images.size() || label_maps->height != images.height ||
        label_maps->width != images.width || label_maps->channels != 1)
      throw std::invalid_argument("label maps do not match their images (count or size)");
    ds.targets = torch::from_blob(const_cast<uint8_t*>(label_maps->pixels.data()),
                                  {n, label_maps->height, label_maps->width}, torch::kUInt8)
                     .to(torch::kInt64);
  } else {
    ds.targets = torch::from_blob(const_cast<uint8_t*>(images.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
  }
  return ds;
}

torch::Tensor prepare_input(const torch::Tensor& images_u8, const model::InputSpec& spec, torch::Device device) {
  auto x = images_u8.to(device, /*non_blocking=*/false).permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0);
  const auto mean = torch::tensor(spec.mean, torch::kFloat32).to(device).view({1, 3, 1, 1});
  const auto std = torch::tensor(spec.std, torch::kFloat32).to(device).view({1, 3, 1, 1});
  return ((x - mean) / std).contiguous();
}

void measure_normalization(const torch::Tensor& images_u8, model::InputSpec& spec) {
  torch::NoGradGuard no_grad;
  const auto x = images_u8.to(torch::kFloat32).div(255.0).reshape({-1, images_u8.size(-1)});
  const auto mean = x.mean(0), std = x.std(0).clamp_min(1e-3);
  spec.mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
  spec.std.assign(std.data_ptr<float>(), std.data_ptr<float>() + std.numel());
}

}  // namespace ecotta::train
