# One image for both the API and the worker; docker-compose.yml picks the command.

# The Jsonnet evaluator of custom payloads (tools/jsonnet), so the image needs no Go at run time.
FROM golang:1.24-bookworm AS jsonnet
WORKDIR /src
COPY tools/jsonnet ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /hookrelay-jsonnet .

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY --from=jsonnet /hookrelay-jsonnet /usr/local/bin/hookrelay-jsonnet
ENV HOOKRELAY_JSONNET_BIN=/usr/local/bin/hookrelay-jsonnet
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/api/main.ts"]
