import { isWatchQuery, segmentsOf } from './api-dispatcher';

describe('segmentsOf', () => {
  it.each([
    ['/api', ['api']],
    ['/api/v1/namespaces/default/pods?watch=true', ['api', 'v1', 'namespaces', 'default', 'pods']],
    ['/apis/apps/v1//deployments/', ['apis', 'apps', 'v1', 'deployments']],
    ['/api/v1/namespaces/a%3Ab/configmaps', ['api', 'v1', 'namespaces', 'a:b', 'configmaps']],
  ])('%s → %j', (url, segments) => {
    expect(segmentsOf(url)).toEqual(segments);
  });

  it('refuses a path that is not valid URL encoding with a 400 naming it', () => {
    expect(() => segmentsOf('/api/v1/namespaces/%E0%A4%A')).toThrow(
      expect.objectContaining({ code: 400, message: expect.stringContaining('/api/v1/namespaces/%E0%A4%A') }),
    );
  });
});

describe('isWatchQuery', () => {
  it.each([
    [{ watch: 'true' }, true],
    [{ watch: '1' }, true],
    [{ watch: 'false' }, false],
    [{ watch: ['true', 'true'] }, false],
    [{}, false],
  ])('%j → %s', (query, watching) => {
    expect(isWatchQuery(query)).toBe(watching);
  });
});
