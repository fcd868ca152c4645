#!/usr/bin/env bash
# Reproduces the engine benchmark of the README: 2,000 and 20,000 samples
# through a fake provider with a fixed 50 ms latency at concurrency 16, then
# 2,000 samples through a fake Bedrock over HTTP (the real AWS SDK client):
# without throttling, throttling 30% of calls at random, and throttling the
# calls beyond 8 in flight, three runs each. Takes about three minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/evalgate-enginebench ./bench/enginebench
for n in 2000 20000; do
  /tmp/evalgate-enginebench -samples "$n" -concurrency 16 -latency 50ms
  echo
done
for quota in "" "-throttle 0.3" "-capacity 8"; do
  for run in 1 2 3; do
    # shellcheck disable=SC2086 # $quota is one flag and its value, or nothing
    /tmp/evalgate-enginebench -bedrock -samples 2000 -concurrency 16 -latency 50ms $quota
    echo
  done
done
