// Pull and push against a real registry (Debian's docker-registry) on loopback: anonymous, chunked
// uploads, digest verification of what the registry serves, and the Docker token flow with a token
// server that checks Basic credentials.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRegistry, stopProcess, type RunningRegistry } from '@flotilla/cluster';
import {
  ImageRootfsProvider,
  ImageStore,
  loadImageArchive,
  RegistryAuthError,
  RegistryClient,
  type RegistryProgress,
} from '@flotilla/runtime';
import { fixtureImage, ociArchive } from './images.fixtures';

let work: string;
let registry: RunningRegistry;
let source: ImageStore;

function newStore(name: string): ImageStore {
  return new ImageStore({ stateDir: join(work, name) });
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this test needs root (pulled layers are unpacked with their owners)');
  work = mkdtempSync(join(tmpdir(), 'flotilla-registry-'));
  registry = await startRegistry({
    dataDir: join(work, 'registry-data'),
    logDir: join(work, 'registry-logs'),
    port: await freePort(),
  });
  source = newStore('source');
  const image = await fixtureImage([
    [{ entry: { name: 'bin/app', type: 'file', mode: 0o755 }, body: randomBytes(200_000) }],
    [{ entry: { name: 'etc/app.conf', type: 'file' }, body: Buffer.from('port=8080\n') }],
  ]);
  writeFileSync(join(work, 'image.tar'), await ociArchive(image, 'docker.io/library/app:1'));
  await loadImageArchive(source, join(work, 'image.tar'));
});

afterAll(async () => {
  if (registry !== undefined) await stopProcess(registry.pid);
  rmSync(work, { recursive: true, force: true });
});

describe('registry client against docker-registry', () => {
  it('pushes by tag and pulls back by tag and by digest with the same content', async () => {
    const events: RegistryProgress[] = [];
    const client = new RegistryClient();
    const target = `${registry.address}/team/app:v1`;
    const digest = await client.push(source, 'app:1', { target, onProgress: (event) => events.push(event) });
    const local = await source.resolve('app:1');
    expect(digest).toBe(local.manifestDigest);
    expect(events.filter((event) => event.kind === 'blob-done')).toHaveLength(3);
    expect(events.at(-1)).toEqual({ kind: 'manifest', reference: target, digest });

    // A second push finds every blob already there.
    const again: RegistryProgress[] = [];
    await client.push(source, 'app:1', { target, onProgress: (event) => again.push(event) });
    expect(
      again
        .filter((event) => event.kind === 'blob-done')
        .every((event) => event.kind === 'blob-done' && event.skipped),
    ).toBe(true);

    const byTag = await client.pull(newStore('by-tag'), target);
    expect(byTag.manifestDigest).toBe(digest);
    expect(byTag.names).toEqual([`${registry.address}/team/app:v1`]);
    const store = newStore('by-digest');
    const byDigest = await client.pull(store, `${registry.address}/team/app@${digest}`);
    expect(byDigest.id).toBe(local.id);
    const [base] = await store.unpack(byDigest);
    expect(readdirSync(store.layers.diffDirectory(base?.chainId ?? ''))).toEqual(['bin']);
  });

  it('pushes by digest, untagged, and refuses a digest that is not the image', async () => {
    const client = new RegistryClient();
    const digest = (await source.resolve('app:1')).manifestDigest;
    expect(
      await client.push(source, 'app:1', { target: `${registry.address}/team/untagged@${digest}` }),
    ).toBe(digest);
    const pulled = await client.pull(newStore('untagged'), `${registry.address}/team/untagged@${digest}`);
    expect(pulled.manifestDigest).toBe(digest);
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(
      client.push(source, 'app:1', { target: `${registry.address}/team/untagged@${wrong}` }),
    ).rejects.toThrow(`names digest ${wrong}, but app:1 is ${digest}`);
  });

  it('uploads in chunks when a blob is larger than the chunk size', async () => {
    const target = `${registry.address}/team/chunked:v1`;
    const digest = await new RegistryClient({ chunkSize: 64 * 1024 }).push(source, 'app:1', { target });
    const pulled = await new RegistryClient().pull(newStore('chunked'), target);
    expect(pulled.manifestDigest).toBe(digest);
  });

  it('refuses a blob the registry serves with the wrong content and names the digests', async () => {
    const target = `${registry.address}/team/tampered:v1`;
    await new RegistryClient().push(source, 'app:1', { target });
    const config = (await source.resolve('app:1')).manifest.config.digest.slice(7);
    const data = join(
      work,
      'registry-data/docker/registry/v2/blobs/sha256',
      config.slice(0, 2),
      config,
      'data',
    );
    const original = readFileSync(data);
    writeFileSync(data, Buffer.from(original.toString().replace('linux', 'LINUX')));
    try {
      const store = newStore('tampered');
      await expect(new RegistryClient().pull(store, target)).rejects.toThrow(
        new RegExp(`hashes to sha256:[0-9a-f]{64}, expected sha256:${config}`),
      );
      expect(await store.list()).toEqual([]);
    } finally {
      writeFileSync(data, original);
    }
  });

  it('lets the container engine pull an image that is not on the node yet', async () => {
    const target = `${registry.address}/team/run-me:v1`;
    const client = new RegistryClient();
    await client.push(source, 'app:1', { target });
    const store = newStore('run-missing');
    const provider = new ImageRootfsProvider(store, {
      pullMissing: (reference) => client.pull(store, reference),
    });
    const prepared = await provider.prepare({
      containerId: 'c1',
      containerDir: join(work, 'run-missing-c1'),
      image: target,
    });
    expect(prepared.image.cmd).toEqual(['/bin/sh']);
    expect((await store.resolve(target)).names).toEqual([target]);
    await provider.release({ containerId: 'c1' });
  });

  it('answers a clear error for an image the registry does not have', async () => {
    await expect(
      new RegistryClient().pull(newStore('missing'), `${registry.address}/team/nothing:v1`),
    ).rejects.toThrow(`${registry.address}/team/nothing:v1 was not found on ${registry.address}`);
  });
});

