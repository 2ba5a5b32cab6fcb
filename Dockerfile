# One image for both the API and the worker; docker-compose.yml picks the command.
# Production runs compiled JavaScript (dist/, `npm run build`) and loads the workflow bundle
# prebuilt there, so neither tsx nor webpack runs when a container starts.

# The Jsonnet evaluator of custom payloads (tools/jsonnet), so the image needs no Go at run time.
FROM golang:1.24-bookworm AS jsonnet
WORKDIR /src
COPY tools/jsonnet ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /hookrelay-jsonnet .

# dist/: src/ compiled, its data files, and dist/workflow-bundle.js (needs the dev dependencies).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# patches/: the Temporal SDK patch that npm ci applies (postinstall: patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN node --import tsx scripts/build.ts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=jsonnet /hookrelay-jsonnet /usr/local/bin/hookrelay-jsonnet
ENV HOOKRELAY_JSONNET_BIN=/usr/local/bin/hookrelay-jsonnet
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
