// Which container instance `logs` reads, by kubelet's validateContainerLogStatus: --previous reads the
// last terminated instance (lastState), otherwise the running one, else the one that just ended; a
// container that never ran says why it has no logs. And how lines are written out: the content with
// its newline (partial lines joined), optionally after the RFC 3339 timestamp.
//
// Worked example: a container in CrashLoopBackOff (state waiting, lastState terminated with ID c2)
// reads c2 with or without --previous; once c3 runs, plain logs read c3 and --previous still c2.
import type { ContainerStatus } from '@flotilla/api';

export type LogSource = { containerID: string } | { error: string };

export function logSource(status: ContainerStatus, podName: string, previous: boolean): LogSource {
  const name = status.name;
  const state = status.state ?? {};
  const last = status.lastState?.terminated;
  if (previous) {
    if (!last?.containerID)
      return { error: `previous terminated container "${name}" in pod "${podName}" not found` };
    return { containerID: last.containerID };
  }
  if (state.running && status.containerID) return { containerID: status.containerID };
  if (state.terminated) {
    const id = state.terminated.containerID ?? last?.containerID;
    return id ? { containerID: id } : { error: `container "${name}" in pod "${podName}" is terminated` };
  }
  if (last) {
    return last.containerID
      ? { containerID: last.containerID }
      : { error: `container "${name}" in pod "${podName}" is terminated` };
  }
  const reason = state.waiting?.reason;
  if (reason === 'ErrImagePull')
    return { error: `container "${name}" in pod "${podName}" is waiting to start: image can't be pulled` };
  if (reason === 'ImagePullBackOff') {
    return {
      error: `container "${name}" in pod "${podName}" is waiting to start: trying and failing to pull image`,
    };
  }
  if (reason !== undefined)
    return { error: `container "${name}" in pod "${podName}" is waiting to start: ${reason}` };
  return { error: `container "${name}" in pod "${podName}" is waiting to start - no logs yet` };
}

/** One log entry as `kubectl logs` prints it. */
export function formatLogEntry(
  entry: { time: string; content: string; partial: boolean },
  timestamps: boolean,
): string {
  return `${timestamps ? `${entry.time} ` : ''}${entry.content}${entry.partial ? '' : '\n'}`;
}
