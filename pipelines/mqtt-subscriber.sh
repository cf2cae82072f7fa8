#!/usr/bin/env bash
# Read the per-frame results a pipeline publishes with ecottametalog: one
# JSON object per message, printed as a line (frame, label, confidence,
# adaptation steps, ...).
#
# Needs: mosquitto-clients (scripts/setup installs it) and the broker the
#   pipeline publishes to.
#
#   MQTT=localhost:1883 pipelines/mqtt-subscriber.sh
#   env: TOPIC (ecotta/results), COUNT (stop after COUNT messages; default: never)
set -euo pipefail
address=${MQTT:-localhost:1883}
host=${address%:*}
port=${address##*:}
exec mosquitto_sub -h "$host" -p "$port" -t "${TOPIC:-ecotta/results}" -q 1 ${COUNT:+-C "$COUNT"}
