# The `crossfade` CLI as a small image for Spinnaker's "Run Job (Manifest)" stage
# (spinnaker/run-job/deploy-job.yaml, docs/spinnaker-run-job.md).
#
# Build it from a checkout after `npm ci && npm run build`: the image holds only the CLI bundle
# (dist/cli/crossfade.mjs, every dependency inside), never node_modules, sources or crossfade.yaml
# (.dockerignore lets nothing else in). The token and URL come from the Job at run time.
#
#   npm ci && npm run build
#   docker build -t <registry>/crossfade-cli:<version> .
#
# Distroless Node 22: no shell, no package manager, and a non-root user (65532) by default. USER is
# numeric so that Kubernetes' runAsNonRoot can check it without a passwd lookup. For production, pin
# the base by digest (FROM gcr.io/distroless/nodejs22-debian12:nonroot@sha256:…).
FROM gcr.io/distroless/nodejs22-debian12:nonroot

LABEL org.opencontainers.image.title="crossfade-cli" \
      org.opencontainers.image.description="crossfade CLI for Spinnaker Run Job stages: deploy --wait --spinnaker-output"

WORKDIR /app
# Owned by root (COPY's default) and only read by the runtime user.
COPY dist/cli/crossfade.mjs /app/crossfade.mjs
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/crossfade.mjs"]
CMD ["--help"]
