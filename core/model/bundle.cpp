#include "bundle.h"

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "adaptive_batch_norm.h"
#include "data/atomic_file.h"
#include "data/data_error.h"
#include "data/zip_integrity.h"
#include "memory_format.h"
#include "segmenter.h"
#include "torchscript_model.h"
#include "wide_resnet.h"

namespace ecotta::model {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "ecotta-bundle";
constexpr int kVersion = 1;
constexpr const char* kInfoKey = "ecotta_bundle_info";

torch::Tensor bytes_to_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

std::string tensor_to_bytes(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

// Archive keys cannot hold dots; our tensor names never hold "__".
std::string archive_key(const std::string& prefix, std::string name) {
  std::string out;
  for (char ch : name) out += (ch == '.') ? std::string("__") : std::string(1, ch);
  return prefix + "__" + out;
}

void write_tensors(torch::serialize::OutputArchive& ar, const std::string& prefix, torch::nn::Module& module) {
  // Contiguous: a file's bytes do not depend on the layout the network runs in.
  for (const auto& p : module.named_parameters(true))
    ar.write(archive_key(prefix, p.key()), p.value().detach().contiguous(), true);
  for (const auto& b : module.named_buffers(true)) ar.write(archive_key(prefix, b.key()), b.value(), true);
}

// Reads every parameter and buffer of `module` from the archive, checking
// each one's presence and shape (the archive's own copy would broadcast).
void read_tensors(torch::serialize::InputArchive& ar, const std::string& prefix, torch::nn::Module& module,
                  const std::string& path) {
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor t;
    if (!ar.try_read(archive_key(prefix, name), t, true))
      throw BundleError("'" + path + "' lacks tensor '" + prefix + "." + name + "' that the described " + prefix +
                        " network needs");
    if (t.sizes() != target.sizes() || t.scalar_type() != target.scalar_type()) {
      std::ostringstream msg;
      msg << "'" << path << "': tensor '" << prefix << "." << name << "' has shape " << t.sizes() << " ("
          << t.scalar_type() << "), the network expects " << target.sizes() << " (" << target.scalar_type() << ")";
      throw BundleError(msg.str());
    }
    target.copy_(t);
  };
  for (auto& p : module.named_parameters(true)) load(p.key(), p.value());
  for (auto& b : module.named_buffers(true)) load(b.key(), b.value());
}

json info_to_json(const BundleInfo& info, bool has_meta, size_t robust_anchor_tensors) {
  return json{{"format", kFormat},
              {"version", kVersion},
              {"task", to_string(info.task)},
              {"arch", json::parse(info.arch_json)},
              {"labels", info.labels},
              {"input",
               {{"height", info.input.height},
                {"width", info.input.width},
                {"mean", info.input.mean},
                {"std", info.input.std},
                {"geometry", to_string(info.input.geometry)}}},
              {"normalization", to_string(info.normalization)},
              {"meta_networks", has_meta},
              {"robust_anchor", robust_anchor_tensors},
              {"provenance", json::parse(info.provenance_json)}};
}

}  // namespace

ModelPtr build_model(const std::string& arch_json, const std::string& torchscript_bytes) {
  const json arch = json::parse(arch_json);
  const std::string name = arch.at("name").get<std::string>();
  if (name == "wide_resnet") {
    WideResNetConfig c;
    c.depth = arch.value("depth", c.depth);
    c.widen = arch.value("widen", c.widen);
    c.classes = arch.value("classes", c.classes);
    c.split = arch.value("split", c.split);
    return std::make_shared<WideResNet>(c);
  }
  if (name == "segmenter") {
    SegmenterConfig c;
    c.width = arch.value("width", c.width);
    c.classes = arch.value("classes", c.classes);
    c.split = arch.value("split", c.split);
    return std::make_shared<Segmenter>(c);
  }
  if (name == "torchscript") {
    if (torchscript_bytes.empty()) throw std::invalid_argument("a torchscript model needs its module's bytes");
    return std::make_shared<TorchScriptModel>(load_torchscript_bytes(torchscript_bytes, "bundle"),
                                              parse_partition_spec(arch.at("spec").dump()));
  }
  throw std::invalid_argument("unknown architecture '" + name + "' (expected wide_resnet, segmenter or torchscript)");
}

void attach_meta_networks(Bundle& bundle) {
  const auto shapes = probe_part_shapes(*bundle.model, bundle.info.input.height, bundle.info.input.width);
  bundle.meta = MetaNetworks(shapes);
  if (bundle.torchscript_bytes.empty()) use_channels_last(*bundle.meta);
}

