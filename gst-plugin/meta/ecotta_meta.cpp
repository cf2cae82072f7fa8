// EcottaMeta: registration, init/free/transform and the setters.
#include "ecotta-meta.h"

#include <cstring>

namespace {

gboolean meta_init(GstMeta* meta, gpointer, GstBuffer*) {
  auto* m = reinterpret_cast<EcottaMeta*>(meta);
  // GstMeta's header is set by the core; everything after it starts zeroed.
  std::memset(reinterpret_cast<char*>(m) + sizeof(GstMeta), 0, sizeof(EcottaMeta) - sizeof(GstMeta));
  m->class_id = -1;
  return TRUE;
}

void meta_free(GstMeta* meta, GstBuffer*) {
  auto* m = reinterpret_cast<EcottaMeta*>(meta);
  g_free(m->label);
  g_free(m->method);
  g_free(m->camera);
  g_free(m->adaptation_group);
  g_strfreev(m->labels);
  g_free(m->class_share);
  g_free(m->class_map);
}

void copy_into(EcottaMeta* to, const EcottaMeta* from) {
  to->task = from->task;
  to->frame = from->frame;
  to->class_id = from->class_id;
  ecotta_meta_set_label(to, from->label);
  to->confidence = from->confidence;
  to->n_top = from->n_top;
  std::memcpy(to->top, from->top, sizeof(from->top));
  to->reused = from->reused;
  to->entropy = from->entropy;
  ecotta_meta_set_labels(to, from->n_classes, from->labels);
  if (from->class_share) ecotta_meta_set_class_share(to, from->class_share);
  if (from->class_map) ecotta_meta_set_class_map(to, from->map_width, from->map_height, from->class_map);
  to->view_x = from->view_x;
  to->view_y = from->view_y;
  to->view_width = from->view_width;
  to->view_height = from->view_height;
  ecotta_meta_set_method(to, from->method);
  to->adapting = from->adapting;
  to->adapt_steps = from->adapt_steps;
  to->snapshot = from->snapshot;
  to->mean_entropy = from->mean_entropy;
  to->peak_adapt_bytes = from->peak_adapt_bytes;
  to->memory_cap = from->memory_cap;
  ecotta_meta_set_camera(to, from->camera, from->adaptation_group);
}

// The result describes the whole picture at model resolution, so it stays
// true through copies, scaling and conversion: every transform keeps it.
gboolean meta_transform(GstBuffer* dest, GstMeta* meta, GstBuffer*, GQuark, gpointer) {
  auto* to = ecotta_buffer_add_meta(dest);
  if (!to) return FALSE;
  copy_into(to, reinterpret_cast<const EcottaMeta*>(meta));
  return TRUE;
}

}  // namespace

extern "C" {

GType ecotta_meta_api_get_type(void) {
  static GType type = 0;
  static const gchar* tags[] = {nullptr};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("EcottaMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

const GstMetaInfo* ecotta_meta_get_info(void) {
  static const GstMetaInfo* info = nullptr;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo* i = gst_meta_register(ECOTTA_META_API_TYPE, "EcottaMeta", sizeof(EcottaMeta), meta_init,
                                             meta_free, meta_transform);
    g_once_init_leave(&info, i);
  }
  return info;
}

EcottaMeta* ecotta_buffer_add_meta(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), nullptr);
  return reinterpret_cast<EcottaMeta*>(gst_buffer_add_meta(buffer, ECOTTA_META_INFO, nullptr));
}

EcottaMeta* ecotta_buffer_get_meta(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), nullptr);
  return reinterpret_cast<EcottaMeta*>(gst_buffer_get_meta(buffer, ECOTTA_META_API_TYPE));
}

void ecotta_meta_set_label(EcottaMeta* meta, const gchar* label) {
  g_free(meta->label);
  meta->label = g_strdup(label);
}

void ecotta_meta_set_camera(EcottaMeta* meta, const gchar* camera, const gchar* adaptation_group) {
  g_free(meta->camera);
  g_free(meta->adaptation_group);
  meta->camera = g_strdup(camera);
  meta->adaptation_group = g_strdup(adaptation_group);
}

void ecotta_meta_set_method(EcottaMeta* meta, const gchar* method) {
  g_free(meta->method);
  meta->method = g_strdup(method);
}

void ecotta_meta_set_labels(EcottaMeta* meta, guint n_classes, const gchar* const* labels) {
  g_strfreev(meta->labels);
  meta->labels = nullptr;
  // Shares belong to the old class count.
  g_free(meta->class_share);
  meta->class_share = nullptr;
  meta->n_classes = n_classes;
  if (!labels) return;
  meta->labels = g_new0(gchar*, n_classes + 1);
  for (guint i = 0; i < n_classes; ++i) meta->labels[i] = g_strdup(labels[i]);
}

void ecotta_meta_set_class_share(EcottaMeta* meta, const gfloat* share) {
  g_free(meta->class_share);
  meta->class_share = share && meta->n_classes ? static_cast<gfloat*>(g_memdup2(share, meta->n_classes * sizeof(gfloat)))
                                               : nullptr;
}

void ecotta_meta_set_class_map(EcottaMeta* meta, guint width, guint height, const guint8* map) {
  g_free(meta->class_map);
  meta->class_map = map ? static_cast<guint8*>(g_memdup2(map, static_cast<gsize>(width) * height)) : nullptr;
  meta->map_width = map ? width : 0;
  meta->map_height = map ? height : 0;
}

const gchar* ecotta_meta_class_label(const EcottaMeta* meta, gint id) {
  if (!meta->labels || id < 0 || static_cast<guint>(id) >= meta->n_classes) return nullptr;
  return meta->labels[id];
}

}  // extern "C"
