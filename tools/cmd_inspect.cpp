#include <CLI/CLI.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "commands.h"
#include "data/atomic_file.h"
#include "model/bundle.h"

namespace ecotta::tools {
namespace {

struct InspectOptions {
  std::string model, json_out;
  int64_t batch = 64;
};

void run_inspect(const InspectOptions& o) {
  auto bundle = model::load_bundle(o.model);
  const bool warmed = static_cast<bool>(bundle.meta);
  if (!warmed) model::attach_meta_networks(bundle);  // for the counts: what warm-up would add
  const auto shapes = model::probe_part_shapes(*bundle.model, bundle.info.input.height, bundle.info.input.width);
  const int64_t frozen = model::count_parameters(*bundle.model);
  const int64_t meta = model::count_parameters(*bundle.meta);

  // Analytic bytes of one EcoTTA step (float32, batch B), counting what must
  // be stored when each frozen part is recomputed from its input during
  // backward: meta parameters, their gradients and SGD momentum; per part the
  // part input (the meta conv needs it), the meta conv output and its BN
  // output (ReLU mask) and the output-BN input; plus the largest frozen part's
  // transient activations are not counted here (they live one part at a time).
  int64_t act_elems = 0;
  nlohmann::json parts = nlohmann::json::array();
  const auto partition = bundle.model->partition();
  for (size_t k = 0; k < shapes.size(); ++k) {
    const auto& s = shapes[k];
    const int64_t w_in = bundle.info.input.width * s.in_height / bundle.info.input.height;
    const int64_t w_out = bundle.info.input.width * s.out_height / bundle.info.input.height;
    const int64_t in_elems = s.in_channels * s.in_height * w_in;
    const int64_t out_elems = s.out_channels * s.out_height * w_out;
    act_elems += in_elems + 3 * out_elems;
    parts.push_back({{"index", k},
                     {"blocks", partition.at(k)},
                     {"in_shape", {s.in_channels, s.in_height, w_in}},
                     {"out_shape", {s.out_channels, s.out_height, w_out}},
                     {"meta_params", model::count_parameters(bundle.meta->block(k))}});
  }
  const int64_t analytic = 4 * (3 * meta + o.batch * act_elems);

  nlohmann::json out;
  out["task"] = model::to_string(bundle.info.task);
  out["arch"] = nlohmann::json::parse(bundle.info.arch_json);
  out["parts"] = parts;
  out["frozen_params"] = frozen;
  out["meta_params"] = meta;
  out["meta_share"] = static_cast<double>(meta) / static_cast<double>(frozen);
  out["meta_networks_warmed_up"] = warmed;
  out["classes"] = bundle.info.labels.size();
  out["labels"] = bundle.info.labels;
  out["input"] = {{"height", bundle.info.input.height}, {"width", bundle.info.input.width},
                  {"mean", bundle.info.input.mean}, {"std", bundle.info.input.std}};
  out["normalization"] = model::to_string(bundle.info.normalization);
  out["analytic_adapt_bytes"] = analytic;
  out["analytic_batch"] = o.batch;
  out["provenance"] = nlohmann::json::parse(bundle.info.provenance_json);

  std::printf("%s: %s, %zu classes, input %lldx%lld\n", o.model.c_str(), out["task"].get<std::string>().c_str(),
              bundle.info.labels.size(), static_cast<long long>(bundle.info.input.height),
              static_cast<long long>(bundle.info.input.width));
  for (const auto& p : parts)
    std::printf("  part %d: %d blocks, %s -> %s, meta params %lld\n", p["index"].get<int>(), p["blocks"].get<int>(),
                p["in_shape"].dump().c_str(), p["out_shape"].dump().c_str(), p["meta_params"].get<long long>());
  std::printf("frozen params %lld, meta params %lld (%.1f%% of the network)%s\n", static_cast<long long>(frozen),
              static_cast<long long>(meta), 100.0 * meta / frozen, warmed ? "" : " [meta networks not warmed up yet]");
  std::printf("analytic EcoTTA adaptation memory at batch %lld: %.1f MiB\n", static_cast<long long>(o.batch),
              analytic / 1048576.0);
  if (!o.json_out.empty()) {
    const std::string text = out.dump(2) + "\n";
    data::write_file_atomically(o.json_out, text.data(), text.size());
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  static InspectOptions o;
  auto* cmd = app.add_subcommand("inspect", "Describe a bundle: parts, parameter counts, memory estimate");
  cmd->add_option("--model", o.model, "Bundle file")->required();
  cmd->add_option("--json", o.json_out, "Write the description as JSON here");
  cmd->add_option("--batch", o.batch, "Batch size of the memory estimate")->capture_default_str();
  cmd->callback([] { run_inspect(o); });
}

}  // namespace ecotta::tools
