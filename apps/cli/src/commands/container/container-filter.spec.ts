import type { FilteredContainer } from './container-filter';
import { filterWantsAll, matchesFilter, parseContainerFilters } from './container-filter';

const web: FilteredContainer = {
  name: 'shop-web',
  spec: { labels: { tier: 'front', beta: '' } },
  state: { status: 'running' },
};
const batch: FilteredContainer = { name: 'nightly', spec: {}, state: { status: 'stopped' } };

function matching(...filters: string[]): string[] {
  const filter = parseContainerFilters(filters);
  return [web, batch].filter((info) => matchesFilter(info, filter)).map((info) => info.name);
}

describe('container ps --filter', () => {
  it('matches labels by key or key and value, all of them', () => {
    expect(matching('label=tier')).toEqual(['shop-web']);
    expect(matching('label=tier=front')).toEqual(['shop-web']);
    expect(matching('label=tier=back')).toEqual([]);
    expect(matching('label=beta=')).toEqual(['shop-web']);
    expect(matching('label=tier', 'label=missing')).toEqual([]);
  });

  it('matches any of several names (a part of the name) and statuses, exited for a stopped container', () => {
    expect(matching('name=web')).toEqual(['shop-web']);
    expect(matching('name=web', 'name=night')).toEqual(['shop-web', 'nightly']);
    expect(matching('status=exited')).toEqual(['nightly']);
    expect(matching('status=exited', 'status=running')).toEqual(['shop-web', 'nightly']);
    expect(matching('status=running', 'name=night')).toEqual([]);
  });

  it('looks past running containers only for a status filter', () => {
    expect(filterWantsAll(parseContainerFilters(['status=exited']))).toBe(true);
    expect(filterWantsAll(parseContainerFilters(['label=tier']))).toBe(false);
  });

  it.each(['label', 'label=', 'name=', 'status=paused', 'ancestor=busybox', 'status'])(
    'refuses %j as a usage error',
    (text) => {
      expect(() => parseContainerFilters([text])).toThrow(/--filter/);
    },
  );
});
