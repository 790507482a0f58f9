import { ControllerExpectations } from './expectations';

describe('ControllerExpectations', () => {
  let clock = 0;
  const expectations = () => new ControllerExpectations({ ttlMs: 1000, now: () => clock });

  beforeEach(() => {
    clock = 0;
  });

  it('trusts the cache for a key it knows nothing about', () => {
    expect(expectations().satisfied('ns/web')).toBe(true);
  });

  it('waits until every expected creation has been observed', () => {
    const subject = expectations();
    subject.expectCreations('ns/web', 2);
    subject.creationObserved('ns/web');
    expect(subject.satisfied('ns/web')).toBe(false);
    subject.creationObserved('ns/web');
    expect(subject.satisfied('ns/web')).toBe(true);
  });

  it('waits for the deletion of exactly the pods it deleted', () => {
    const subject = expectations();
    subject.expectDeletions('ns/web', ['ns/a', 'ns/b']);
    subject.deletionObserved('ns/web', 'ns/other');
    subject.deletionObserved('ns/web', 'ns/a');
    expect(subject.satisfied('ns/web')).toBe(false);
    subject.deletionObserved('ns/web', 'ns/b');
    expect(subject.satisfied('ns/web')).toBe(true);
  });

  it('stops waiting once the record is older than its TTL', () => {
    const subject = expectations();
    subject.expectCreations('ns/web', 3);
    clock = 1001;
    expect(subject.satisfied('ns/web')).toBe(true);
  });

  it('forgets a key whose owner is gone', () => {
    const subject = expectations();
    subject.expectCreations('ns/web', 1);
    subject.forget('ns/web');
    expect(subject.satisfied('ns/web')).toBe(true);
  });
});
