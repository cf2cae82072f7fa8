#!/usr/bin/env bash
# An RTSP camera, classified and adapted around the clock: one JSON object
# per frame to an MQTT broker, the adapted state saved every minute and
# restored on restart (so adaptation survives a reboot).
#
# Needs: an RTSP camera (CAMERA=rtsp://host:554/stream; H.264, JPEG or any
#   payload decodebin handles) and an MQTT broker (MQTT=host:port; Debian's
#   mosquitto on this machine works). Watch the results with
#   pipelines/mqtt-subscriber.sh.
# Shows: nothing on screen; results on topic TOPIC, checkpoints in
#   CHECKPOINT.
#
#   CAMERA=rtsp://192.168.1.20:554/stream MQTT=localhost:1883 pipelines/rtsp-camera-mqtt.sh
#   env: TOPIC (ecotta/results), CHECKPOINT (ecotta-camera.ckpt), SINK (fakesink)
set -euo pipefail
source "$(dirname "$0")/common.sh"
: "${CAMERA:?set CAMERA=rtsp://...}" "${MQTT:?set MQTT=host:port}"
# protocols=tcp: RTP interleaved in the RTSP connection, no UDP loss.
gst-launch-1.0 -e rtspsrc location="$CAMERA" protocols=tcp latency=200 ! decodebin ! videoconvert \
  ! ecotta model="$models/wrn-40-2-ecotta.ecotta" \
      checkpoint-location="${CHECKPOINT:-ecotta-camera.ckpt}" checkpoint-interval=60 \
  ! ecottametalog mqtt-address="$MQTT" mqtt-topic="${TOPIC:-ecotta/results}" mqtt-qos=1 ${LOG_OPTIONS:-} \
  ! ${SINK:-fakesink}
