# Shared by the recipes: run from anywhere, find the plugin and models of
# this checkout. Each recipe reads its inputs from environment variables
# (SOURCE, SINK, ...) so the tests can swap a camera or a screen for a file
# and fakesink; the defaults are what a user at a desk would run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GST_PLUGIN_PATH=$root/build/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}
models=$root/models
[[ -f $root/build/gst-plugin/libgstecotta.so ]] ||
  { echo "${0##*/}: build the plugin first (scripts/test, or meson compile -C build)" >&2; exit 1; }
# A file or URI as a decoded video source.
source_of() {
  if [[ $1 == *://* ]]; then echo "uridecodebin uri=$1"; else echo "uridecodebin uri=file://$(realpath "$1")"; fi
}
