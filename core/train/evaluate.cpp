#include "evaluate.h"

#include <cmath>

#include <torch/torch.h>

namespace ecotta::train {

double accuracy(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec,
                torch::Device device, int64_t batch) {
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t i = 0; i < data.size(); i += batch) {
    const auto b = data.slice(i, std::min(data.size(), i + batch));
    const auto pred = forward(prepare_input(b.images, spec, device)).argmax(1).cpu();
    correct += pred.eq(b.targets).sum().item<int64_t>();
  }
  return data.size() ? static_cast<double>(correct) / static_cast<double>(data.size()) : 0.0;
}

double mean_iou_from_confusion(const torch::Tensor& confusion) {
  double sum = 0;
  int present = 0;
  for (const double iou : class_ious_from_confusion(confusion))
    if (!std::isnan(iou)) {
      sum += iou;
      ++present;
    }
  return present ? sum / present : 0.0;
}

std::vector<double> class_ious_from_confusion(const torch::Tensor& confusion) {
  const auto c = confusion.to(torch::kFloat64);
  const auto tp = c.diag();
  const auto uni = c.sum(0) + c.sum(1) - tp;
  const auto iou = torch::where(uni > 0, tp / uni.clamp_min(1), torch::full_like(tp, std::nan("")));
  return std::vector<double>(iou.data_ptr<double>(), iou.data_ptr<double>() + iou.numel());
}

torch::Tensor segmentation_confusion(const ForwardFn& forward, const TensorDataset& data,
                                     const model::InputSpec& spec, int64_t classes, torch::Device device,
                                     int64_t batch) {
  torch::NoGradGuard no_grad;
  auto confusion = torch::zeros({classes * classes}, torch::kInt64);
  for (int64_t i = 0; i < data.size(); i += batch) {
    const auto b = data.slice(i, std::min(data.size(), i + batch));
    const auto pred = forward(prepare_input(b.images, spec, device)).argmax(1).cpu().flatten();
    const auto truth = b.targets.flatten();
    confusion += torch::bincount(truth * classes + pred, {}, classes * classes);
  }
  return confusion.view({classes, classes});
}

double mean_iou(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec, int64_t classes,
                torch::Device device, int64_t batch) {
  return mean_iou_from_confusion(segmentation_confusion(forward, data, spec, classes, device, batch));
}

}  // namespace ecotta::train
