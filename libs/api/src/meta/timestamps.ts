// Kubernetes writes metadata and condition timestamps with second precision: 2026-11-23T10:00:00Z.
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
