# sampling-proxy as a container: compiled in a Deno image, run from a distroless image as a non-root user.
#
#   docker build --build-arg COMMIT="$(git rev-parse --short=12 HEAD)" -t sampling-proxy .
#   docker run --rm -p 127.0.0.1:8001:8001 -v "$PWD/config.json:/config/config.json:ro" sampling-proxy
#
# The config is mounted at /config/config.json. The proxy listens on 0.0.0.0:8001 inside the container, which needs
# client keys in the config (auth.keys) or --insecure-no-auth (see compose.yaml). The health check runs the binary
# itself (--probe): keep the port 8001 or change the HEALTHCHECK line with it.

FROM denoland/deno:2.9.6 AS build
ARG COMMIT=unknown
WORKDIR /app
COPY deno.json deno.lock ./
COPY src/ src/
COPY scripts/ scripts/
RUN SAMPLING_PROXY_COMMIT="${COMMIT}" deno task compile --out-dir /out \
  && mv /out/sampling-proxy-*-linux-gnu /sampling-proxy

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /sampling-proxy /sampling-proxy
USER nonroot
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/sampling-proxy", "--probe", "http://127.0.0.1:8001/health"]
ENTRYPOINT ["/sampling-proxy"]
CMD ["--config", "/config/config.json", "--host", "0.0.0.0", "--port", "8001"]
