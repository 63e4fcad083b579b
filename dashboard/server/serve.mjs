#!/usr/bin/env node
// The acc UI server: serves the built dashboard (dist/) and proxies /api/* to the trainer, so the
// browser talks to one origin. `astro preview` cannot do this: for a static build it starts
// Vite's preview server with `configFile: false`, so no proxy setting reaches it.
//
//   node server/serve.mjs [--port 4321] [--host 127.0.0.1] [--trainer http://127.0.0.1:8787]
//                         [--allow-host NAME]... [--dist DIR]
//
// Env: ACC_UI_PORT, ACC_UI_HOST, ACC_TRAINER_URL (flags win), ACC_ALLOW_HOSTS (comma-separated,
// added to the --allow-host names). Port 0 picks a free port; the "acc dashboard: <url>" line
// always names the real one. Timeouts, in milliseconds (tests shorten them):
// ACC_UI_HEADER_TIMEOUT_MS (default 10000: a connection must have sent a whole request head this
// long after it opened or after its last answer, else 408 and closed), ACC_UI_REQUEST_TIMEOUT_MS
// (default 30000: the whole request, body included; answers such as event streams may last
// longer), ACC_UI_KEEPALIVE_TIMEOUT_MS (default 5000: an idle kept-alive connection is closed).
//
// The proxy streams both ways without buffering (server-sent events pass through as they are
// written, request bodies are piped), forwards status and headers except hop-by-hop ones, and
// drops the trainer request when the browser goes away. A trainer that cannot be reached gets
// 502 {"error": "trainer_unreachable", "detail": ...}. Node built-ins only.
//
// This server runs on a researcher's machine, where any web page in the browser can send it
// requests, so before anything else it refuses (JSON {"error": ..., "detail": ...}):
//   403 forbidden_host          a Host header that is not a name of this machine (DNS rebinding:
//                               a foreign site whose name now resolves to 127.0.0.1); allowed
//                               are 127.0.0.1, localhost, [::1], the --host it binds (unless
//                               0.0.0.0 or ::) and each --allow-host / ACC_ALLOW_HOSTS name
//   and on /api/* for methods other than GET, HEAD and OPTIONS (cross-site request forgery):
//   403 forbidden_origin        an Origin other than this server's own, or Sec-Fetch-Site:
//                               cross-site
//   415 unsupported_media_type  a Content-Type other than application/json (a page on another
//                               site can send text/plain without asking; it cannot send JSON)
//   413 payload_too_large       a body over max_body_bytes of src/lib/generated/limits.json
//                               (the trainer's own limit), without bothering the trainer

import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { pipeline, Transform } from "node:stream";
import { fileURLToPath } from "node:url";

const USAGE = `usage: serve.mjs [--port N] [--host H] [--trainer URL] [--allow-host NAME]... [--dist DIR]
  --port N           port to listen on (env ACC_UI_PORT, default 4321; 0 = any free port)
  --host H           address to bind (env ACC_UI_HOST, default 127.0.0.1)
  --trainer URL      trainer base URL that /api/* goes to (env ACC_TRAINER_URL, default http://127.0.0.1:8787)
  --allow-host NAME  also answer requests for this host name (repeatable; env ACC_ALLOW_HOSTS=a,b);
                     127.0.0.1, localhost, [::1] and the --host address are always allowed
  --dist DIR         built site (default: ../dist next to this file)`;

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Limits shared with the trainer, generated from its Python source by `acc codegen`. */
const LIMITS_FILE = path.resolve(HERE, "../src/lib/generated/limits.json");

/** How built files are served (content types, caching), generated from the trainer's own static
 * site (acc/api/dashboard_site.py) by `acc codegen`, so both servers answer alike. */
const STATIC_SITE_FILE = path.resolve(HERE, "../src/lib/generated/static-site.json");

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
/** How long to wait for the trainer's "100 Continue" before sending a request body anyway. */
const CONTINUE_WAIT_MS = 1_000;

/** Host names that always mean this machine (any port). */
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"];
/** Binding every interface names no host a browser would use: it is not an allowed Host. */
const WILDCARD_ADDRESSES = new Set(["0.0.0.0", "::", "[::]"]);
/** Methods that do not change state; every other one on /api/* is checked for CSRF. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const TIMEOUT_DEFAULTS_MS = { header: 10_000, request: 30_000, keepAlive: 5_000 };
/** Node checks headersTimeout/requestTimeout this often (its default, 30 s, would triple them). */
const CONNECTIONS_CHECK_MS = 1_000;
const kGotRequest = Symbol("gotRequest");

