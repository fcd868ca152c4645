#!/usr/bin/env bash
# Builds the Action's image and runs the container the way the runner does
# (docker run --workdir /github/workspace, -e INPUT_* -e GITHUB_*, the
# workspace and file-command directories mounted) against the bundled example.
#
# Where Docker Hub and gcr.io are reachable, the real Dockerfile is built:
#   EVALGATE_IMAGE_BUILD=dockerfile scripts/docker-selftest.sh
# Offline (the default), base images cannot be pulled, so the script builds
# the same static binary with the host's Go (CGO_ENABLED=0, -trimpath) and an
# image FROM scratch holding only the binary, the host's CA certificates and
# /tmp, run as uid 1001 — the shape of the distroless image, without a pull.
#
# 3. Once more for a pull request without a token: exit 0 (the verdict), an
# error annotation and the summary headed by why nothing was posted.
#
# Needs: docker (a running dockerd: apt-get install docker.io; dockerd &),
# Go. Never part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${EVALGATE_IMAGE:-evalgate:selftest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${EVALGATE_IMAGE_BUILD:-offline}" = dockerfile ]; then
  docker build -t "$image" .
else
  ctx="$work/ctx"; mkdir -p "$ctx/tmp"; chmod 1777 "$ctx/tmp"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/evalgate" ./cmd/evalgate
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=1001:1001 tmp /tmp
COPY evalgate /usr/local/bin/evalgate
USER 1001:1001
ENTRYPOINT ["/usr/local/bin/evalgate"]
CMD ["gate"]
DOCKERFILE
  docker build -q -t "$image" "$ctx" >/dev/null
fi
size=$(docker image inspect -f '{{.Size}}' "$image")
# The budget is 25 MB for the image itself; a runner pulls it compressed.
pulled=$(docker save "$image" | gzip -6 | wc -c)
echo "image $image: $size bytes ($((size / 1024 / 1024)) MiB) on disk, $pulled bytes ($((pulled / 1024 / 1024)) MiB) compressed"
[ "$size" -lt 25000000 ] || { echo "image over 25 MB"; exit 1; }

# A workspace with the example, owned by the runner's uid as on GitHub.
ws="$work/workspace"; files="$work/file_commands"
mkdir -p "$ws/examples" "$files"
cp -r examples/support "$ws/examples/"
rm -rf "$ws/examples/support/.evalgate"
: > "$files/set_output"; : > "$files/step_summary"
chown -R 1001:1001 "$ws" "$files" 2>/dev/null || chmod -R a+rwX "$ws" "$files"

# 1. A push to main: no GitHub API call is needed (baseline: the suite's own).
set +e
docker run --rm --workdir /github/workspace \
  -v "$ws:/github/workspace" -v "$files:/github/file_commands" \
  -v "$PWD/testdata/events:/github/workflow:ro" \
  -e INPUT_CONFIG=examples/support/evalgate.yaml -e INPUT_GITHUB-TOKEN= \
  -e GITHUB_ACTIONS=true -e GITHUB_EVENT_NAME=push \
  -e GITHUB_EVENT_PATH=/github/workflow/push.json \
  -e GITHUB_REPOSITORY=nimbus-drive/support-bot -e GITHUB_WORKSPACE=/github/workspace \
  -e GITHUB_OUTPUT=/github/file_commands/set_output \
  -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary \
  -e GITHUB_RUN_ID=1 -e GITHUB_WORKFLOW_REF=nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/heads/main \
  "$image"
code=$?
set -e
echo "exit code: $code"
echo "--- outputs"; cat "$files/set_output"
grep -q '^pass$' "$files/set_output" || { echo "expected verdict pass"; exit 1; }
test -s "$ws/examples/support/.evalgate/results.jsonl"
echo "push: ok"

# 2. A pull request against the fake GitHub of the tests (loopback only): the
# changed files are listed, one sticky comment is posted and, on a second
# run, edited in place.
go build -o "$work/fakegithub" ./scripts/fakegithub
mkfifo "$work/fg.in"
"$work/fakegithub" -addr 127.0.0.1:0 -token fake-token -pr-files examples/support/prompts/answer.txt \
  < "$work/fg.in" > "$work/fg.out" &
