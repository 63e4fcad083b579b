// Display formatting shared by the islands. Fixed "en-US" so numbers read the same for everyone
// (and tests): 10000 -> "10,000".

const countFormat = new Intl.NumberFormat("en-US");

export function formatCount(n: number): string {
  return countFormat.format(n);
}

/** Local wall-clock time, "14:03:22". */
export function formatClock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString("en-GB", { hour12: false });
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function formatAgo(epochMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - epochMs) / 1000));
  // Under 3 s: a label polled every 2 s stays "just now" instead of flickering to "2 s ago".
  if (s < 3) return "just now";
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  return `${Math.floor(min / 60)} h ago`;
}

/** 0.9 -> "90%", 0.125 -> "12.5%" */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  return `${Number.isInteger(pct) ? pct : pct.toFixed(1)}%`;
}

/** A measured value for display: 4 significant digits, exponent form when very small or large;
 * "—" for a missing value and "NaN" / "+Inf" / "−Inf" for non-finite ones. */
export function formatValue(x: number | null | undefined): string {
  if (x === null || x === undefined) return "—";
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "−Inf";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs < 1e-3 || abs >= 1e5) return x.toExponential(2).replace("-", "−");
  return x.toPrecision(4).replace("-", "−");
}

/** A signed change, "+0.0123" / "−0.0040". */
export function formatDelta(x: number): string {
  const text = formatValue(Math.abs(x));
  return `${x < 0 ? "−" : "+"}${text}`;
}

/** 1536 -> "1.5 KB", 1888208 -> "1.8 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** 850 -> "850 ms", 4210 -> "4.2 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
