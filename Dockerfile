# haproxy-companion: HAProxy 3.x and the Node supervisor in one image, tini as PID 1.
# Builds with a plain `docker build .` online; scripts/build-image.sh also builds it without a registry.

FROM node:24-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# A CA bundle passed as a build secret (--secret id=ca_bundle,src=...) serves networks that re-sign TLS.
RUN --mount=type=secret,id=ca_bundle,target=/run/secrets/ca_bundle \
    if [ -f /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/
COPY src ./src
# Typechecks (tsc), then bundles (scripts/bundle.ts): the image runs bundle/, with no node_modules.
RUN npm run build

FROM node:24-trixie-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && haproxy -v | head -1
WORKDIR /app
COPY --from=build /app/bundle ./bundle
COPY package.json ./
COPY templates ./templates
ENV NODE_ENV=production
# The supervisor is small and mostly idle: a 1 MB young generation and one V8 helper thread cut its
# resident memory by about 17 MB (measured 109 -> 92 MB idle) at no measurable cost. Setting
# NODE_OPTIONS yourself replaces these; add --enable-source-maps to see src/*.ts in stack traces
# (it costs ~10 MB: the maps are parsed at startup).
ENV NODE_OPTIONS="--max-semi-space-size=1 --v8-pool-size=1"
LABEL org.opencontainers.image.title="haproxy-companion"
EXPOSE 80
# --lite-mode (no optimizing compilers): 11 MB less idle, 27 MB less at 1,000 containers, for a first pass
# ~20 % slower (docs/memory.md). It also turns WebAssembly off, which Node's fetch needs: the companion
# makes its few HTTP requests with node:http (src/lib/plain-http.ts), and the AWS SDK uses node:http too.
# --disable-warning=DEP0169: docker-modem parses DOCKER_HOST with url.parse(), which Node warns about only
# from code outside node_modules, as the bundle is.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--lite-mode", "--disable-warning=DEP0169", "/app/bundle/main.cjs"]
