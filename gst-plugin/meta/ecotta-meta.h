/* ecotta-meta.h: the metadata the `ecotta` element attaches to every frame.
 *
 * Applications read it from a pad probe or an appsink:
 *
 *   const EcottaMeta *m = ecotta_buffer_get_meta (buffer);
 *   if (m) g_print ("%s %.2f\n", m->label, m->confidence);
 *
 * Build with `pkg-config --cflags --libs ecotta-meta`. The element also
 * attaches a full-frame GstVideoRegionOfInterestMeta (type "ecotta") whose
 * "ecotta" param structure carries label, label_id and confidence, for
 * applications that do not use this header.
 *
 * Every pointer field is owned by the meta and freed with the buffer; a
 * buffer copy deep-copies it. Fields are read-only for applications. */
#ifndef ECOTTA_META_H
#define ECOTTA_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define ECOTTA_META_API_TYPE (ecotta_meta_api_get_type ())
#define ECOTTA_META_INFO (ecotta_meta_get_info ())
#define ECOTTA_META_MAX_TOP 5

typedef enum {
  ECOTTA_TASK_CLASSIFY = 0,
  ECOTTA_TASK_SEGMENT = 1,
} EcottaTask;

typedef struct {
  gint class_id;
  gfloat score; /* softmax probability */
} EcottaClassScore;

typedef struct {
  GstMeta meta;

  EcottaTask task;
  guint64 frame;      /* the frame's index in the stream, from 0 */

  /* The predicted class. For segmentation: the class covering most pixels
   * and its pixel share. */
  gint class_id;
  gchar *label;
  gfloat confidence;
  guint n_top;        /* classification: the best n_top classes, best first */
  EcottaClassScore top[ECOTTA_META_MAX_TOP];
  gboolean reused;    /* copied from an earlier frame (inference-interval) */
  gfloat entropy;     /* the prediction's entropy / ln(classes), 0..1 */

  /* Every class: n_classes names (NULL-terminated) and, for segmentation,
   * each class's share of the pixels. */
  guint n_classes;
  gchar **labels;
  gfloat *class_share; /* NULL for classification */

  /* Segmentation: the class of every pixel at model resolution, row-major,
   * map_width x map_height bytes; NULL for classification. */
  guint map_width;
  guint map_height;
  guint8 *class_map;

  /* Where the model's input lies in the frame, in frame pixels: the model
   * saw this rectangle scaled to its input size (the bundle's geometry:
   * the whole frame when squashed, a centered part when cropped, a
   * rectangle reaching past the frame when letterboxed). Draw the class
   * map onto it. */
  gint view_x;
  gint view_y;
  gint view_width;
  gint view_height;

  /* The adaptation state that produced this result. */
  gchar *method;           /* "ecotta", "tent", ... "source" */
  gboolean adapting;       /* adaptation was on for this frame */
  guint64 adapt_steps;     /* adaptation steps taken when the snapshot was published */
  guint64 snapshot;        /* version of the adapted-state snapshot used, 0 = as loaded */
  gfloat mean_entropy;     /* running mean of `entropy` over recent frames */
  gint64 peak_adapt_bytes; /* peak bytes of one adaptation step so far */
  gint64 memory_cap;       /* bytes, 0 = no cap */

  /* Which camera: the ecotta element's name, and its adaptation-group
   * (NULL when it adapts on its own). */
  gchar *camera;
  gchar *adaptation_group;
} EcottaMeta;

GType ecotta_meta_api_get_type (void);
const GstMetaInfo *ecotta_meta_get_info (void);

/* A new, zeroed meta on `buffer` (writable). */
EcottaMeta *ecotta_buffer_add_meta (GstBuffer *buffer);
/* The meta on `buffer`, or NULL. */
EcottaMeta *ecotta_buffer_get_meta (GstBuffer *buffer);

/* Setters copy their arguments; they replace what was there. */
void ecotta_meta_set_label (EcottaMeta *meta, const gchar *label);
void ecotta_meta_set_method (EcottaMeta *meta, const gchar *method);
void ecotta_meta_set_camera (EcottaMeta *meta, const gchar *camera, const gchar *adaptation_group);
void ecotta_meta_set_labels (EcottaMeta *meta, guint n_classes, const gchar *const *labels);
/* `share`: n_classes values (the count given to set_labels). */
void ecotta_meta_set_class_share (EcottaMeta *meta, const gfloat *share);
void ecotta_meta_set_class_map (EcottaMeta *meta, guint width, guint height, const guint8 *map);

/* The label of class `id`, or NULL when out of range. */
const gchar *ecotta_meta_class_label (const EcottaMeta *meta, gint id);

G_END_DECLS

#endif /* ECOTTA_META_H */
