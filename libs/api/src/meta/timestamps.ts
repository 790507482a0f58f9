// Kubernetes writes metadata and condition timestamps with second precision: 2026-11-23T10:00:00Z.
// Every create stamps one; the last second's text is kept, so a busy second formats it once.
let lastSecond = Number.NaN;
let lastText = '';

export function kubeTimestamp(date: Date = new Date()): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    // toISOString's ".sssZ" tail (also after the six-digit years past 9999) becomes "Z".
    lastText = `${date.toISOString().slice(0, -5)}Z`;
    lastSecond = second;
  }
  return lastText;
}
