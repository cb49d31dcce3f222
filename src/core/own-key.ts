/**
 * Header names come from clients and upstreams, and some of them are names Object.prototype already has:
 * "__proto__" (assigning it replaces the map's prototype, and the header vanishes) or "__defineGetter__" (a read
 * finds the inherited function). Maps keyed by such names are written and read through these two. They stay
 * ordinary objects rather than Object.create(null) ones: those start in V8's dictionary mode, and every encoder
 * walks every header map.
 */

const hasOwnProperty = Object.prototype.hasOwnProperty;

/** obj[key] = value, as an own enumerable property whatever the key. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** True when key is obj's own property, not one it inherits. */
export function hasOwn(obj: object, key: string): boolean {
  return hasOwnProperty.call(obj, key);
}
