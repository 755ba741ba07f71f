#!/bin/bash
# Runs once, right after influxdb:2 initialised the org, the raw bucket and the admin token
# (DOCKER_INFLUXDB_INIT_*). Raw points expire with the raw bucket's retention (90 days by
# default); this creates a longer-lived bucket and a nightly task that keeps only daily
# counts and means per home, room and device there: enough for "is she less active than
# last spring", nothing about any single hour of her life.
set -euo pipefail

org="${DOCKER_INFLUXDB_INIT_ORG}"
raw="${DOCKER_INFLUXDB_INIT_BUCKET}"
daily="${INFLUXDB_DAILY_BUCKET:-eldercare_daily}"

influx bucket create --org "$org" --name "$daily" --retention "${INFLUXDB_DAILY_RETENTION:-1825d}"

cat > /tmp/daily-summaries.flux <<FLUX
option task = {name: "daily-summaries", every: 1d, offset: 15m}

events = from(bucket: "${raw}")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "event" and r._field == "count")
    |> aggregateWindow(every: 1d, fn: sum, createEmpty: false)

telemetry = from(bucket: "${raw}")
    |> range(start: -task.every)
    |> filter(fn: (r) => r._measurement == "telemetry" and r._field == "value")
    |> aggregateWindow(every: 1d, fn: mean, createEmpty: false)

union(tables: [events, telemetry])
    |> to(bucket: "${daily}", org: "${org}")
FLUX

influx task create --org "$org" --file /tmp/daily-summaries.flux
