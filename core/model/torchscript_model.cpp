#include "torchscript_model.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/data_error.h"
#include "data/zip_integrity.h"

namespace ecotta::model {

PartitionSpec parse_partition_spec(const std::string& json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("partition spec is not valid JSON: ") + e.what());
  }
  PartitionSpec spec;
  try {
    spec.task = parse_task(j.value("task", std::string("classify")));
    spec.stem = j.at("stem").get<std::vector<std::string>>();
    spec.parts = j.at("parts").get<std::vector<std::vector<std::string>>>();
    spec.head = j.at("head").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("partition spec needs \"stem\", \"parts\" (a list of lists) and \"head\": ") +
                                e.what());
  }
  if (spec.parts.empty()) throw std::invalid_argument("partition spec has no parts");
  for (const auto& p : spec.parts)
    if (p.empty()) throw std::invalid_argument("partition spec has an empty part");
  return spec;
}

std::string to_json(const PartitionSpec& spec) {
  return nlohmann::json{{"task", to_string(spec.task)}, {"stem", spec.stem}, {"parts", spec.parts}, {"head", spec.head}}
      .dump();
}

TorchScriptModel::TorchScriptModel(torch::jit::Module module, PartitionSpec spec)
    : module_(std::move(module)), spec_(std::move(spec)) {
  auto check = [&](const std::string& name) {
    if (name == "flatten") return;
    child(name);
  };
  for (const auto& n : spec_.stem) check(n);
  for (const auto& p : spec_.parts)
    for (const auto& n : p) check(n);
  for (const auto& n : spec_.head) check(n);

  auto reg_name = [this](std::string name) {
    std::replace(name.begin(), name.end(), '.', '_');
    if (named_parameters(false).contains(name) || named_buffers(false).contains(name))
      throw std::invalid_argument("TorchScript module has two tensors named like '" + name + "'");
    return name;
  };
  for (const auto& p : module_.named_parameters(true)) register_parameter(reg_name(p.name), p.value);
  for (const auto& b : module_.named_buffers(true)) register_buffer(reg_name(b.name), b.value);
}

torch::jit::Module TorchScriptModel::child(const std::string& dotted) {
  torch::jit::Module m = module_;
  std::stringstream ss(dotted);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!m.hasattr(part) || !m.attr(part).isModule())
      throw std::invalid_argument("the TorchScript module has no child module '" + dotted + "'");
    m = m.attr(part).toModule();
  }
  return m;
}

torch::Tensor TorchScriptModel::run(const std::vector<std::string>& names, torch::Tensor x) {
  for (const auto& n : names) {
    if (n == "flatten")
      x = x.flatten(1);
    else
      x = child(n).forward({x}).toTensor();
  }
  return x;
}

torch::Tensor TorchScriptModel::stem(const torch::Tensor& x) { return run(spec_.stem, x); }
torch::Tensor TorchScriptModel::part(size_t k, const torch::Tensor& x) { return run(spec_.parts.at(k), x); }
torch::Tensor TorchScriptModel::block(size_t k, size_t j, const torch::Tensor& x) {
  return run({spec_.parts.at(k).at(j)}, x);
}

torch::Tensor TorchScriptModel::head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) {
  auto out = run(spec_.head, parts.back());
  if (spec_.task == Task::Segment && out.dim() == 4 && (out.size(2) != input.size(2) || out.size(3) != input.size(3)))
    out = torch::nn::functional::interpolate(out, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{input.size(2), input.size(3)})
                                                      .mode(torch::kBilinear)
                                                      .align_corners(false));
  return out;
}

std::vector<int64_t> TorchScriptModel::partition() const {
  std::vector<int64_t> counts;
  for (const auto& p : spec_.parts) counts.push_back(static_cast<int64_t>(p.size()));
  return counts;
}

void TorchScriptModel::apply_norm_mode(NormMode mode) {
  switch (mode) {
    case NormMode::Source: module_.eval(); break;
    case NormMode::Train:
    case NormMode::Batch: module_.train(); break;
    case NormMode::Robust:
      throw std::invalid_argument(
          "imported TorchScript models support the 'source' and 'batch' normalization modes, not 'robust'");
  }
}

namespace {

// A traced module's BatchNorm graphs carry a constant train/eval flag instead
// of reading self.training.
void refuse_traced(torch::jit::Module& module, const std::string& origin) {
  for (const auto& sub : module.named_modules()) {
    const auto type = sub.value.type()->name();
    if (!type || type->name().find("BatchNorm") == std::string::npos) continue;
    const auto method = sub.value.find_method("forward");
    if (!method) continue;
    std::stringstream graph;
    graph << *method->graph();
    if (graph.str().find("name=\"training\"") == std::string::npos)
      throw std::invalid_argument("'" + origin +
                                  "' looks like a traced module (its BatchNorm '" + sub.name +
                                  "' has a fixed train/eval mode); export it with torch.jit.script instead");
  }
}

}  // namespace

torch::jit::Module load_torchscript_bytes(const std::string& bytes, const std::string& origin) {
  torch::jit::Module m;
  try {
    ecotta::data::check_zip_integrity(bytes, origin);
  } catch (const ecotta::data::DataError& e) {
    throw std::invalid_argument(std::string("cannot load TorchScript: ") + e.what());
  }
  try {
    std::istringstream in(bytes);
    m = torch::jit::load(in);
  } catch (const c10::Error& e) {
    throw std::invalid_argument("cannot load TorchScript from '" + origin + "': " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // The TorchScript compiler's own errors (torch::jit::ErrorReport, e.g. an
    // unknown type in damaged code) are not c10::Errors (found by fuzz_bundle).
    throw std::invalid_argument("cannot load TorchScript from '" + origin + "': " + e.what());
  }
  refuse_traced(m, origin);
  return m;
}

torch::jit::Module load_torchscript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot open TorchScript file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return load_torchscript_bytes(ss.str(), path);
}

}  // namespace ecotta::model
