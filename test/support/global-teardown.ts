import { stopService } from './services';

export default async function globalTeardown(): Promise<void> {
  for (const service of globalThis.__flotillaServices ?? []) stopService(service);
}
