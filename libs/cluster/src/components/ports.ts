import { ComponentError } from '../processes/supervised-process';
import { createServer } from 'node:net';

/** Asks the kernel for a free loopback port. Racy by nature, so callers start their server right away. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('the kernel assigned no port'));
      });
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Fails before a component starts if its port is taken: otherwise a readiness probe would happily
 * talk to whatever already listens there.
 */
export async function ensurePortsFree(
  component: string,
  ports: readonly number[],
  host = '127.0.0.1',
): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port, host))) {
      throw new ComponentError(
        `${component}: port ${host}:${port} is already in use; stop what listens there (ss -ltnp 'sport = :${port}') or choose another port`,
      );
    }
  }
}