fg=$!
exec 3> "$work/fg.in"
for _ in $(seq 50); do [ -s "$work/fg.out" ] && break; sleep 0.1; done
api=$(head -n1 "$work/fg.out")
echo "fake GitHub at $api"
for attempt in 1 2; do
  : > "$files/set_output"; : > "$files/step_summary"
  set +e
  docker run --rm --network host --workdir /github/workspace \
    -v "$ws:/github/workspace" -v "$files:/github/file_commands" \
    -v "$PWD/testdata/events:/github/workflow:ro" \
    -e INPUT_CONFIG=examples/support/evalgate.yaml -e INPUT_GITHUB-TOKEN=fake-token -e INPUT_BASELINE=suite \
    -e GITHUB_ACTIONS=true -e GITHUB_EVENT_NAME=pull_request \
    -e GITHUB_EVENT_PATH=/github/workflow/pull_request.json -e GITHUB_API_URL="$api" \
    -e GITHUB_REPOSITORY=nimbus-drive/support-bot -e GITHUB_WORKSPACE=/github/workspace \
    -e GITHUB_OUTPUT=/github/file_commands/set_output \
    -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary \
    -e GITHUB_RUN_ID=$((100 + attempt)) -e GITHUB_WORKFLOW_REF=nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/pull/42/merge \
    "$image" > "$work/pr.log" 2>&1
  code=$?
  set -e
  echo "pull request run $attempt: exit code $code"
  [ "$code" -eq 0 ] || { cat "$work/pr.log"; exit 1; }
done
exec 3>&-
wait "$fg"
state=$(tail -n1 "$work/fg.out")
comments=$(printf '%s' "$state" | grep -o '"id":[0-9]*,"body"' | wc -l)
echo "comments on the pull request: $comments"
[ "$comments" -eq 1 ] || { echo "expected one sticky comment, edited in place"; printf '%s\n' "$state"; exit 1; }
printf '%s' "$state" | grep -q 'support-answers: pass' || { echo "the comment does not hold the report"; exit 1; }
grep -q '"PATCH issues/comments/{n}"' <<<"$state" || { echo "the comment was not edited in place"; exit 1; }

# 3. A pull request without a token: nothing can be posted, so the step says so
# (an error annotation, the summary headed by why) and the verdict still
# decides the exit code.
: > "$files/set_output"; : > "$files/step_summary"
set +e
docker run --rm --workdir /github/workspace \
  -v "$ws:/github/workspace" -v "$files:/github/file_commands" \
  -v "$PWD/testdata/events:/github/workflow:ro" \
  -e INPUT_CONFIG=examples/support/evalgate.yaml -e INPUT_BASELINE=suite \
  -e GITHUB_ACTIONS=true -e GITHUB_EVENT_NAME=pull_request \
  -e GITHUB_EVENT_PATH=/github/workflow/pull_request.json \
  -e GITHUB_REPOSITORY=nimbus-drive/support-bot -e GITHUB_WORKSPACE=/github/workspace \
  -e GITHUB_OUTPUT=/github/file_commands/set_output \
  -e GITHUB_STEP_SUMMARY=/github/file_commands/step_summary \
  -e GITHUB_RUN_ID=200 -e GITHUB_WORKFLOW_REF=nimbus-drive/support-bot/.github/workflows/evalgate.yml@refs/pull/42/merge \
  "$image" > "$work/notoken.log" 2>&1
code=$?
set -e
echo "pull request without a token: exit code $code"
[ "$code" -eq 0 ] || { cat "$work/notoken.log"; exit 1; }
grep -q '^::error title=evalgate%3A pull-request comment not posted::no github-token' "$work/notoken.log" || { echo "no error annotation"; cat "$work/notoken.log"; exit 1; }
head -n1 "$files/step_summary" | grep -q '^> \[!CAUTION\]' || { echo "the summary does not start with why"; head "$files/step_summary"; exit 1; }
echo "selftest ok"
