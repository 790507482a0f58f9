import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAdminToken, ensureClusterPki } from './cluster-pki';

describe('cluster PKI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-pki-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('issues an apiserver certificate that the CA verifies, with every host as a SAN', () => {
    const pki = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1', 'localhost', '10.9.0.1'] });
    const verify = spawnSync('openssl', ['verify', '-CAfile', pki.caCertFile, pki.apiserver.certFile], {
      encoding: 'utf8',
    });
    expect(verify.stdout).toContain(': OK');
    const text = spawnSync('openssl', ['x509', '-in', pki.apiserver.certFile, '-noout', '-text'], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toContain('IP Address:127.0.0.1');
    expect(text).toContain('DNS:localhost');
    expect(text).toContain('IP Address:10.9.0.1');
    expect(statSync(pki.caKeyFile).mode & 0o077).toBe(0);
  });

  it('issues the apiserver a client certificate for node agents, verified by the CA for client use', () => {
    const pki = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1'] });
    const verify = spawnSync(
      'openssl',
      ['verify', '-purpose', 'sslclient', '-CAfile', pki.caCertFile, pki.apiserverAgentClient.certFile],
      { encoding: 'utf8' },
    );
    expect(verify.stdout).toContain(': OK');
    const subject = spawnSync(
      'openssl',
      ['x509', '-in', pki.apiserverAgentClient.certFile, '-noout', '-subject'],
      {
        encoding: 'utf8',
      },
    ).stdout;
    expect(subject).toMatch(/CN ?= ?flotilla-apiserver/);
  });

  it('keeps the CA and certificate across calls and reissues when the hosts change', () => {
    const first = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1'] });
    const ca = readFileSync(first.caCertFile, 'utf8');
    const cert = readFileSync(first.apiserver.certFile, 'utf8');
    const second = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1'] });
    expect(readFileSync(second.apiserver.certFile, 'utf8')).toBe(cert);
    const third = ensureClusterPki({ dir, apiserverHosts: ['127.0.0.1', 'flotilla.local'] });
    expect(readFileSync(third.caCertFile, 'utf8')).toBe(ca);
    expect(readFileSync(third.apiserver.certFile, 'utf8')).not.toBe(cert);
  });

  it('creates one admin token and returns it again later', () => {
    const file = join(dir, 'tokens.csv');
    const token = ensureAdminToken(file);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(ensureAdminToken(file)).toBe(token);
    expect(readFileSync(file, 'utf8')).toBe(`${token},admin,admin,"system:masters"\n`);
  });
});