function parseArgs(argv) {
  const opts = {
    port: process.env.ACC_UI_PORT || "4321",
    host: process.env.ACC_UI_HOST || "127.0.0.1",
    trainer: process.env.ACC_TRAINER_URL || "http://127.0.0.1:8787",
    dist: path.resolve(HERE, "../dist"),
    allowHosts: (process.env.ACC_ALLOW_HOSTS ?? "").split(",").filter((name) => name.trim()),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      process.exit(0);
    }
    const m = /^--(port|host|trainer|dist|allow-host)(?:=(.*))?$/.exec(arg);
    if (!m) fail(`unknown argument '${arg}'\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === "") fail(`--${m[1]} needs a value`);
    if (m[1] === "allow-host") opts.allowHosts.push(value);
    else opts[m[1]] = value;
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
  return {
    port,
    host: opts.host,
    trainer,
    dist: path.resolve(opts.dist),
    allowedHosts: allowedHostNames(opts.host, opts.allowHosts),
    timeouts: readTimeouts(),
  };
}

/** The Host names this server answers: loopback, the bound address, and the named extras. */
function allowedHostNames(bindHost, extra) {
  const names = new Set(LOOPBACK_HOSTS);
  if (!WILDCARD_ADDRESSES.has(bindHost)) names.add(normalizeHostName(bindHost));
  for (const raw of extra) {
    const name = normalizeHostName(raw.trim());
    // One colon is "name:port" (IPv6 has several): a port here would be ignored, as would a
    // scheme or path, so refuse them rather than allow something else than was meant.
    if (!name || /[\s/@]/.test(name) || name.split(":").length === 2) {
      fail(`--allow-host / ACC_ALLOW_HOSTS takes a host name without scheme or port, got '${raw}'`);
    }
    names.add(name);
  }
  return names;
}

/** Lower case, IPv6 without brackets: the form names are compared in. */
function normalizeHostName(name) {
  const lower = name.toLowerCase();
  return lower.startsWith("[") && lower.endsWith("]") ? lower.slice(1, -1) : lower;
}

function readTimeouts() {
  const read = (variable, fallback) => {
    const raw = process.env[variable];
    if (raw === undefined || raw === "") return fallback;
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms <= 0) fail(`${variable} must be a positive integer (milliseconds), got '${raw}'`);
    return ms;
  };
  const timeouts = {
    header: read("ACC_UI_HEADER_TIMEOUT_MS", TIMEOUT_DEFAULTS_MS.header),
    request: read("ACC_UI_REQUEST_TIMEOUT_MS", TIMEOUT_DEFAULTS_MS.request),
    keepAlive: read("ACC_UI_KEEPALIVE_TIMEOUT_MS", TIMEOUT_DEFAULTS_MS.keepAlive),
  };
  // Node's rule: the request head cannot be allowed longer than the whole request.
  if (timeouts.header > timeouts.request) {
    fail(`ACC_UI_HEADER_TIMEOUT_MS (${timeouts.header}) must not exceed ACC_UI_REQUEST_TIMEOUT_MS (${timeouts.request})`);
  }
  return timeouts;
}

/** max_body_bytes from limits.json; exits with a reason when it is missing or malformed. */
async function readBodyLimit() {
  let limits;
  try {
    limits = JSON.parse(await readFile(LIMITS_FILE, "utf8"));
  } catch (err) {
    const why = err.code === "ENOENT" ? "is missing" : `cannot be read (${err.message})`;
    fail(`${LIMITS_FILE} ${why}: run '.venv/bin/acc codegen' to generate it`, 1);
  }
  const max = limits?.max_body_bytes;
  if (!Number.isInteger(max) || max <= 0) {
    fail(`${LIMITS_FILE} has no positive integer max_body_bytes: run '.venv/bin/acc codegen'`, 1);
  }
  return max;
}

/** The static-site rules of static-site.json; exits with a reason when missing or malformed. */
async function readStaticSite() {
  let site;
  try {
    site = JSON.parse(await readFile(STATIC_SITE_FILE, "utf8"));
  } catch (err) {
    const why = err.code === "ENOENT" ? "is missing" : `cannot be read (${err.message})`;
    fail(`${STATIC_SITE_FILE} ${why}: run '.venv/bin/acc codegen' to generate it`, 1);
  }
  if (typeof site?.content_types?.[".html"] !== "string" || typeof site.hashed_assets !== "string") {
    fail(`${STATIC_SITE_FILE} is malformed: run '.venv/bin/acc codegen'`, 1);
  }
  return site;
}

/** Exit with a one-line reason: 2 for bad arguments, 1 for anything else. */
function fail(message, status = 2) {
  console.error(`acc dashboard: ${message}`);
  process.exit(status);
}

// ---- static files -------------------------------------------------------------------------

function createStaticHandler(dist, site) {
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
      return sendNotFound(req, res, dist, site);
    }
    let file = path.join(dist, ...segments);
    if (file !== dist && !file.startsWith(dist + path.sep)) return sendNotFound(req, res, dist, site);

    let info = await statOrNull(file);
    if (info?.isDirectory()) {
      file = path.join(file, "index.html");
      info = await statOrNull(file);
    }
    if (!info?.isFile()) return sendNotFound(req, res, dist, site);

    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      "content-type": site.content_types[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "last-modified": info.mtime.toUTCString(),
      etag,
      // Astro puts content-hashed bundles under /_astro/; everything else may change per build.
      "cache-control": segments[0] === site.hashed_assets ? site.immutable : site.revalidate,
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

async function sendNotFound(req, res, dist, site) {
  const page = path.join(dist, "404.html");
  const info = await statOrNull(page);
  if (!info?.isFile()) return sendText(res, 404, "Not found");
  sendFile(req, res, 404, page, {
    "content-type": site.content_types[".html"],
    "content-length": info.size,
    "cache-control": site.revalidate,
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

// ---- request checks -----------------------------------------------------------------------
// Each returns null when the request may go on, else [status, error, detail] to answer with.

/** The host name of a Host header value ("name", "name:port", "[v6]:port"), or null. */
function hostNameOf(hostHeader) {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d*))?$/i.exec(hostHeader ?? "");
  return m ? normalizeHostName(m[1]) : null;
}

/** DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends Host:
 * evil.example. Only a name of this machine may reach the site or the trainer. */
function checkHost(req, allowedHosts) {
  const received = req.headers.host;
  const name = hostNameOf(received);
  if (name !== null && allowedHosts.has(name)) return null;
  const what = received === undefined ? "no Host header" : `Host '${received}'`;
  return [
    403,
    "forbidden_host",
    `${what} is not allowed: this server answers only for ${showHosts(allowedHosts)} (any port); ` +
      "to reach it under another name, start it with --allow-host NAME (or ACC_ALLOW_HOSTS=NAME,...)",
  ];
}

/** A host name as URLs and Host headers write it (IPv6 in brackets). */
function urlHost(name) {
  return name.includes(":") ? `[${name}]` : name;
}

function showHosts(names) {
  return [...names].map(urlHost).join(", ");
}

/** The origins a page of this site has: each allowed host at the port the server listens on. */
function ownOrigins(allowedHosts, port) {
  const origins = new Set();
  for (const name of allowedHosts) {
    origins.add(`http://${urlHost(name)}:${port}`);
    if (port === 80) origins.add(`http://${urlHost(name)}`); // browsers leave the default port out
  }
  return origins;
}

