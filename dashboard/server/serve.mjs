#!/usr/bin/env node
// The acc UI server: serves the built dashboard (dist/) and proxies /api/* to the trainer, so the
// browser talks to one origin. `astro preview` cannot do this: for a static build it starts
// Vite's preview server with `configFile: false`, so no proxy setting reaches it.
//
//   node server/serve.mjs [--port 4321] [--host 127.0.0.1] [--trainer http://127.0.0.1:8787] [--dist DIR]
//
// Env: ACC_UI_PORT, ACC_UI_HOST, ACC_TRAINER_URL (flags win). Port 0 picks a free port; the
// "acc dashboard: <url>" line always names the real one.
//
// The proxy streams both ways without buffering (server-sent events pass through as they are
// written, request bodies are piped), forwards status and headers except hop-by-hop ones, and
// drops the trainer request when the browser goes away. A trainer that cannot be reached gets
// 502 {"error": "trainer_unreachable", "detail": ...}. Node built-ins only.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { pipeline } from "node:stream";
import { fileURLToPath } from "node:url";

const USAGE = `usage: serve.mjs [--port N] [--host H] [--trainer URL] [--dist DIR]
  --port N       port to listen on (env ACC_UI_PORT, default 4321; 0 = any free port)
  --host H       address to bind (env ACC_UI_HOST, default 127.0.0.1)
  --trainer URL  trainer base URL that /api/* goes to (env ACC_TRAINER_URL, default http://127.0.0.1:8787)
  --dist DIR     built site (default: ../dist next to this file)`;

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
};

// RFC 9110 §7.6.1: these describe one connection and must not be forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** How long to wait for a TCP connection to the trainer before answering 502. */
const CONNECT_TIMEOUT_MS = 5_000;

function parseArgs(argv) {
  const opts = {
    port: process.env.ACC_UI_PORT || "4321",
    host: process.env.ACC_UI_HOST || "127.0.0.1",
    trainer: process.env.ACC_TRAINER_URL || "http://127.0.0.1:8787",
    dist: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist"),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    }
    const m = /^--(port|host|trainer|dist)(?:=(.*))?$/.exec(arg);
    if (!m) fail(`unknown argument '${arg}'\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === "") fail(`--${m[1]} needs a value`);
    opts[m[1]] = value;
  }

  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`port must be an integer in 0..65535, got '${opts.port}'`);
  }
  let trainer;
  try {
    trainer = new URL(opts.trainer);
  } catch {
    fail(`trainer URL must look like http://127.0.0.1:8787, got '${opts.trainer}'`);
  }
  if (trainer.protocol !== "http:" && trainer.protocol !== "https:") {
    fail(`trainer URL must be http:// or https://, got '${opts.trainer}'`);
  }
  return { port, host: opts.host, trainer, dist: path.resolve(opts.dist) };
}

/** Exit with a one-line reason: 2 for bad arguments, 1 for anything else. */
function fail(message, status = 2) {
  console.error(`acc dashboard: ${message}`);
  process.exit(status);
}

// ---- static files -------------------------------------------------------------------------

function createStaticHandler(dist) {
  return async function serveStatic(req, res, pathname) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendText(res, 405, "Method not allowed", { allow: "GET, HEAD" });
    }
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return sendText(res, 400, "Bad request: malformed URL");
    }
    // Never hand out dotfiles (build stamps) or anything outside dist/.
    const segments = decoded.split("/").filter(Boolean);
    if (decoded.includes("\0") || segments.some((s) => s.startsWith("."))) {
      return sendNotFound(req, res, dist);
    }
    let file = path.join(dist, ...segments);
    if (file !== dist && !file.startsWith(dist + path.sep)) return sendNotFound(req, res, dist);

    let info = await statOrNull(file);
    if (info?.isDirectory()) {
      file = path.join(file, "index.html");
      info = await statOrNull(file);
    }
    if (!info?.isFile()) return sendNotFound(req, res, dist);

    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      "content-type": CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "last-modified": info.mtime.toUTCString(),
      etag,
      // Astro puts content-hashed bundles under /_astro/; everything else may change per build.
      "cache-control": segments[0] === "_astro" ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    headers["content-length"] = info.size;
    sendFile(req, res, 200, file, headers);
  };
}

async function sendNotFound(req, res, dist) {
  const page = path.join(dist, "404.html");
  const info = await statOrNull(page);
  if (!info?.isFile()) return sendText(res, 404, "Not found");
  sendFile(req, res, 404, page, {
    "content-type": CONTENT_TYPES[".html"],
    "content-length": info.size,
    "cache-control": "no-cache",
  });
}

