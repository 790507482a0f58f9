import { resources, testNode, testPod } from '../framework/scheduling.fixture';
import { SchedulerCache } from './scheduler-cache';

const requestedOn = (cache: SchedulerCache, node: string) =>
  cache.nodeInfos().find((info) => info.node.name === node)?.requested;

describe('SchedulerCache', () => {
  it('sums the requests of bound pods per node and counts replicas per owner', () => {
    const cache = new SchedulerCache();
    cache.setNode(testNode('a'));
    cache.setNode(testNode('b'));
    cache.upsertPod(testPod('x', { nodeName: 'a', requests: resources(100, 1), ownerUid: 'rs' }));
    cache.upsertPod(testPod('y', { nodeName: 'a', requests: resources(200, 1), ownerUid: 'rs' }));
    cache.upsertPod(testPod('pending'));
    expect(requestedOn(cache, 'a')).toEqual(resources(300, 2, 2));
    expect(requestedOn(cache, 'b')).toEqual(resources(0, 0, 0));
    expect(cache.nodeInfos()[0]?.ownerCounts.get('rs')).toBe(2);
  });

  it('moves, removes and re-reads pods without double counting', () => {
    const cache = new SchedulerCache();
    cache.setNode(testNode('a'));
    cache.setNode(testNode('b'));
    const pod = testPod('x', { nodeName: 'a', requests: resources(100, 1) });
    cache.upsertPod(pod);
    cache.upsertPod(pod);
    expect(requestedOn(cache, 'a')).toEqual(resources(100, 1, 1));
    cache.upsertPod({ ...pod, nodeName: 'b' });
    expect(requestedOn(cache, 'a')).toEqual(resources(0, 0, 0));
    expect(requestedOn(cache, 'b')).toEqual(resources(100, 1, 1));
    cache.removePod(pod.key);
    expect(requestedOn(cache, 'b')).toEqual(resources(0, 0, 0));
  });

  it('counts assumed pods until the binding shows up, and forgets failed ones', () => {
    const cache = new SchedulerCache();
    cache.setNode(testNode('a'));
    const pod = testPod('x', { requests: resources(100, 1) });
    cache.assume(pod, 'a');
    expect(cache.isAssumed(pod.key)).toBe(true);
    // The informer still shows the pod unbound: the assumption stands.
    cache.upsertPod(pod);
    expect(requestedOn(cache, 'a')).toEqual(resources(100, 1, 1));
    cache.upsertPod({ ...pod, nodeName: 'a' });
    expect(cache.isAssumed(pod.key)).toBe(false);
    expect(requestedOn(cache, 'a')).toEqual(resources(100, 1, 1));

    const other = testPod('y', { requests: resources(100, 1) });
    cache.assume(other, 'a');
    cache.forget(other.key);
    expect(requestedOn(cache, 'a')).toEqual(resources(100, 1, 1));
  });

  it('keeps pods that arrive before their node and drops the node when it goes', () => {
    const cache = new SchedulerCache();
    cache.upsertPod(testPod('x', { nodeName: 'late', requests: resources(100, 1) }));
    cache.setNode(testNode('late'));
    expect(requestedOn(cache, 'late')).toEqual(resources(100, 1, 1));
    cache.removeNode('late');
    expect(cache.nodeInfos()).toHaveLength(0);
  });
});
