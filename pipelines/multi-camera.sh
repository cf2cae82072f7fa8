#!/usr/bin/env bash
# Several cameras, one frozen network: every camera has its own ecotta
# (its own adapted state, sample buffer, checkpoint and log), all share one
# copy of the frozen weights and one adaptation thread under one memory cap
# (adaptation-group), and the video shows them as a mosaic.
#
# Needs: videos or camera URIs (rtsp://..., file paths), one per camera; with
#   none, four simulated cameras (test patterns in fog, night, snow, noise).
# Shows: each camera's frames with its label and panel, tiled 2 across.
#
#   pipelines/multi-camera.sh                       # four simulated cameras
#   pipelines/multi-camera.sh rtsp://cam1/stream rtsp://cam2/stream /data/dock.mp4
#   env: SINK (default autovideosink), GROUP (adaptation-group, default
#        cameras), MEMORY_CAP (bytes per adaptation step for the whole group,
#        default 0: none), STATE_DIR (a checkpoint per camera there, restored
#        at the next start), LOG_DIR (an ecottametalog JSON-lines file per
#        camera there)
set -euo pipefail
source "$(dirname "$0")/common.sh"
model=$models/wrn-40-2-ecotta.ecotta
simulated=("clean:5,fog@1-5:20" "clean:5,night@4:20" "clean:5,snow@5:20" "clean:5,shot_noise@4:20")
count=$#
(( count > 0 )) || count=${#simulated[@]}
[[ -n ${STATE_DIR:-} ]] && mkdir -p "$STATE_DIR"
[[ -n ${LOG_DIR:-} ]] && mkdir -p "$LOG_DIR"
branches="" pads=""
for ((i = 0; i < count; i++)); do
  if (( $# > 0 )); then
    arg=$((i + 1))
    source="$(source_of "${!arg}") ! videoconvert ! videoscale ! video/x-raw,width=640,height=480"
  else
    source="videotestsrc is-live=true pattern=$((i * 6)) ! video/x-raw,format=RGB,width=640,height=480
      ! ecottacorrupt schedule=${simulated[i]} seed=$i"
  fi
  camera="ecotta name=cam$i model=$model adaptation-group=${GROUP:-cameras} memory-cap=${MEMORY_CAP:-0}"
  [[ -n ${STATE_DIR:-} ]] && camera+=" checkpoint-location=$STATE_DIR/cam$i.ckpt"
  log=""
  [[ -n ${LOG_DIR:-} ]] && log="! ecottametalog location=$LOG_DIR/cam$i.jsonl"
  branches+=" $source ! queue ! $camera $log ! videoconvert ! ecottaoverlay ! videoconvert ! videoscale
    ! video/x-raw,width=320,height=240 ! comp.sink_$i"
  pads+=" sink_$i::xpos=$(( (i % 2) * 320 )) sink_$i::ypos=$(( (i / 2) * 240 ))"
done
# shellcheck disable=SC2086  # the pipeline description is split into words on purpose
gst-launch-1.0 -e compositor name=comp ${pads} ! videoconvert ! ${SINK:-autovideosink} ${branches}
