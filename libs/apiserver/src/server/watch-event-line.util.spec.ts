import type { KubeObject, WatchEvent } from '@flotilla/api';
import { watchEventLine } from './watch-event-line.util';

// The watch cache keeps objects without their type meta; watchers add it per event.
const cached = (name: string, phase: string): KubeObject =>
  ({
    metadata: { name, resourceVersion: '7' },
    spec: { nodeName: 'n1' },
    status: { phase },
  }) as unknown as KubeObject;
const typed = (object: KubeObject): KubeObject => ({ ...object, apiVersion: 'v1', kind: 'Pod' });

describe('watchEventLine', () => {
  it('writes what JSON.stringify writes, with or without a shared source', () => {
    const source = cached('a', 'Running');
    const event: WatchEvent = { type: 'MODIFIED', object: typed(source) };
    expect(watchEventLine(event)).toBe(JSON.stringify(event) + '\n');
    expect(watchEventLine(event, source)).toBe(JSON.stringify(event) + '\n');
  });

  it('shares one encoding among watchers that see the same object as different event types', () => {
    const source = cached('b', 'Pending');
    const modified: WatchEvent = { type: 'MODIFIED', object: typed(source) };
    const added: WatchEvent = { type: 'ADDED', object: typed(source) };
    const deleted: WatchEvent = { type: 'DELETED', object: typed(source) };
    for (const event of [modified, added, deleted]) {
      expect(watchEventLine(event, source)).toBe(JSON.stringify(event) + '\n');
    }
  });

  it('encodes a new source, and the same source under another type meta, afresh', () => {
    const first = cached('c', 'Pending');
    const second = cached('c', 'Running');
    expect(watchEventLine({ type: 'MODIFIED', object: typed(first) }, first)).toContain('"Pending"');
    expect(watchEventLine({ type: 'MODIFIED', object: typed(second) }, second)).toContain('"Running"');
    const otherKind: WatchEvent = {
      type: 'MODIFIED',
      object: { ...second, apiVersion: 'v1', kind: 'Other' },
    };
    expect(watchEventLine(otherKind, second)).toBe(JSON.stringify(otherKind) + '\n');
  });

  it('encodes error and bookmark events, which have no source, on their own', () => {
    const bookmark: WatchEvent = {
      type: 'BOOKMARK',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: '9' } } as KubeObject,
    };
    expect(watchEventLine(bookmark)).toBe(JSON.stringify(bookmark) + '\n');
  });
});
