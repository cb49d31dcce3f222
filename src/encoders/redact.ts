/** What a credential header's values become in every format unless the log sets log_credentials. */
export const REDACTED = 'REDACTED';

/**
 * Authorization, Proxy-Authorization, Cookie, Set-Cookie (any case). Runs once per header per entry: a length switch
 * spares the lower-casing for nearly every name.
 */
export function isCredentialHeader(name: string): boolean {
  switch (name.length) {
    case 6:
      return name === 'Cookie' || name.toLowerCase() === 'cookie';
    case 10:
      return name === 'Set-Cookie' || name.toLowerCase() === 'set-cookie';
    case 13:
      return name === 'Authorization' || name.toLowerCase() === 'authorization';
    case 19:
      return name === 'Proxy-Authorization' || name.toLowerCase() === 'proxy-authorization';
    default:
      return false;
  }
}
