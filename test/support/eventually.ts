// Polls a condition until it holds; for tests that wait on asynchronous effects without timing them.
export function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

export function requireTestEnv(name: 'FLOTILLA_TEST_ETCD' | 'FLOTILLA_TEST_REDIS'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests with \`npm test\` (jest's global set-up starts etcd and Redis)`,
    );
  }
  return value;
}

/** Reads until the answer is neither undefined nor false, then returns it; for state read over the API. */
export async function until<T>(
  what: string,
  read: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
