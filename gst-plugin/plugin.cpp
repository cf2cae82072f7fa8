// Registers the plugin's elements; nothing else lives here.
#include <gst/gst.h>

#include "elements.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(ecotta, plugin);
  ok |= GST_ELEMENT_REGISTER(ecottaoverlay, plugin);
  ok |= GST_ELEMENT_REGISTER(ecottacorrupt, plugin);
  ok |= GST_ELEMENT_REGISTER(ecottametalog, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, ecotta,
                  "Classify or segment video with a LibTorch network that adapts to the scene while it runs (EcoTTA)",
                  plugin_init, VERSION, "LGPL", "ecotta", "the ecotta project")
