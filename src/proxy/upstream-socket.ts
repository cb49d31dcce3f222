import { subscribe } from 'node:diagnostics_channel';

/** A dispatch handler that wants to know which upstream socket carried its request (kube: which pod). */
export interface UpstreamSocketAware {
  upstreamSocket(socket: object): void;
}

let subscribed = false;
let handlerKey: symbol | undefined;

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
  // undici keeps the handler under a module-private Symbol('handler'); found once by its description.
  handlerKey ??= Object.getOwnPropertySymbols(request).find((s) => s.description === 'handler');
  if (handlerKey === undefined) return;
  const handler = (request as Record<symbol, Partial<UpstreamSocketAware> | undefined>)[handlerKey];
  if (handler !== undefined && typeof handler.upstreamSocket === 'function') handler.upstreamSocket(socket);
}
