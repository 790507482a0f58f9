import { startEtcd, startRedis, type RunningService } from './services';

declare global {
  var __flotillaServices: RunningService[] | undefined;
}

// Jest workers are forked after this runs, so they inherit these variables.
export default async function globalSetup(): Promise<void> {
  const [etcd, redis] = await Promise.all([startEtcd(), startRedis()]);
  process.env['FLOTILLA_TEST_ETCD'] = etcd.url;
  process.env['FLOTILLA_TEST_REDIS'] = redis.url;
  globalThis.__flotillaServices = [etcd, redis];
}
