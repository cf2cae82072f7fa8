#!/usr/bin/env bash
# Any source becomes a shifting test stream: simulated fog rising to
# severity 5, then night, then snow, repeated; the classifier adapts to it.
#
# Needs: nothing (videotestsrc), or SOURCE set to any decoded video source,
#   e.g. SOURCE="v4l2src device=/dev/video0" for a webcam.
# Shows: the corrupted frames with the classifier's label and panel.
#
#   pipelines/weather.sh
#   env: SOURCE (default videotestsrc), SINK (default autovideosink)
set -euo pipefail
source "$(dirname "$0")/common.sh"
gst-launch-1.0 -e ${SOURCE:-videotestsrc is-live=true} ! videoconvert ! videoscale \
  ! video/x-raw,format=RGB,width=640,height=480 \
  ! ecottacorrupt schedule="clean:5,fog@1-5:10,night@4:5,snow@5:5" seed=1 \
  ! ecotta model="$models/wrn-40-2-ecotta.ecotta" \
  ! videoconvert ! ecottaoverlay ! videoconvert ! ${SINK:-autovideosink}
