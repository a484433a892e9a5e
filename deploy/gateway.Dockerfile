# syntax=docker/dockerfile:1
# Hive Gateway in front of the API, for deploy/compose.yaml: deploy/gateway's own config and
# npm lock (the versions tests/federation runs). From the repository root:
#   docker build -f deploy/gateway.Dockerfile -t harborgraph-gateway:0.1.0 .
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /gateway
COPY deploy/gateway/package.json deploy/gateway/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY deploy/gateway/gateway.config.ts deploy/gateway/compose.mjs ./
COPY schema/schema.graphql /schema/schema.graphql
# Composed once, at build time, from the committed SDL (the reviewed contract); the URL is
# where the gateway sends Harborgraph's part of each query.
ARG HARBORGRAPH_SUBGRAPH_URL=http://api:8000/graphql
RUN printf '[{"name": "harborgraph", "url": "%s", "sdl": "/schema/schema.graphql"}]\n' \
      "$HARBORGRAPH_SUBGRAPH_URL" > subgraphs.json \
 && node compose.mjs --config subgraphs.json --out supergraph.graphql
USER 1000:1000
# gateway.config.ts listens on 127.0.0.1; hive-gateway's HOST wins over it.
ENV HOST=0.0.0.0
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/healthcheck').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "node_modules/@graphql-hive/gateway/dist/bin.js", "supergraph", "supergraph.graphql"]