/** Cross-site request forgery, part one: browsers name the page that sent a write in Origin
 * (any page can POST here, even without reading the answer). "null" (sandboxed frames, file:
 * pages) is foreign too. */
function checkOrigin(req, origins) {
  const origin = req.headers.origin;
  if (origin !== undefined && !origins.has(origin.toLowerCase())) {
    return [
      403,
      "forbidden_origin",
      `Origin '${origin}' may not send ${req.method} requests here; only pages of this dashboard ` +
        `(${[...origins].join(", ")}) may`,
    ];
  }
  if (String(req.headers["sec-fetch-site"]).toLowerCase() === "cross-site") {
    return [
      403,
      "forbidden_origin",
      `a cross-site page (Sec-Fetch-Site: cross-site${origin ? `, Origin '${origin}'` : ""}) may not send ` +
        `${req.method} requests here`,
    ];
  }
  return null;
}

/** Part two: a foreign page may send text/plain, form or multipart bodies without the browser
 * asking first (CORS "simple" requests), but never application/json. An empty body needs the
 * header too, or a bodiless form POST would pass. */
function checkContentType(req) {
  const received = req.headers["content-type"];
  const mediaType = String(received ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType === "application/json") return null;
  const what = received === undefined ? "no Content-Type header" : `Content-Type '${received}'`;
  return [
    415,
    "unsupported_media_type",
    `${req.method} requests to /api/* must send Content-Type: application/json; got ${what}`,
  ];
}

