// Trainer health: `GET /api/health`, polled while any island shows it.
import { computed, map, onMount } from "nanostores";

import { ApiError, fetchJSON } from "./api";
import type { Health } from "./health-types";

/** How often the trainer is asked, whether it answered or not. */
export const HEALTH_POLL_MS = 2_000;

export interface TrainerHealthState {
  /** The last good answer; kept while the trainer is away so the panel can show it as stale. */
  health: Health | null;
  /** The last failure; null once the trainer answers again. */
  error: ApiError | null;
  /** Epoch ms of the last good answer. */
  updatedAt: number | null;
  /** Epoch ms of the last attempt, good or bad. */
  checkedAt: number | null;
}

export const $trainerHealth = map<TrainerHealthState>({
  health: null,
  error: null,
  updatedAt: null,
  checkedAt: null,
});

export type TrainerConnection = "connecting" | "online" | "unreachable" | "error";

/** "connecting" until the first answer; "unreachable" when /api cannot reach the trainer. */
export const $trainerConnection = computed($trainerHealth, ({ error, checkedAt }): TrainerConnection => {
  if (error) return error.unreachable ? "unreachable" : "error";
  return checkedAt === null ? "connecting" : "online";
});

let inFlight: Promise<void> | null = null;

/** Ask the trainer now (polling does this every HEALTH_POLL_MS). Concurrent calls share one request. */
export function refreshHealth(): Promise<void> {
  inFlight ??= (async () => {
    try {
      const health = await fetchJSON<Health>("/health", { timeoutMs: 5_000 });
      const now = Date.now();
      $trainerHealth.set({ health, error: null, updatedAt: now, checkedAt: now });
    } catch (err) {
      const error =
        err instanceof ApiError ? err : new ApiError(0, "client_error", err instanceof Error ? err.message : String(err));
      $trainerHealth.set({ ...$trainerHealth.get(), error, checkedAt: Date.now() });
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

onMount($trainerHealth, () => {
  // Astro renders the islands once at build time, and nanostores mounts a store even for a plain
  // get(); polling there would bake a failed request into the static HTML.
  if (typeof window === "undefined") return;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Wait for each answer before scheduling the next, so a slow trainer never gets a pile-up.
  const tick = async () => {
    await refreshHealth();
    if (!stopped) timer = setTimeout(tick, HEALTH_POLL_MS);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
});
