#!/usr/bin/env bash
# Classify a video file, adapting while it plays; watch it with the overlay
# and keep an annotated copy.
#
# Needs: a video file (any format GStreamer decodes; `ecotta stream` makes
#   one: build/tools/ecotta stream --duration 20 --out /tmp/fog.avi --truth /tmp/fog.jsonl)
# Shows: the label, its confidence and top-3 bars, and the adaptation panel
#   (method, steps, entropy trend, memory) on screen; the same frames go to
#   OUTPUT (Motion-JPEG in Matroska).
#
#   pipelines/classify-file.sh /tmp/fog.avi [OUTPUT.mkv]
#   env: SINK (default autovideosink)
set -euo pipefail
source "$(dirname "$0")/common.sh"
input=${1:?usage: classify-file.sh VIDEO [OUTPUT.mkv]}
output=${2:-classified.mkv}
gst-launch-1.0 -e $(source_of "$input") ! videoconvert \
  ! ecotta model="$models/wrn-40-2-ecotta.ecotta" \
  ! ecottaoverlay ! videoconvert ! tee name=t \
  t. ! queue ! ${SINK:-autovideosink} \
  t. ! queue ! jpegenc ! matroskamux ! filesink location="$output"
