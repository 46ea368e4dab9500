# syntax=docker/dockerfile:1.7
#
# giropops-senhas: a fully static (musl) binary in a FROM-scratch image.
# No shell, no package manager, no OS packages: nothing for a scanner to flag
# but the Rust dependencies, which `cargo auditable` records in the binary.
#
# Platforms: linux/amd64 (x86_64-unknown-linux-musl) and linux/arm64
# (aarch64-unknown-linux-musl). The version label comes from Cargo.toml,
# passed as the VERSION build argument:
#
#   VERSION=$(cargo metadata --no-deps --format-version 1 |
#     jq -r '.packages[] | select(.name == "giropops-senhas") | .version')
#   docker build --build-arg VERSION="$VERSION" -t giropops-senhas .
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION="$VERSION" -t REGISTRY/giropops-senhas:"$VERSION" --push .
#
# The builder stage runs on the target platform (rust:alpine is published for
# both), so each architecture compiles natively for its own musl triple; a
# foreign platform runs under QEMU emulation (docker/setup-qemu-action, or
# `docker run --privileged --rm tonistiigi/binfmt --install arm64`): correct,
# but several times slower. Any other platform fails with a clear message.
#
# The build context is exactly what the builder copies: .dockerignore lets in
# nothing else. The test suite (tests/container/run.sh) rebuilds that context
# from the COPY lines and .dockerignore (tests/container/builder_context.py),
# runs the builder's build command in it offline, and swaps the builder stage
# for the binary it produced with `--build-context builder=DIR`: the runtime
# stage below is built unchanged.

ARG RUST_VERSION=1.95

# ---- builder: static musl binary, LTO, stripped, with audit data ----------
FROM docker.io/library/rust:${RUST_VERSION}-alpine AS builder
ARG CARGO_AUDITABLE_VERSION=0.7.7
RUN apk add --no-cache musl-dev \
 && cargo install --locked cargo-auditable --version "${CARGO_AUDITABLE_VERSION}"
WORKDIR /src
# The Cargo workspace: the server package at the root (its [[bench]] target
# must exist for Cargo to read the manifest) and the client crate it depends
# on, whose build script compiles ../../proto.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY proto ./proto
COPY clients/rust ./clients/rust
ARG TARGETARCH
# Cache mounts keep the registry and the target dir between builds; the target
# dir is per architecture (host build scripts differ), the registry is shared.
RUN --mount=type=cache,id=giropops-senhas-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=giropops-senhas-target-${TARGETARCH},target=/src/target \
    case "${TARGETARCH}" in \
      amd64) triple=x86_64-unknown-linux-musl ;; \
      arm64) triple=aarch64-unknown-linux-musl ;; \
      *) echo "unsupported TARGETARCH '${TARGETARCH}': build for linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac \
 && cargo auditable build --release --locked --target "$triple" --package giropops-senhas \
 && mkdir -p /out \
 && cp "target/$triple/release/giropops-senhas" /out/giropops-senhas

# ---- runtime: the binary and nothing else ----------------------------------
FROM scratch
# VERSION: Cargo.toml's version (see above). TARGETARCH: set by BuildKit (and
# by podman/buildah) from the platform being built.
ARG VERSION
ARG TARGETARCH
LABEL org.opencontainers.image.title="giropops-senhas" \
      org.opencontainers.image.description="Password and passphrase generation over gRPC, with a capped history in Redis" \
      org.opencontainers.image.source="https://github.com/giropops/giropops-senhas" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      io.github.giropops.senhas.architecture="${TARGETARCH}"
COPY --from=builder /out/giropops-senhas /giropops-senhas
# The distroless "nonroot" user; no /etc/passwd needed for a numeric id.
USER 65532:65532
# Metrics on the pod address: the binary's own default is loopback only.
ENV LISTEN_ADDR=0.0.0.0:50051 \
    METRICS_ADDR=0.0.0.0:9090 \
    LOG_FORMAT=json
# gRPC, and Prometheus metrics (GET /metrics; METRICS_ADDR=off disables them).
EXPOSE 50051 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/giropops-senhas", "healthcheck"]
ENTRYPOINT ["/giropops-senhas"]
