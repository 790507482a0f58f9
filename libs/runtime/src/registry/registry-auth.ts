// Registry authentication: the WWW-Authenticate challenge (Bearer token flow or Basic), credentials from
// the caller or Docker's config.json, and tokens cached per scope.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export type CredentialSource = (registry: string) => Credentials | undefined;

export interface Challenge {
  readonly scheme: 'bearer' | 'basic';
  readonly params: Readonly<Record<string, string>>;
}

export class RegistryAuthError extends Error {
  override readonly name = 'RegistryAuthError';
}

/** Parses `Bearer realm="...",service="...",scope="..."` (several challenges may be listed). */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const schemes = [...header.matchAll(/(?:^|,)\s*(Bearer|Basic)\b/gi)];
  for (const [position, match] of schemes.entries()) {
    const start = (match.index ?? 0) + match[0].length;
    const end = schemes[position + 1]?.index ?? header.length;
    const params: Record<string, string> = {};
    for (const param of header
      .slice(start, end)
      .matchAll(/([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[(param[1] ?? '').toLowerCase()] = (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1');
    }
    challenges.push({ scheme: (match[1] ?? '').toLowerCase() === 'bearer' ? 'bearer' : 'basic', params });
  }
  return challenges;
}

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Credentials for a registry from Docker's ~/.docker/config.json ("auths"), when present. */
export function dockerConfigCredentials(
  configPath = join(process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json'),
): CredentialSource {
  let auths: Record<string, { auth?: string }> = {};
  try {
    const parsed = JSON.parse(readFileSync(configPath, 'utf8')) as {
      auths?: Record<string, { auth?: string }>;
    };
    auths = parsed.auths ?? {};
  } catch {
    // no Docker config: anonymous
  }
  return (registry) => {
    const keys =
      registry === 'docker.io'
        ? ['https://index.docker.io/v1/', 'docker.io', 'index.docker.io']
        : [registry, `https://${registry}`, `http://${registry}`];
    for (const key of keys) {
      const auth = auths[key]?.auth;
      if (auth === undefined) continue;
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    return undefined;
  };
}

export interface TokenRequest {
  readonly challenge: Challenge;
  readonly scope: string;
  readonly credentials: Credentials | undefined;
  readonly registry: string;
}

/** Fetches a bearer token from the challenge's realm (the Docker token protocol). */
export async function fetchToken(request: TokenRequest): Promise<string> {
  const realm = request.challenge.params['realm'];
  if (realm === undefined)
    throw new RegistryAuthError(
      `${request.registry} asked for a bearer token but named no realm to get it from`,
    );
  const url = new URL(realm);
  const service = request.challenge.params['service'];
  if (service !== undefined) url.searchParams.set('service', service);
  url.searchParams.set('scope', request.scope);
  const headers: Record<string, string> = {};
  if (request.credentials !== undefined) headers['authorization'] = basicHeader(request.credentials);
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new RegistryAuthError(
      `cannot reach the token server ${url.origin} for ${request.registry}: ${(error as Error).message}`,
    );
  }
  const text = await response.text();
  if (response.status === 401 || response.status === 403) {
    throw new RegistryAuthError(
      request.credentials === undefined
        ? `${request.registry} requires a login for ${request.scope}; pass --username/--password (or log in with docker login)`
        : `${request.registry} refused the credentials of ${request.credentials.username} for ${request.scope}`,
    );
  }
  if (!response.ok)
    throw new RegistryAuthError(
      `the token server for ${request.registry} answered ${response.status}: ${text.slice(0, 200)}`,
    );
  let body: { token?: unknown; access_token?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new RegistryAuthError(
      `the token server for ${request.registry} answered something that is not JSON`,
    );
  }
  const token =
    typeof body.token === 'string'
      ? body.token
      : typeof body.access_token === 'string'
        ? body.access_token
        : undefined;
  if (token === undefined)
    throw new RegistryAuthError(`the token server for ${request.registry} answered without a token`);
  return token;
}
