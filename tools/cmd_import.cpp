#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "model/bundle.h"
#include "model/torchscript_model.h"
#include "task_data.h"

namespace ecotta::tools {
namespace {

struct ImportOptions {
  std::string torchscript, partition, out, labels_csv;
  int64_t height = 32, width = 32;
  std::vector<float> mean = {0.f, 0.f, 0.f}, std = {1.f, 1.f, 1.f};
  std::string norm = "batch";
  std::string geometry;  // empty: the task's default
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot open '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run_import(const ImportOptions& o) {
  model::Bundle bundle;
  bundle.torchscript_bytes = read_all(o.torchscript);
  const auto spec = model::parse_partition_spec(read_all(o.partition));
  bundle.info.task = spec.task;
  bundle.info.arch_json = nlohmann::json{{"name", "torchscript"}, {"spec", nlohmann::json::parse(model::to_json(spec))}}.dump();
  bundle.info.input.height = o.height;
  bundle.info.input.width = o.width;
  bundle.info.input.mean = o.mean;
  bundle.info.input.std = o.std;
  bundle.info.input.geometry = o.geometry.empty() ? model::default_geometry(spec.task) : model::parse_geometry(o.geometry);
  bundle.info.normalization = model::parse_norm_mode(o.norm);
  std::stringstream labels(o.labels_csv);
  for (std::string l; std::getline(labels, l, ',');) bundle.info.labels.push_back(l);
  bundle.model = model::build_model(bundle.info.arch_json, bundle.torchscript_bytes);
  bundle.model->apply_norm_mode(bundle.info.normalization);  // refuses modes the module cannot do

  // The labels must match the network's output width.
  bundle.model->apply_norm_mode(model::NormMode::Source);
  torch::NoGradGuard no_grad;
  const auto y = bundle.model->forward(torch::zeros({1, 3, o.height, o.width}));
  if (y.size(1) != static_cast<int64_t>(bundle.info.labels.size()))
    throw std::invalid_argument("the module outputs " + std::to_string(y.size(1)) + " classes but --labels names " +
                                std::to_string(bundle.info.labels.size()));
  model::freeze(*bundle.model);
  bundle.info.provenance_json = nlohmann::json{{"command", remembered_command_line()}, {"imported_from", o.torchscript}}.dump();
  model::save_bundle(o.out, bundle);
  std::printf("wrote %s: %zu parts, %zu classes (no meta networks yet: run `ecotta warmup`)\n", o.out.c_str(),
              spec.parts.size(), bundle.info.labels.size());
}

}  // namespace

void add_import_command(CLI::App& app) {
  static ImportOptions o;
  auto* cmd = app.add_subcommand("import", "Make a bundle from a TorchScript module (torch.jit.script) and a partition spec");
  cmd->add_option("--torchscript", o.torchscript, "TorchScript file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--partition", o.partition, "Partition spec JSON: {task, stem, parts, head}")->required()->check(CLI::ExistingFile);
  cmd->add_option("--labels", o.labels_csv, "Class names, comma-separated, in output order")->required();
  cmd->add_option("--out", o.out, "Bundle to write")->required();
  cmd->add_option("--height", o.height, "Input height")->capture_default_str();
  cmd->add_option("--width", o.width, "Input width")->capture_default_str();
  cmd->add_option("--mean", o.mean, "Per-channel mean of [0,1] RGB input")->expected(3);
  cmd->add_option("--std", o.std, "Per-channel std")->expected(3);
  cmd->add_option("--norm", o.norm, "Test-time BN mode: batch or source")->capture_default_str();
  cmd->add_option("--geometry", o.geometry,
                  "How video frames become the input: crop, squash or letterbox (default: crop for classifiers, "
                  "squash for segmenters)");
  cmd->callback([] { run_import(o); });
}

}  // namespace ecotta::tools
