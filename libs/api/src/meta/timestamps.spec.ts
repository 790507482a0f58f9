import { kubeTimestamp } from './timestamps';

describe('kubeTimestamp', () => {
  it('writes timestamps with second precision', () => {
    expect(kubeTimestamp(new Date('2026-11-23T10:00:00.789Z'))).toBe('2026-11-23T10:00:00Z');
  });
});
