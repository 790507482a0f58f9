// Store failures as the API reports them.
import { StoreError } from '@flotilla/store';
import { ApiError, apiErrors } from '../http/api-error';
import type { ResourceTarget } from './resource-path';

export function storeErrorToApi(error: unknown, target: ResourceTarget): ApiError {
  if (error instanceof ApiError) return error;
  if (!(error instanceof StoreError)) {
    return apiErrors.internal(error instanceof Error ? error.message : String(error));
  }
  const name = target.name ?? '';
  switch (error.code) {
    case 'BadRequest':
      return apiErrors.badRequest(error.message);
    case 'NotFound':
      return apiErrors.notFound(target.type, name);
    case 'AlreadyExists':
      return apiErrors.alreadyExists(target.type, name);
    case 'Conflict':
      return apiErrors.conflict(target.type, name, error.message);
    case 'Gone':
      return apiErrors.gone(error.message);
    case 'TooLarge':
      return apiErrors.tooLarge(`Request entity too large: ${error.message}`);
    case 'Unavailable':
      return apiErrors.unavailable(`${error.message}; the apiserver retries etcd, try again shortly`);
  }
}