void repartition(Bundle& bundle, const std::vector<int64_t>& split) {
  auto arch = json::parse(bundle.info.arch_json);
  if (!bundle.torchscript_bytes.empty() || !arch.contains("split"))
    throw std::invalid_argument("this network's parts are fixed by its partition spec; re-import it to change them");
  arch["split"] = split;
  auto model = build_model(arch.dump());  // validates the split against the blocks
  torch::NoGradGuard no_grad;
  auto from = bundle.model->named_parameters();
  auto from_buffers = bundle.model->named_buffers();
  const auto source = [](auto& dict, const std::string& name) -> const torch::Tensor& {
    const auto* t = dict.find(name);
    if (!t) throw std::logic_error("repartition: the rebuilt network has a tensor '" + name + "' the old one lacks");
    return *t;
  };
  for (auto& p : model->named_parameters()) p.value().copy_(source(from, p.key()));
  for (auto& b : model->named_buffers()) b.value().copy_(source(from_buffers, b.key()));
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  use_channels_last(*model);
  // A head that reads several parts' outputs (the segmenter's decoder takes
  // early features) sees other tensors under another split: refused unless
  // the rebuilt network computes what the old one did.
  const auto mode = current_norm_mode(*bundle.model);
  bundle.model->apply_norm_mode(NormMode::Source);
  model->apply_norm_mode(NormMode::Source);
  const auto probe = torch::randn({2, 3, bundle.info.input.height, bundle.info.input.width});
  bool same = false;
  try {
    same = torch::allclose(model->forward(probe), bundle.model->forward(probe), 1e-5, 1e-5);
  } catch (const std::exception&) {
    same = false;
  }
  bundle.model->apply_norm_mode(mode);
  if (!same)
    throw std::invalid_argument("this network's head reads its parts' outputs, so another split changes the "
                                "network; only the bundle's own split fits it");
  model->apply_norm_mode(mode);
  bundle.info.arch_json = arch.dump();
  bundle.model = model;
  bundle.meta = nullptr;
  bundle.robust_anchor.clear();
}

void apply_meta_norm_mode(Bundle& bundle, NormMode mode) {
  const bool entering_robust = mode == NormMode::Robust && current_norm_mode(*bundle.model) != NormMode::Robust;
  bundle.model->apply_norm_mode(mode);
  if (entering_robust && !bundle.robust_anchor.empty()) set_robust_statistics(*bundle.model, bundle.robust_anchor);
  if (bundle.meta) set_norm_mode(*bundle.meta, mode);
}

std::string weights_fingerprint(const Bundle& bundle) {
  if (!bundle.fingerprint.empty()) return bundle.fingerprint;
  uLong crc = crc32(0L, Z_NULL, 0);
  int64_t count = 0;
  const auto add = [&](const torch::nn::Module& module) {
    for (const auto& p : module.parameters()) {
      // Contiguous on the CPU: the value, not the layout or device it runs in.
      const auto values = p.detach().to(torch::kCPU).contiguous();
      crc = crc32_z(crc, static_cast<const Bytef*>(values.data_ptr()), values.nbytes());
      count += values.numel();
    }
  };
  if (bundle.model) add(*bundle.model);
  if (bundle.meta) add(*bundle.meta);
  char text[40];
  std::snprintf(text, sizeof text, "%08lx-%lld", static_cast<unsigned long>(crc), static_cast<long long>(count));
  return text;
}

