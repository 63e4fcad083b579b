// The only module that calls `fetch`. Every trainer route lives under /api on the page's own
// origin; the UI server (server/serve.mjs, or the Astro dev server) strips the prefix and proxies.

export const API_BASE = "/api";

/** Statuses the UI server uses when it cannot reach the trainer at all. */
const UNREACHABLE_STATUSES = new Set([502, 503, 504]);

/** Default time limit for one request; a trainer that hangs must not stall polling. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A failed API call. The trainer answers errors as `{"error": "<code>", "detail": "<sentence>"}`;
 * the request never reaching an HTTP answer is `status: 0` with `error` "network_error" or "timeout".
 */
export class ApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly detail: string;
  /** The last frames of the Python traceback, when a training step raised (`step_failed`). */
  readonly traceback: string | null;

  constructor(status: number, error: string, detail: string, traceback: string | null = null) {
    super(detail ? `${error}: ${detail}` : error);
    this.name = "ApiError";
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.traceback = traceback;
  }

  /** True when the trainer process could not be reached (not when it answered with an error). */
  get unreachable(): boolean {
    return this.status === 0 || UNREACHABLE_STATUSES.has(this.status);
  }
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Milliseconds before the request is aborted as "timeout"; 0 for none. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** `GET /api<path>` and parse the JSON answer. `path` starts with "/", e.g. "/health". */
export async function fetchJSON<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, { method: "GET" }, options);
  return (await res.json()) as T;
}

/** `POST /api<path>` with a JSON body and parse the JSON answer. */
export async function postJSON<T>(
  path: string,
  body: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const res = await request(
    path,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    options,
  );
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/**
 * `DELETE /api<path>` and parse the JSON answer. It carries the JSON content type though it has no
 * body: the UI server's write checks ask every write for it.
 */
export async function deleteJSON<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, { method: "DELETE", headers: { "content-type": "application/json" } }, options);
  return (await res.json()) as T;
}

/** The content type of the binary step frame (architecture.md, "Wire format"). */
export const FRAME_CONTENT_TYPE = "application/x-acc-frame";

export interface FrameRequestOptions extends RequestOptions {
  /** "POST" sends `body` as JSON; default "GET". */
  method?: "GET" | "POST";
  body?: unknown;
}

/**
 * Ask for a binary step frame (`Accept: application/x-acc-frame`) and return its raw bytes;
 * `tensor-frame.ts` decodes them. `GET` by default, e.g. `/inspect/step/3`; `POST` with a JSON
 * body for `/inspect/step`. Errors are JSON like everywhere else and throw `ApiError`.
 */
export async function fetchFrame(path: string, options: FrameRequestOptions = {}): Promise<ArrayBuffer> {
  const { method = "GET", body, ...rest } = options;
  const init: RequestInit =
    method === "POST"
      ? {
          method,
          headers: { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }
      : { method };
  const res = await request(path, init, { ...rest, headers: { accept: FRAME_CONTENT_TYPE, ...rest.headers } });
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith(FRAME_CONTENT_TYPE)) {
    throw new ApiError(
      res.status,
      "not_a_frame",
      `${API_BASE}${path} answered ${type || "no content type"} instead of ${FRAME_CONTENT_TYPE}`,
    );
  }
  return res.arrayBuffer();
}

async function request(path: string, init: RequestInit, options: RequestOptions): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));

  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      ...init,
      headers: { accept: "application/json", ...init.headers, ...options.headers },
      signal: signals.length ? AbortSignal.any(signals) : undefined,
      cache: "no-store",
    });
  } catch (err) {
    // The caller's own abort is not an API failure; let it through untouched.
    if (options.signal?.aborted) throw err;
    if (err instanceof DOMException && err.name === "TimeoutError") {
      throw new ApiError(0, "timeout", `No answer from ${API_BASE}${path} within ${timeoutMs} ms`);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new ApiError(0, "network_error", `Could not reach ${API_BASE}${path}: ${message}`);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown; traceback?: unknown };
    if (typeof body.error === "string") {
      return new ApiError(
        res.status,
        body.error,
        typeof body.detail === "string" ? body.detail : "",
        typeof body.traceback === "string" ? body.traceback : null,
      );
    }
  } catch {
    // Not JSON: a proxy page or a crash; fall through and keep the start of the text.
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(
    res.status,
    `http_${res.status}`,
    snippet || res.statusText || `HTTP ${res.status} from ${res.url}`,
  );
}

// ---- server-sent events ----------------------------------------------------------------------

/** How an event stream is doing: "open" while events flow, "retrying" between attempts. */
export type EventStreamStatus = "connecting" | "open" | "retrying";

export interface EventStreamOptions {
  /** One handler per event name; `data` is the event's JSON, parsed. */
  events: Record<string, (data: unknown) => void>;
  /** Called on every change of the connection's status. */
  onStatus?: (status: EventStreamStatus) => void;
  /** First wait before reconnecting a stream the browser gave up on; doubled up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Listen to `GET /api<path>` as server-sent events (`EventSource`, no polling) until the returned
 * function is called. The browser reconnects a dropped stream by itself; one it gave up on (the
 * UI server answered 502 because the trainer is down) is reopened here with a growing wait.
 * An event whose data is not JSON is skipped.
 */
export function openEventStream(path: string, options: EventStreamOptions): () => void {
  const { events, onStatus, retryMs = 1_000, maxRetryMs = 8_000 } = options;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wait = retryMs;
  let closed = false;

  const connect = () => {
    if (closed) return;
    onStatus?.("connecting");
    const es = new EventSource(API_BASE + path);
    source = es;
    es.onopen = () => {
      wait = retryMs;
      onStatus?.("open");
    };
    es.onerror = () => {
      if (closed) return;
      onStatus?.("retrying");
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        timer = setTimeout(connect, wait);
        wait = Math.min(maxRetryMs, wait * 2);
      }
    };
    for (const [name, handler] of Object.entries(events)) {
      es.addEventListener(name, (event) => {
        let data: unknown;
        try {
          data = JSON.parse((event as MessageEvent<string>).data);
        } catch {
          return;
        }
        handler(data);
      });
    }
  };

  connect();
  return () => {
    closed = true;
    clearTimeout(timer);
    source?.close();
    source = null;
  };
}
