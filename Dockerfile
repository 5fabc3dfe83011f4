# Build stage: compile the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin latchkey

# Run stage: a slim image with only the binary and its default config.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/latchkey --create-home latchkey
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
COPY config /var/lib/latchkey/config
WORKDIR /var/lib/latchkey
USER latchkey
ENV LATCHKEY_ENV=production
EXPOSE 8080
ENTRYPOINT ["latchkey"]
CMD ["serve"]
