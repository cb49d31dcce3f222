/** Where a net or syslog writer sends: Caddy's network address syntax, as in the config. */
export type NetAddress =
  | { transport: 'tcp' | 'udp'; host: string; port: number; text: string }
  | { transport: 'unix'; path: string; text: string };

/** Bytes of a unix socket path: sun_path (108 on Linux, 104 on macOS and the BSDs) less its terminating NUL. */
const UNIX_PATH_MAX = process.platform === 'linux' ? 107 : 103;

/** "tcp/host:port", "udp/[::1]:514", "unix//run/app.sock" → address; throws with a hint otherwise. */
export function parseNetAddress(text: string): NetAddress {
  const slash = text.indexOf('/');
  const transport = slash > 0 ? text.slice(0, slash) : '';
  const rest = text.slice(slash + 1);
  if (transport === 'unix') {
    if (!rest.startsWith('/') || rest.length < 2) throw new Error(`address "${text}": unix//path needs an absolute path`);
    // node cuts a longer path to sun_path's size without a word, and would connect to another name (or to none).
    const bytes = Buffer.byteLength(rest);
    if (bytes > UNIX_PATH_MAX) throw new Error(`address "${text}": a unix socket path has at most ${UNIX_PATH_MAX} bytes (this one ${bytes})`);
    return { transport, path: rest, text };
  }
  if (transport !== 'tcp' && transport !== 'udp') {
    throw new Error(`address "${text}" must start with tcp/, udp/ or unix//`);
  }
  const colon = rest.lastIndexOf(':');
  let host = colon > 0 ? rest.slice(0, colon) : '';
  const port = Number(rest.slice(colon + 1));
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`address "${text}" must be ${transport}/host:port with a port from 1 to 65535`);
  }
  return { transport, host, port, text };
}
