# syntax=docker/dockerfile:1.7
#
# giropops-senhas: a fully static (musl) binary in a FROM-scratch image.
# No shell, no package manager, no OS packages: nothing for a scanner to flag
# but the Rust dependencies, which `cargo auditable` records in the binary.
#
#   docker build -t giropops-senhas .
#
# The test suite (tests/container/run.sh) builds the binary the same way on
# the host and swaps the builder stage for it with
# `--build-context builder=DIR`: the runtime stage below is built unchanged.

ARG RUST_VERSION=1.95

# ---- builder: static musl binary, LTO, stripped, with audit data ----------
FROM rust:${RUST_VERSION}-alpine AS builder
ARG CARGO_AUDITABLE_VERSION=0.7.7
RUN apk add --no-cache musl-dev \
 && cargo install --locked cargo-auditable --version "${CARGO_AUDITABLE_VERSION}"
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto ./proto
COPY src ./src
# Cache mounts keep the registry and the target dir between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo auditable build --release --locked --target x86_64-unknown-linux-musl \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-musl/release/giropops-senhas /out/giropops-senhas

# ---- runtime: the binary and nothing else ----------------------------------
FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="giropops-senhas" \
      org.opencontainers.image.description="Password and passphrase generation over gRPC, with a capped history in Redis" \
      org.opencontainers.image.source="https://github.com/giropops/giropops-senhas" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=builder /out/giropops-senhas /giropops-senhas
# The distroless "nonroot" user; no /etc/passwd needed for a numeric id.
USER 65532:65532
ENV LISTEN_ADDR=0.0.0.0:50051 \
    LOG_FORMAT=json
# gRPC, and Prometheus metrics (GET /metrics; METRICS_ADDR=off disables them).
EXPOSE 50051 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/giropops-senhas", "healthcheck"]
ENTRYPOINT ["/giropops-senhas"]
