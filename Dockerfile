# syntax=docker/dockerfile:1
# Node 24 (LTS, supported until 2028-04-30) in both stages: the Node that .ci/run tests besides
# the machine's own.
# Build: compile TypeScript and the native better-sqlite3 addon, then keep production deps only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Build native addons against the image's own Node headers (no header download needed).
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build && npm prune --omit=dev
# Of better-sqlite3's build keep only the addon (build/Release/better_sqlite3.node, which its lib/
# loads through `bindings`): no SQLite sources (deps/, src/), objects, static library or test
# extension in the runtime image. Then check that it still opens a database.
RUN cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . \
 && rm -rf build deps src binding.gyp \
 && mkdir -p build/Release \
 && mv better_sqlite3.node build/Release/ \
 && cd /app \
 && node -e "require('better-sqlite3')(':memory:').prepare('select 1 as x').get().x === 1 || process.exit(1)"

# Run: non-root, the SQLite file on a volume, health-checked on /healthz.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=8080 \
    DATABASE_URL=sqlite:/data/dlr.sqlite
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
COPY openapi/openapi.json ./openapi/openapi.json
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
# the V8 flag as `npm start` sets it (package.json): a smaller young generation, same throughput (docs/performance.md)
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=100", "dist/main.js"]
