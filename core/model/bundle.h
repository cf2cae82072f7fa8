#pragma once
#include <memory>
#include <string>
#include <vector>

#include "input_geometry.h"
#include "meta_network.h"
#include "norm_mode.h"
#include "partitioned_model.h"

namespace ecotta::model {

// What the network expects: 8-bit RGB at height x width, scaled to [0,1]
// and normalized per channel with mean and std; `geometry` says how a video
// frame of another shape becomes that input.
struct InputSpec {
  int64_t height = 32;
  int64_t width = 32;
  std::vector<float> mean = {0.f, 0.f, 0.f};
  std::vector<float> std = {1.f, 1.f, 1.f};
  Geometry geometry = Geometry::Crop;
};

// A bundle that does not state its geometry gets its task's: a classifier
// sees the centered item it was trained on (crop), a segmenter labels the
// whole frame (squash).
Geometry default_geometry(Task task);

// Describes a bundle; saved as JSON inside it (docs/model-bundle.md).
struct BundleInfo {
  Task task = Task::Classify;
  std::string arch_json;            // {"name": "wide_resnet"|"segmenter"|"torchscript", ...its options}
  std::vector<std::string> labels;  // class names, in output order
  InputSpec input;
  NormMode normalization = NormMode::Batch;  // test-time BN mode the meta networks were warmed up for
  std::string provenance_json = "{}";        // how it was made: command, seed, data, epochs, figures
};

// One model file: the frozen network, its partition, its meta networks (if
// warmed up), labels, input geometry and normalization, task.
struct Bundle {
  BundleInfo info;
  ModelPtr model;
  MetaNetworks meta{nullptr};         // null before warm-up
  std::string torchscript_bytes;      // the imported module, for arch "torchscript"
  // Where robust BN starts when the network runs with these meta networks:
  // the frozen network's statistics measured through them at the end of a
  // robust warm-up (copy_robust_statistics order). The meta networks change
  // what the frozen layers after them see, so the network's own source
  // statistics no longer fit those layers. Empty: robust mode starts at the
  // source statistics.
  std::vector<torch::Tensor> robust_anchor;
  // weights_fingerprint() of the file's weights, set by load_bundle while
  // they are still in the file's layout (no copies); empty for a bundle
  // made in memory.
  std::string fingerprint;
};

// Puts the frozen network and the meta networks in `mode` to run together.
// A frozen network entering Robust starts at the bundle's robust anchor when
// it has one (set_norm_mode alone would start it at the source statistics).
void apply_meta_norm_mode(Bundle& bundle, NormMode mode);

// Builds an untrained network from an arch description ({"name":
// "wide_resnet", "depth", "widen", "classes", "split"} or {"name":
// "segmenter", "width", "classes", "split"}), or from TorchScript bytes and
// a partition spec ({"name": "torchscript", "spec": {...}}).
ModelPtr build_model(const std::string& arch_json, const std::string& torchscript_bytes = "");

// Attaches freshly initialised meta networks to the bundle's model
// (channels-last, as load_bundle leaves our own networks: memory_format.h).
void attach_meta_networks(Bundle& bundle);

// The same network split into other parts (`split`: blocks per part, as the
// arch's "split"): the model is rebuilt with the frozen weights copied by
// name, and the meta networks and robust anchor, which belong to the old
// parts, are dropped (warm up new ones). Our own architectures whose head
// reads the last part alone (WRN); an imported module's parts come from its
// spec, and the segmenter's decoder reads early parts (std::invalid_argument).
void repartition(Bundle& bundle, const std::vector<int64_t>& split);

// Writes atomically (temp file + rename). Throws std::runtime_error naming the path.
void save_bundle(const std::string& path, const Bundle& bundle);

// Loads and validates: a missing, truncated or foreign file, or tensors whose
// shapes do not match the described network, throw BundleError naming the
// path and what is wrong. The network comes back frozen (requires_grad false);
// our own networks (not imported TorchScript) with channels-last convolution
// weights (memory_format.h), the values being the file's.
Bundle load_bundle(const std::string& path);

class BundleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parameter counts for descriptions.
int64_t count_parameters(torch::nn::Module& module);

// Identifies the bundle's weights (frozen network and meta networks, as
// loaded): a CRC-32 of their values in NCHW order and their count, e.g.
// "1c2f9a0e-2243546". Adapted-state files carry it, so that a state saved
// for one model is never restored into another of the same shapes. Returns
// bundle.fingerprint when load_bundle set it.
std::string weights_fingerprint(const Bundle& bundle);

}  // namespace ecotta::model