function sendFile(req, res, status, file, headers) {
  res.writeHead(status, headers);
  if (req.method === "HEAD") return res.end();
  pipeline(createReadStream(file), res, () => {});
}

function sendText(res, status, text, headers = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(`${text}\n`);
}

async function statOrNull(file) {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

// ---- /api proxy ----------------------------------------------------------------------------

function createProxy(trainer) {
  const client = trainer.protocol === "https:" ? https : http;
  // One connection per request: on localhost it costs well under a millisecond, and it avoids
  // reusing a kept-alive socket the trainer is just closing (a spurious 502 on a POST).
  const agent = new client.Agent({ keepAlive: false });
  const basePath = trainer.pathname.replace(/\/+$/, "");
  let down = false; // log changes of reachability, not every failed poll

  function proxy(req, res, apiPath) {
    const headers = forwardableHeaders(req.headers);
    headers.host = trainer.host;
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    headers["x-forwarded-host"] = req.headers.host ?? "";
    headers["x-forwarded-proto"] = "http";

    const upstream = client.request({
      protocol: trainer.protocol,
      hostname: trainer.hostname,
      port: trainer.port,
      method: req.method,
      path: basePath + apiPath,
      headers,
      agent,
    });

    upstream.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(
        () => upstream.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })),
        CONNECT_TIMEOUT_MS,
      );
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });

    upstream.on("response", (up) => {
      if (down) {
        down = false;
        console.log(`acc dashboard: trainer at ${trainer.origin} is reachable again`);
      }
      const out = forwardableHeaders(up.headers);
      const eventStream = String(up.headers["content-type"] ?? "").startsWith("text/event-stream");
      if (eventStream) {
        out["cache-control"] ??= "no-cache";
        out["x-accel-buffering"] = "no";
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      if (eventStream) {
        // Send the headers now so EventSource opens before the first event; no Nagle delay.
        res.flushHeaders();
        res.socket?.setNoDelay(true);
      }
      pipeline(up, res, () => {});
    });

    let abandoned = false; // the browser went away first: the upstream error that follows is ours
    upstream.on("error", (err) => {
      if (abandoned) return;
      if (res.headersSent) {
        res.destroy(); // mid-stream: the browser sees the connection close (EventSource retries)
        return;
      }
      const code = err.code || err.message;
      if (!down) {
        down = true;
        console.error(`acc dashboard: trainer at ${trainer.origin} is not reachable (${code}); answering 502`);
      }
      sendJSON(res, 502, {
        error: "trainer_unreachable",
        detail: `Trainer at ${trainer.origin} is not reachable (${code})`,
      });
    });

    // The browser closed the tab or aborted the fetch: stop the trainer's side too.
    res.on("close", () => {
      if (res.writableFinished) return;
      abandoned = true;
      upstream.destroy();
    });
    req.on("error", () => upstream.destroy());
    req.pipe(upstream);
  }

  proxy.close = () => agent.destroy();
  return proxy;
}

function forwardableHeaders(incoming) {
  const named = new Set(
    String(incoming.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function sendJSON(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

// ---- server --------------------------------------------------------------------------------

async function main() {
  const { port, host, trainer, dist } = parseArgs(process.argv.slice(2));
  if (!(await statOrNull(path.join(dist, "index.html")))?.isFile()) {
    fail(`no built dashboard in ${dist}: run 'npm run build' (or ./run_ui.sh, which builds it)`, 1);
  }

  const serveStatic = createStaticHandler(dist);
  const proxy = createProxy(trainer);

  const server = http.createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendText(res, 400, "Bad request");
    }
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
      return proxy(req, res, (url.pathname.slice(4) || "/") + url.search);
    }
    serveStatic(req, res, url.pathname).catch((err) => {
      console.error(`acc dashboard: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendText(res, 500, "Internal server error");
      else res.destroy();
    });
  });
  // Long-lived event streams must not be cut by Node's default request timeout.
  server.requestTimeout = 0;

  server.on("error", (err) => {
    if (err.code === "EADDRINUSE") {
      fail(`${host}:${port} is already in use (another acc dashboard?); pick one with --port or ACC_UI_PORT`, 1);
    }
    fail(err.message, 1);
  });

  server.listen(port, host, () => {
    const { port: actual } = server.address();
    const shownHost = host.includes(":") ? `[${host}]` : host;
    console.log(`acc dashboard: http://${shownHost}:${actual}/`);
    console.log(`acc dashboard: /api/* -> ${trainer.origin}${trainer.pathname.replace(/\/+$/, "")}/*`);
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) process.exit(1); // second Ctrl-C: leave now
    stopping = true;
    console.log(`acc dashboard: ${signal}, stopping`);
    server.close(() => process.exit(0));
    server.closeAllConnections(); // open event streams included
    proxy.close();
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main();
