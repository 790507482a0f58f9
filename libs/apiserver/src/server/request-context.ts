// What the authentication hook learned about a request, for handlers and metrics.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../auth/token-authenticator';

export interface RequestContext {
  user?: UserInfo;
  verb?: string;
  resource?: string;
  started: bigint;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function contextOf(request: IncomingMessage): RequestContext {
  let context = contexts.get(request);
  if (!context) {
    context = { started: process.hrtime.bigint() };
    contexts.set(request, context);
  }
  return context;
}
