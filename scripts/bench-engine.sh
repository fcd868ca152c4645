#!/usr/bin/env bash
# Reproduces the engine benchmark of the README: 2,000 and 20,000 samples
# through a fake provider with a fixed 50 ms latency at concurrency 16.
# Takes about 75 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/evalgate-enginebench ./bench/enginebench
for n in 2000 20000; do
  /tmp/evalgate-enginebench -samples "$n" -concurrency 16 -latency 50ms
  echo
done
