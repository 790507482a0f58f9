// GET / from the host, as the network, Service and publishing tests check what answers where.
import { request } from 'node:http';

/** The body, or a rejection naming the address when the connection fails or stays silent. */
export function httpGet(host: string, port: number, options: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: '/', timeout: options.timeoutMs ?? 5000, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    );
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer from ${host}:${port}`), { code: 'TIMEOUT' })),
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * The trimmed body, or the error's code (ECONNREFUSED, TIMEOUT, ...) instead of a rejection: for
 * tests that count which backend answered and expect refusals as answers too.
 */
export async function httpGetOrError(host: string, port: number): Promise<string> {
  try {
    return (await httpGet(host, port, { timeoutMs: 3000 })).trim();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    return failure.code ?? failure.message;
  }
}
