// Go's time.Duration text, as Kubernetes writes and takes it: kubelet's flags ("5m0s"),
// metrics-server's PodMetrics.window ("15s", "10.5s"), kubectl's --timeout ("1h30m").
// Worked example: "1m30.5s" = 60 000 + 30 500 = 90 500 ms. As in Go, every number needs a unit
// except a lone "0", and signs and spaces are refused.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds (fractions kept: "1500us" is 1.5), or undefined when `text` is not a Go duration. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    const unit = match?.[2];
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * (UNIT_MS[unit] ?? Number.NaN);
    at = part.lastIndex;
  }
  return at === 0 || !Number.isFinite(total) ? undefined : total;
}