describe('registry client with multi-platform images and Basic authentication', () => {
  it("pulls this host's variant out of a multi-platform index", async () => {
    const client = new RegistryClient();
    const other = newStore('other-variant');
    const variant = await fixtureImage([
      [{ entry: { name: 'variant', type: 'file' }, body: Buffer.from('the other platform') }],
    ]);
    writeFileSync(join(work, 'variant.tar'), await ociArchive(variant, 'docker.io/library/variant:1'));
    await loadImageArchive(other, join(work, 'variant.tar'));
    const hostDigest = await client.push(source, 'app:1', { target: `${registry.address}/team/multi:host` });
    const otherDigest = await client.push(other, 'variant:1', {
      target: `${registry.address}/team/multi:other`,
    });
    const hostArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    const entry = (digest: string, architecture: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: readFileSync(source.blobs.path(hostDigest)).length,
      platform: { os: 'linux', architecture },
    });
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...entry(otherDigest, 's390x'), size: readFileSync(other.blobs.path(otherDigest)).length },
        entry(hostDigest, hostArch),
      ],
    };
    const put = await fetch(`${registry.url}/v2/team/multi/manifests/latest`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
      body: JSON.stringify(index),
    });
    expect(put.status).toBe(201);
    const pulled = await client.pull(newStore('multi'), `${registry.address}/team/multi:latest`);
    expect(pulled.manifestDigest).toBe(hostDigest);
  });

  it('retries a blob download whose connection drops, and reports the retry', async () => {
    const target = `${registry.address}/team/flaky:v1`;
    await new RegistryClient().push(source, 'app:1', { target });
    const [registryHost, registryPort] = registry.address.split(':');
    let dropped = 0;
    const proxy = createServer((incoming, outgoing) => {
      const upstream = httpRequest(
        {
          host: registryHost,
          port: Number(registryPort),
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          // The first blob download dies after a few bytes, as on a flaky link.
          if (dropped === 0 && incoming.method === 'GET' && (incoming.url ?? '').includes('/blobs/sha256:')) {
            dropped++;
            answer.once('data', (chunk: Buffer) => {
              outgoing.write(chunk.subarray(0, 100));
              outgoing.socket?.destroy();
              answer.destroy();
            });
            return;
          }
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const events: RegistryProgress[] = [];
      const pulled = await new RegistryClient().pull(newStore('flaky'), `127.0.0.1:${port}/team/flaky:v1`, {
        onProgress: (event) => events.push(event),
      });
      expect(pulled.manifestDigest).toBe((await source.resolve('app:1')).manifestDigest);
      expect(dropped).toBe(1);
      expect(events.filter((event) => event.kind === 'blob-retry')).toEqual([
        expect.objectContaining({ kind: 'blob-retry', attempt: 2 }),
      ]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('answers a Basic challenge with the given credentials', async () => {
    const expected = `Basic ${Buffer.from('bob:hunter2').toString('base64')}`;
    const [registryHost, registryPort] = registry.address.split(':');
    const proxy = createServer((incoming, outgoing) => {
      if (incoming.headers.authorization !== expected) {
        outgoing.writeHead(401, { 'www-authenticate': 'Basic realm="flotilla-test"' }).end();
        return;
      }
      const headers = { ...incoming.headers };
      delete headers.authorization;
      const upstream = httpRequest(
        {
          host: registryHost,
          port: Number(registryPort),
          method: incoming.method,
          path: incoming.url,
          headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(upstream);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const target = `127.0.0.1:${port}/basic/app:v1`;
      await expect(new RegistryClient().pull(newStore('basic-anonymous'), target)).rejects.toThrow(
        /requires a login; pass --username\/--password/,
      );
      const client = new RegistryClient({ credentials: () => ({ username: 'bob', password: 'hunter2' }) });
      const digest = await client.push(source, 'app:1', { target });
      expect((await client.pull(newStore('basic'), target)).manifestDigest).toBe(digest);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('registry client with token authentication', () => {
  let tokenServer: Server;
  let secured: RunningRegistry;
  const issued: string[] = [];

  beforeAll(async () => {
    const keyFile = join(work, 'token.key');
    const certFile = join(work, 'token.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=flotilla-test-token',
      ],
      {
        stdio: 'ignore',
      },
    );
    const privateKey = createPrivateKey(readFileSync(keyFile));
    const kid = libtrustKeyId(
      createPublicKey(readFileSync(certFile)).export({ type: 'spki', format: 'der' }),
    );
    const tokenPort = await freePort();
    tokenServer = createServer((request, response) => {
      const url = new URL(request.url ?? '/', `http://127.0.0.1:${tokenPort}`);
      if (request.headers.authorization !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) {
        response.writeHead(401).end();
        return;
      }
      const access = url.searchParams.getAll('scope').map((scope) => {
        const [type, name, actions] = scope.split(':');
        return { type, name, actions: (actions ?? '').split(',') };
      });
      const now = Math.floor(Date.now() / 1000);
      const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ typ: 'JWT', alg: 'RS256', kid })}.${encode({
        iss: 'flotilla-test',
        sub: 'alice',
        aud: 'flotilla-registry',
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      })}`;
      const token = `${unsigned}.${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
      issued.push(url.searchParams.getAll('scope').join(' '));
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: 300 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(tokenPort, '127.0.0.1', resolve));
    secured = await startRegistry({
      dataDir: join(work, 'secured-data'),
      logDir: join(work, 'secured-logs'),
      port: await freePort(),
      tokenAuth: {
        realm: `http://127.0.0.1:${tokenPort}/token`,
        service: 'flotilla-registry',
        issuer: 'flotilla-test',
        rootCertBundle: certFile,
      },
    });
  });

  afterAll(async () => {
    if (secured !== undefined) await stopProcess(secured.pid);
    await new Promise((resolve) => tokenServer.close(resolve));
  });

  it('gets a bearer token with Basic credentials from the realm, then pushes and pulls', async () => {
    const client = new RegistryClient({ credentials: () => ({ username: 'alice', password: 's3cret' }) });
    const target = `${secured.address}/private/app:v1`;
    const digest = await client.push(source, 'app:1', { target });
    const pulled = await client.pull(newStore('secured'), target);
    expect(pulled.manifestDigest).toBe(digest);
    expect(issued).toContain('repository:private/app:pull,push');
    expect(issued).toContain('repository:private/app:pull');
  });

  it('says a login is needed when no credentials are given, and when they are wrong', async () => {
    const target = `${secured.address}/private/app:v1`;
    await expect(new RegistryClient().pull(newStore('anonymous'), target)).rejects.toThrow(RegistryAuthError);
    await expect(new RegistryClient().pull(newStore('anonymous'), target)).rejects.toThrow(
      /requires a login for repository:private\/app:pull; pass --username\/--password/,
    );
    const wrong = new RegistryClient({ credentials: () => ({ username: 'alice', password: 'nope' }) });
    await expect(wrong.pull(newStore('wrong'), target)).rejects.toThrow(/refused the credentials of alice/);
  });
});

/** libtrust's key ID (what docker-registry matches a token's "kid" against): base32 of the first 240 bits of sha256(SPKI). */
function libtrustKeyId(spki: Buffer): string {
  const hash = createHash('sha256').update(spki).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of hash) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let offset = 0; offset < bits.length; offset += 5)
    encoded += alphabet[parseInt(bits.slice(offset, offset + 5), 2)];
  return (encoded.match(/.{4}/g) ?? []).join(':');
}
