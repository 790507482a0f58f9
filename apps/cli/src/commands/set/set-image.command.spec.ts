import type { KubeObject } from '@flotilla/api';
import { imagePatch } from './set-image.command';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'web:1' },
          { name: 'sidecar', image: 'proxy:1' },
        ],
        initContainers: [{ name: 'migrate', image: 'web:1' }],
      },
    },
  },
};

describe('imagePatch', () => {
  it.each<[string, Array<[string, string]>, unknown]>([
    ['one container', [['web', 'web:2']], { containers: [{ name: 'web', image: 'web:2' }] }],
    ['an init container', [['migrate', 'web:2']], { initContainers: [{ name: 'migrate', image: 'web:2' }] }],
    [
      'every container with *',
      [['*', 'web:3']],
      {
        containers: [
          { name: 'web', image: 'web:3' },
          { name: 'sidecar', image: 'web:3' },
        ],
        initContainers: [{ name: 'migrate', image: 'web:3' }],
      },
    ],
  ])('%s', (_why, images, spec) => {
    expect(imagePatch(deployment, new Map(images))).toEqual({ spec: { template: { spec } } });
  });

  it('refuses a container the template does not have, naming those it has', () => {
    expect(() => imagePatch(deployment, new Map([['db', 'x']]))).toThrow(
      'unable to find container named "db" (it has web, sidecar, migrate)',
    );
  });
});
