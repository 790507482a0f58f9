// Waits until one object satisfies a condition (exists, is gone, has a condition) by following it
// with an informer: a list, then watch events, so the answer comes as soon as the server knows it.
import type { KubeObject, ResourceType } from '@flotilla/api';
import { ApiError, createInformer, type RestClient } from '@flotilla/client';
import { CliError } from '../cli-context';

export interface WaitForObjectOptions {
  readonly client: RestClient;
  readonly type: ResourceType;
  readonly namespace: string;
  readonly name: string;
  /** Called with the current object, or undefined while it does not exist. */
  readonly until: (object: KubeObject | undefined) => boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** For the timeout message: "condition=Available", "delete". */
  readonly describeGoal: string;
}

export function waitForObject(options: WaitForObjectOptions): Promise<KubeObject | undefined> {
  const { type, name } = options;
  const namespace = type.namespaced ? options.namespace : undefined;
  const key = namespace === undefined ? name : `${namespace}/${name}`;
  let lastError: unknown;
  let recheck = (): void => undefined;
  const informer = createInformer({
    client: options.client,
    resource: type,
    namespace,
    fieldSelector: `metadata.name=${name}`,
    onError: (error) => {
      lastError = error;
      recheck();
    },
  });

  return new Promise<KubeObject | undefined>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      informer.stop();
      options.signal.removeEventListener('abort', onAbort);
      settle();
    };
    const check = (): void => {
      if (settled) return;
      // Errors a retry cannot fix (no permission, bad selector) end the wait at once.
      if (lastError instanceof ApiError && [400, 401, 403].includes(lastError.code)) {
        const error = lastError;
        finish(() => reject(error));
        return;
      }
      if (!informer.hasSynced()) return;
      const object = informer.get(key);
      if (options.until(object)) finish(() => resolve(object));
    };
    recheck = check;
    const onAbort = (): void => finish(() => reject(new CliError('interrupted')));
    const timer = setTimeout(() => {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      finish(() =>
        reject(new CliError(`timed out waiting for ${options.describeGoal} on ${type.plural}/${name}${why}`)),
      );
    }, options.timeoutMs);
    options.signal.addEventListener('abort', onAbort, { once: true });
    informer.addEventHandler({ onAdd: check, onUpdate: check, onDelete: check });
    informer.start();
    informer.waitForSync().then(check, () => undefined);
  });
}