/** A declared body over the trainer's limit is refused here: sending it on would only have the
 * trainer close the connection mid-upload, which reached the browser as a 502. */
function checkDeclaredSize(req, maxBodyBytes) {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!(declared > maxBodyBytes)) return null;
  return [413, "payload_too_large", tooLargeDetail(declared, maxBodyBytes)];
}

function tooLargeDetail(size, max, over = false) {
  // Worded and formatted as the trainer words it (acc/api/validation.py).
  const n = (value) => value.toLocaleString("en-US");
  return over ? `the body is over ${n(max)} bytes` : `the body is ${n(size)} bytes; at most ${n(max)} allowed`;
}

/** The checks of a request to /api/*, in order: who sent it, then what it carries. */
function checkApiRequest(req, origins, maxBodyBytes) {
  if (SAFE_METHODS.has(req.method)) return checkDeclaredSize(req, maxBodyBytes);
  return checkOrigin(req, origins) ?? checkContentType(req) ?? checkDeclaredSize(req, maxBodyBytes);
}

function refuse(res, [status, error, detail]) {
  sendJSON(res, status, { error, detail });
}

// ---- /api proxy ----------------------------------------------------------------------------

/** Passes bytes through until more than `max` went by; then drops the rest and calls onOver
 * once (chunked bodies declare no size, so they are counted on the way). */
function byteLimit(max, onOver) {
  let seen = 0;
  return new Transform({
    transform(chunk, _encoding, done) {
      seen += chunk.length;
      if (seen <= max) return done(null, chunk);
      if (seen - chunk.length <= max) onOver();
      done();
    },
  });
}

