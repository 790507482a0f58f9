import type { ContainerStatus } from '@flotilla/api';
import { formatLogEntry, logSource, type LogSource } from './pod-logs.util';

function status(
  state: ContainerStatus['state'],
  lastState: ContainerStatus['lastState'] = {},
  containerID?: string,
): ContainerStatus {
  return {
    name: 'app',
    state,
    lastState,
    ready: false,
    restartCount: 0,
    image: 'x',
    imageID: '',
    ...(containerID ? { containerID } : {}),
  };
}
const c2 = { exitCode: 1, containerID: 'flotilla://c2' };

describe('logSource (kubelet validateContainerLogStatus)', () => {
  it.each<[string, ContainerStatus, boolean, LogSource]>([
    ['running', status({ running: {} }, {}, 'flotilla://c3'), false, { containerID: 'flotilla://c3' }],
    [
      'running, --previous',
      status({ running: {} }, { terminated: c2 }, 'flotilla://c3'),
      true,
      { containerID: 'flotilla://c2' },
    ],
    [
      'the worked example: back-off reads the last instance',
      status({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: c2 }, 'flotilla://c2'),
      false,
      { containerID: 'flotilla://c2' },
    ],
    [
      'the worked example with --previous',
      status({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: c2 }, 'flotilla://c2'),
      true,
      { containerID: 'flotilla://c2' },
    ],
    [
      'terminated',
      status({ terminated: { exitCode: 0, containerID: 'flotilla://c1' } }),
      false,
      { containerID: 'flotilla://c1' },
    ],
    [
      'no previous',
      status({ running: {} }, {}, 'flotilla://c1'),
      true,
      { error: 'previous terminated container "app" in pod "p" not found' },
    ],
    [
      'pulling failed',
      status({ waiting: { reason: 'ErrImagePull' } }),
      false,
      { error: 'container "app" in pod "p" is waiting to start: image can\'t be pulled' },
    ],
    [
      'back-off pulling',
      status({ waiting: { reason: 'ImagePullBackOff' } }),
      false,
      { error: 'container "app" in pod "p" is waiting to start: trying and failing to pull image' },
    ],
    [
      'being created',
      status({ waiting: { reason: 'ContainerCreating' } }),
      false,
      { error: 'container "app" in pod "p" is waiting to start: ContainerCreating' },
    ],
  ])('%s', (_label, given, previous, expected) => {
    expect(logSource(given, 'p', previous)).toEqual(expected);
  });
});

describe('formatLogEntry', () => {
  it.each([
    [{ time: '2026-11-23T10:00:00.000000001Z', content: 'hello', partial: false }, false, 'hello\n'],
    [
      { time: '2026-11-23T10:00:00.000000001Z', content: 'hello', partial: false },
      true,
      '2026-11-23T10:00:00.000000001Z hello\n',
    ],
    [{ time: 't', content: 'part', partial: true }, false, 'part'],
  ])('%j (timestamps %s)', (entry, timestamps, expected) => {
    expect(formatLogEntry(entry, timestamps)).toBe(expected);
  });
});
