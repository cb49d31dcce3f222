import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConfigProblem } from './validate.js';

/** How long a listen host name may take to resolve before the config is refused (the resolver has no timeout). */
export const HOST_LOOKUP_DEADLINE_MS = 5000;

/**
 * Every listen host that is a name must resolve, as the listener's bind will resolve it: "localhost" and names
 * in /etc/hosts or DNS pass, a name nobody knows is refused with its place instead of `getaddrinfo ENOTFOUND`
 * after start. IP literals (checked by parseListen) need no lookup.
 */
export async function listenHostProblems(
  forwards: ReadonlyArray<{ host: string }>,
  deadlineMs = HOST_LOOKUP_DEADLINE_MS,
): Promise<ConfigProblem[]> {
  const checks = forwards.map(async (f, i): Promise<ConfigProblem | undefined> => {
    if (f.host === '' || isIP(f.host) !== 0) return undefined;
    const reason = await resolveWithin(f.host, deadlineMs);
    return reason === undefined ? undefined : { pointer: `/forwards/${i}/listen`, reason };
  });
  return (await Promise.all(checks)).filter((p): p is ConfigProblem => p !== undefined);
}

/** Why `host` cannot be listened on, or undefined when it resolves. */
async function resolveWithin(host: string, deadlineMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`host "${host}" did not resolve within ${deadlineMs} ms`), deadlineMs);
  });
  const answer = lookup(host).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => `host "${host}" is not an IP address and does not resolve (${err.code ?? err.message})`,
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
