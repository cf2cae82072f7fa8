// The elements the plugin registers (plugin.cpp); each defined in its own file.
#pragma once
#include <gst/gst.h>

G_BEGIN_DECLS
GST_ELEMENT_REGISTER_DECLARE(ecotta);
GST_ELEMENT_REGISTER_DECLARE(ecottaoverlay);
GST_ELEMENT_REGISTER_DECLARE(ecottacorrupt);
GST_ELEMENT_REGISTER_DECLARE(ecottametalog);
G_END_DECLS
