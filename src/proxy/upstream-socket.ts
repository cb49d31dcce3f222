import { subscribe } from 'node:diagnostics_channel';

/** A dispatch handler that wants to know which upstream socket carried its request (kube: which pod). */
export interface UpstreamSocketAware {
  upstreamSocket(socket: object): void;
}

let subscribed = false;
/**
 * Each copy of undici in the process (ours, node's own behind fetch, any a dependency loads) publishes on the same
 * channel under its own Symbol('handler'), so the key is found per Request class, never once for all: on Node 22
 * and 24 the first request seen was another copy's, and no exchange ever learnt its pod.
 */
const handlerKeys = new WeakMap<object, symbol | null>();

/**
 * undici never hands a dispatch handler its socket; its diagnostics channel does, next to the request that holds
 * the handler. Subscribed only when a target needs it (Kubernetes), so plain forwards pay nothing.
 */
export function trackUpstreamSockets(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('undici:client:sendHeaders', onSendHeaders);
}

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as { request: object; socket: object };
  // undici keeps the handler under a module-private Symbol('handler'); found by its description.
  const requestClass = Object.getPrototypeOf(request) as object | null;
  if (requestClass === null) return;
  let handlerKey = handlerKeys.get(requestClass);
  if (handlerKey === undefined) {
    handlerKey = Object.getOwnPropertySymbols(request).find((s) => s.description === 'handler') ?? null;
    handlerKeys.set(requestClass, handlerKey);
  }
  if (handlerKey === null) return;
  const handler = (request as Record<symbol, Partial<UpstreamSocketAware> | undefined>)[handlerKey];
  if (handler !== undefined && typeof handler.upstreamSocket === 'function') handler.upstreamSocket(socket);
}
