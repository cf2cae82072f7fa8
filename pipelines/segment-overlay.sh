#!/usr/bin/env bash
# Segment a video and draw the class map over it with a legend.
#
# Needs: a video (`ecotta stream --task segment` makes one:
#   build/tools/ecotta stream --task segment --duration 20 --out /tmp/scenes.avi --truth /tmp/scenes.jsonl)
# Shows: every pixel's class blended in a palette (alpha 0.45), the legend
#   of the classes present, and the adaptation panel; the segmenter adapts
#   (EcoTTA) as the video plays.
#
#   pipelines/segment-overlay.sh /tmp/scenes.avi
#   env: SINK (default autovideosink)
set -euo pipefail
source "$(dirname "$0")/common.sh"
input=${1:?usage: segment-overlay.sh VIDEO}
gst-launch-1.0 -e $(source_of "$input") ! videoconvert \
  ! ecotta model="$models/segmenter-ecotta.ecotta" \
  ! ecottaoverlay alpha=0.45 ! videoconvert ! ${SINK:-autovideosink}
