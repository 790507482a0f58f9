import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerConfigCredentials, parseChallenges } from './registry-auth';

describe('parseChallenges', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull',
        },
      },
    ]);
  });

  it('reads several challenges and Basic', () => {
    expect(parseChallenges('Basic realm="Registry Realm", Bearer realm="https://r/token"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'https://r/token' } },
    ]);
  });

  it('ignores schemes it cannot answer', () => {
    expect(parseChallenges('Negotiate abc')).toEqual([]);
  });
});

describe('dockerConfigCredentials', () => {
  it('finds credentials by registry, with Docker Hub under its legacy key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-docker-config-'));
    try {
      const file = join(dir, 'config.json');
      const auth = (text: string): { auth: string } => ({ auth: Buffer.from(text).toString('base64') });
      writeFileSync(
        file,
        JSON.stringify({
          auths: { 'https://index.docker.io/v1/': auth('hub:pw'), 'localhost:5000': auth('me:p:w') },
        }),
      );
      const credentials = dockerConfigCredentials(file);
      expect(credentials('docker.io')).toEqual({ username: 'hub', password: 'pw' });
      expect(credentials('localhost:5000')).toEqual({ username: 'me', password: 'p:w' });
      expect(credentials('quay.io')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
