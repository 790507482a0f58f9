import { exitWhenHeldOpen } from './open-handles';

function portOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).port || undefined;
  } catch {
    return undefined;
  }
}

export default async function globalTeardown(): Promise<void> {
  const services = globalThis.__flotillaServices;
  const names = new Map<string, string>();
  const redis = portOf(services?.redisUrl);
  const etcd = portOf(services?.etcdUrl);
  if (redis) names.set(redis, 'the test Redis: a queue or client not closed');
  if (etcd) names.set(etcd, 'the test etcd: a store or client not closed');
  await services?.stop();
  exitWhenHeldOpen({ graceMs: 10_000, names });
}
