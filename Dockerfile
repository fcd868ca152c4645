# syntax=docker/dockerfile:1
# evalgate's GitHub Action image: a static binary on distroless, non-root.
#
#   docker build -t evalgate .
#
# BUILDER and BASE can point at mirrored images where Docker Hub and gcr.io
# are out of reach (scripts/docker-selftest.sh builds both locally).
ARG BUILDER=golang:1.26-bookworm
ARG BASE=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILDER} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -ldflags "-s -w -X github.com/evalgate/evalgate/internal/cli.Version=${VERSION}" \
      -o /out/evalgate ./cmd/evalgate

FROM ${BASE}
# The static distroless base holds CA certificates (for the GitHub API and
# the model providers), tzdata and /tmp, and nothing else.
COPY --from=build /out/evalgate /usr/local/bin/evalgate
# Non-root, as uid 1001: the runner user of GitHub-hosted runners, which owns
# the workspace and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files the runner
# mounts into the container. Another uid could not write them.
USER 1001:1001
ENTRYPOINT ["/usr/local/bin/evalgate"]
CMD ["gate"]
