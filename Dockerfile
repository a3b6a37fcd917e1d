# assignd's container image: a static Go binary on distroless, running as
# the image's nonroot user (65532). Build it with
#
#	docker build --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#	  --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t ghcr.io/assignd/assignd:0.1.0 .
#
# The entrypoint is the binary and the default command `serve`, so the image
# runs every subcommand: `docker run IMAGE validate /policy/policy.yaml`.
# Releases build the image from GoReleaser's binaries instead
# (Dockerfile.release, .goreleaser.yaml).
#
# The build stage runs on the build machine's platform and cross-compiles
# for the target, so `docker buildx build --platform linux/amd64,linux/arm64`
# needs no emulation. It needs BuildKit (the default builder since Docker 23).

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=
ARG DATE=
ARG TARGETOS
ARG TARGETARCH
# main.version is what `assignd version` prints until it reads
# internal/buildinfo; both are set.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} \
      -X github.com/assignd/assignd/internal/buildinfo.Version=${VERSION} \
      -X github.com/assignd/assignd/internal/buildinfo.Revision=${REVISION} \
      -X github.com/assignd/assignd/internal/buildinfo.Date=${DATE}" -o /out/assignd .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/assignd /assignd
# Numeric, so that a pod's runAsNonRoot can be checked without runAsUser.
USER 65532:65532
# 8080: TaskRouter callbacks (behind the ingress). 9090: admin (health, metrics, reload).
EXPOSE 8080 9090
ENTRYPOINT ["/assignd"]
CMD ["serve"]