/** Whether a request carries a body (a declared non-zero length, or chunks). */
function hasBody(req) {
  const declared = req.headers["content-length"];
  if (declared !== undefined) return Number(declared) > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

/** Read and drop what is left of a request body, so the connection can carry the next one. */
function discardBody(req) {
  req.unpipe();
  req.resume();
}

function createProxy(trainer, { maxBodyBytes, origins }) {
  const client = trainer.protocol === "https:" ? https : http;
  // One connection per request: on localhost it costs well under a millisecond, and it avoids
  // reusing a kept-alive socket the trainer is just closing (a spurious 502 on a POST).
  const agent = new client.Agent({ keepAlive: false });
  const basePath = trainer.pathname.replace(/\/+$/, "");
  let down = false; // log changes of reachability, not every failed poll

  function proxy(req, res, apiPath) {
    const headers = forwardableHeaders(req.headers);
    // Writes reach here with no Origin or this site's own (checkApiRequest has checked it). The
    // trainer, not knowing this server's port, would take this site's origin for a foreign one,
    // so it goes; a foreign Origin on a read stays, for the trainer to judge.
    if (headers.origin !== undefined && origins.has(headers.origin.toLowerCase())) delete headers.origin;
    headers.host = trainer.host;
    // The browser's own Expect (if any) was answered by this server already.
    delete headers.expect;
    // A body goes to the trainer once it asks for it. A trainer that answers without reading the
    // body (unknown route, a refused request) closes the connection; body bytes still on the way
    // then fail with EPIPE before its answer is read, and the browser got a 502 instead of it.
    const withBody = hasBody(req);
    if (withBody) headers.expect = "100-continue";
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

    let responded = false; // the trainer has answered: its answer is what the browser gets
    let bodySent = false;
    upstream.on("response", (up) => {
      responded = true;
      if (!bodySent) discardBody(req); // answered without wanting the body
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
      pipeline(up, res, () => {
        if (!bodySent) upstream.destroy(); // the trainer waits for a body that is not coming
      });
    });

    let abandoned = false; // the browser went away first: the upstream error that follows is ours
    upstream.on("error", (err) => {
      discardBody(req);
      // After the trainer answered, an error is its side closing while the body was still being
      // sent (it refused the body early) or a cut answer: pipeline(up, res) passes the answer
      // on, or closes the browser's connection when it was cut (EventSource then retries).
      if (abandoned || responded) return;
      if (res.headersSent) {
        res.destroy();
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
    const limit = byteLimit(maxBodyBytes, () => {
      discardBody(req);
      if (responded) return; // the trainer refused it first: its answer goes through
      abandoned = true;
      upstream.destroy();
      refuse(res, [413, "payload_too_large", tooLargeDetail(0, maxBodyBytes, true)]);
    });
    const sendBody = () => {
      if (bodySent || responded || abandoned) return;
      bodySent = true;
      req.pipe(limit).pipe(upstream);
    };
    if (!withBody) return sendBody();
    upstream.once("continue", sendBody);
    // A trainer that ignores Expect gets the body anyway, a moment later (as curl does).
    const wait = setTimeout(sendBody, CONTINUE_WAIT_MS);
    upstream.once("close", () => clearTimeout(wait));
    upstream.flushHeaders();
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
  const { port, host, trainer, dist, allowedHosts, timeouts } = parseArgs(process.argv.slice(2));
  if (!(await statOrNull(path.join(dist, "index.html")))?.isFile()) {
    fail(`no built dashboard in ${dist}: run 'npm run build' (or ./run_ui.sh, which builds it)`, 1);
  }
  const maxBodyBytes = await readBodyLimit();

  const serveStatic = createStaticHandler(dist, await readStaticSite());
  // Filled in once listening: with --port 0 the port (part of this site's origin) is known only then.
  const origins = new Set();
  const proxy = createProxy(trainer, { maxBodyBytes, origins });

  const serverOptions = {
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
    requireHostHeader: false, // a request without Host gets checkHost's 403, which says why
  };
  const server = http.createServer(serverOptions, (req, res) => {
    const badHost = checkHost(req, allowedHosts);
    if (badHost) return refuse(res, badHost);
    let url;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      return sendText(res, 400, "Bad request");
    }
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
      const refused = checkApiRequest(req, origins, maxBodyBytes);
      if (refused) return refuse(res, refused); // an unread body is drained by Node
      return proxy(req, res, (url.pathname.slice(4) || "/") + url.search);
    }
    serveStatic(req, res, url.pathname).catch((err) => {
      console.error(`acc dashboard: ${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendText(res, 500, "Internal server error");
      else res.destroy();
    });
  });
  setTimeouts(server, timeouts);

  server.on("error", (err) => {
    if (err.code === "EADDRINUSE") {
      fail(`${host}:${port} is already in use (another acc dashboard?); pick one with --port or ACC_UI_PORT`, 1);
    }
    fail(err.message, 1);
  });

  server.listen(port, host, () => {
    const { port: actual } = server.address();
    for (const origin of ownOrigins(allowedHosts, actual)) origins.add(origin);
    const shownHost = host.includes(":") ? `[${host}]` : host;
    console.log(`acc dashboard: http://${shownHost}:${actual}/`);
    console.log(`acc dashboard: answers for Host ${showHosts(allowedHosts)} (more with --allow-host)`);
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

/**
 * Slow or silent clients must not hold connections open for ever. In Node 20, headersTimeout and
 * requestTimeout run from when a connection opens (or its previous request ended) until the
 * request head / the whole request has arrived, so a connection that never sends a request is
 * answered 408 and closed after headersTimeout (checked every CONNECTIONS_CHECK_MS). Neither
 * covers the answer: an event stream lasts as long as the trainer keeps it open
 * (tests/e2e/test_proxy_security.py checks both).
 */
function setTimeouts(server, timeouts) {
  server.headersTimeout = timeouts.header;
  server.requestTimeout = timeouts.request;
  server.keepAliveTimeout = timeouts.keepAlive;
  // Backstop, not relying on those Node internals: a new connection quiet for a little longer
  // than headersTimeout is dropped. Off once its first request has arrived (Node then runs the
  // socket's timer itself for keepAliveTimeout), so a quiet event stream is not cut.
  const idleMs = timeouts.header + 2 * CONNECTIONS_CHECK_MS;
  server.on("connection", (socket) => socket.setTimeout(idleMs)); // Node destroys it on timeout
  server.on("request", (req) => {
    if (!req.socket[kGotRequest]) {
      req.socket[kGotRequest] = true;
      req.socket.setTimeout(0);
    }
  });
}

main();