int64_t count_parameters(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

void save_bundle(const std::string& path, const Bundle& bundle) {
  torch::serialize::OutputArchive ar;
  const json info = info_to_json(bundle.info, static_cast<bool>(bundle.meta), bundle.robust_anchor.size());
  ar.write(kInfoKey, bytes_to_tensor(info.dump(2)), true);
  if (!bundle.torchscript_bytes.empty()) ar.write("torchscript", bytes_to_tensor(bundle.torchscript_bytes), true);
  else write_tensors(ar, "model", *bundle.model);
  if (bundle.meta) write_tensors(ar, "meta", *bundle.meta.ptr());
  for (size_t i = 0; i < bundle.robust_anchor.size(); ++i)
    ar.write("robust_anchor__" + std::to_string(i), bundle.robust_anchor[i].detach().to(torch::kCPU).contiguous(),
             true);
  std::ostringstream out;
  ar.save_to(out);
  const std::string bytes = out.str();
  try {
    data::write_file_atomically(path, bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    throw BundleError(e.what());
  }
}

Geometry default_geometry(Task task) { return task == Task::Segment ? Geometry::Squash : Geometry::Crop; }

Bundle load_bundle(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BundleError("cannot open model bundle '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  if (bytes.size() < 4 || bytes.compare(0, 4, "PK\x03\x04") != 0)
    throw BundleError("'" + path + "' is not an ecotta model bundle (not a zip archive)");

  try {
    ecotta::data::check_zip_integrity(bytes, path);
  } catch (const ecotta::data::DataError& e) {
    throw BundleError(e.what());
  }
  torch::serialize::InputArchive ar;
  try {
    std::istringstream is(bytes);
    ar.load_from(is);
  } catch (const c10::Error& e) {
    throw BundleError("'" + path + "' is damaged or truncated: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    // An archive's class definitions are TorchScript source: damaged, its
    // lexer and compiler throw their own errors (std::runtime_error,
    // torch::jit::ErrorReport), not c10::Error (found by fuzz_bundle).
    throw BundleError("'" + path + "' is damaged: " + e.what());
  }
  torch::Tensor info_tensor;
  if (!ar.try_read(kInfoKey, info_tensor, true))
    throw BundleError("'" + path + "' is a zip archive but not an ecotta model bundle (no bundle description)");

  Bundle bundle;
  json info;
  try {
    info = json::parse(tensor_to_bytes(info_tensor));
    if (info.at("format") != kFormat) throw BundleError("'" + path + "' is not an ecotta model bundle");
    if (info.at("version").get<int>() > kVersion)
      throw BundleError("'" + path + "' is bundle format version " + info.at("version").dump() +
                        "; this ecotta reads up to version " + std::to_string(kVersion));
    auto& bi = bundle.info;
    bi.task = parse_task(info.at("task").get<std::string>());
    bi.arch_json = info.at("arch").dump();
    bi.labels = info.at("labels").get<std::vector<std::string>>();
    const auto& inp = info.at("input");
    bi.input.height = inp.at("height").get<int64_t>();
    bi.input.width = inp.at("width").get<int64_t>();
    bi.input.mean = inp.at("mean").get<std::vector<float>>();
    bi.input.std = inp.at("std").get<std::vector<float>>();
    bi.input.geometry = inp.contains("geometry") ? parse_geometry(inp.at("geometry").get<std::string>())
                                                 : default_geometry(bi.task);
    bi.normalization = parse_norm_mode(info.at("normalization").get<std::string>());
    bi.provenance_json = info.value("provenance", json::object()).dump();
    if (bi.input.mean.size() != 3 || bi.input.std.size() != 3)
      throw BundleError("'" + path + "': input mean and std need 3 values each");
  } catch (const nlohmann::json::exception& e) {
    throw BundleError("'" + path + "' has a malformed bundle description: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw BundleError("'" + path + "': " + e.what());
  }

  try {
    torch::Tensor ts;
    if (ar.try_read("torchscript", ts, true)) bundle.torchscript_bytes = tensor_to_bytes(ts);
    bundle.model = build_model(bundle.info.arch_json, bundle.torchscript_bytes);
  } catch (const std::invalid_argument& e) {
    throw BundleError("'" + path + "': " + e.what());
  }
  if (bundle.torchscript_bytes.empty()) read_tensors(ar, "model", *bundle.model, path);
  freeze(*bundle.model);
  if (info.value("meta_networks", false)) {
    attach_meta_networks(bundle);
    read_tensors(ar, "meta", *bundle.meta, path);
  }
  size_t anchor_tensors = 0;
  try {
    anchor_tensors = info.value("robust_anchor", size_t{0});
  } catch (const nlohmann::json::exception& e) {
    throw BundleError("'" + path + "' has a malformed bundle description: " + e.what());
  }
  if (anchor_tensors > 0) {
    if (!bundle.meta) throw BundleError("'" + path + "' has a robust anchor but no meta networks it belongs to");
    for (size_t i = 0; i < anchor_tensors; ++i) {
      torch::Tensor t;
      if (!ar.try_read("robust_anchor__" + std::to_string(i), t, true))
        throw BundleError("'" + path + "' lacks robust anchor tensor " + std::to_string(i) + " of " +
                          std::to_string(anchor_tensors));
      bundle.robust_anchor.push_back(t);
    }
    try {
      check_robust_statistics(*bundle.model, bundle.robust_anchor);
    } catch (const std::invalid_argument& e) {
      throw BundleError("'" + path + "': its robust anchor does not fit the network: " + e.what());
    }
  }
  const auto classes = bundle.info.labels.size();
  if (classes < 2) throw BundleError("'" + path + "' names fewer than 2 labels");
  // Our own networks only: an imported module may view() its activations,
  // which needs the contiguous layout it was written for.
  // Before the layout changes: the file's tensors are contiguous, so no copies.
  bundle.fingerprint = weights_fingerprint(bundle);
  if (bundle.torchscript_bytes.empty()) use_channels_last(*bundle.model);  // the meta networks: attach_meta_networks
  return bundle;
}

}  // namespace ecotta::model
