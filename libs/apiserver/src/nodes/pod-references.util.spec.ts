import type { Pod } from '@flotilla/api';
import { podReferences } from './pod-references.util';

const pod = (spec: Partial<NonNullable<Pod['spec']>>): Pod => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { containers: [], ...spec },
});

describe('podReferences', () => {
  it.each<[string, Pod, string[]]>([
    ['nothing', pod({ containers: [{ name: 'a', image: 'busybox' }] }), []],
    [
      'envFrom and env',
      pod({
        containers: [
          {
            name: 'a',
            image: 'busybox',
            envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' } }],
            env: [
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'modes', key: 'mode' } } },
              { name: 'PLAIN', value: 'x' },
            ],
          },
        ],
      }),
      ['ConfigMap/settings', 'Secret/creds', 'Secret/db', 'ConfigMap/modes'],
    ],
    [
      'init containers, volumes and pull secrets',
      pod({
        initContainers: [{ name: 'i', image: 'busybox', envFrom: [{ configMapRef: { name: 'init' } }] }],
        containers: [{ name: 'a', image: 'busybox' }],
        volumes: [
          { name: 'c', configMap: { name: 'files' } },
          { name: 's', secret: { secretName: 'tls' } },
          { name: 'e', emptyDir: {} },
        ],
        imagePullSecrets: [{ name: 'registry' }],
      }),
      ['ConfigMap/init', 'ConfigMap/files', 'Secret/tls', 'Secret/registry'],
    ],
  ])('%s', (_case, input, expected) => {
    expect([...podReferences(input)]).toEqual(expected);
  });
});
