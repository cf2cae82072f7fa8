#!/usr/bin/env bash
# Frozen against adapted on the same video, side by side: what test-time
# adaptation buys (scripts/demo does this with scores and a plot).
#
# Needs: a 640x480 video (e.g. `ecotta stream --duration 60`).
# Shows: left, the network as shipped (adapt=false); right, the same
#   network adapting with EcoTTA; each with its label and panel.
#
#   pipelines/side-by-side.sh /tmp/fog.avi
#   env: SINK (default autovideosink)
set -euo pipefail
source "$(dirname "$0")/common.sh"
input=${1:?usage: side-by-side.sh VIDEO}
model=$models/wrn-40-2-ecotta.ecotta
gst-launch-1.0 -e $(source_of "$input") ! videoconvert ! videoscale \
  ! video/x-raw,width=640,height=480 ! tee name=t \
  t. ! queue ! ecotta model="$model" adapt=false ! ecottaoverlay ! videoconvert ! comp.sink_0 \
  t. ! queue ! ecotta model="$model" method=ecotta ! ecottaoverlay ! videoconvert ! comp.sink_1 \
  compositor name=comp sink_1::xpos=640 ! videoconvert ! ${SINK:-autovideosink}
