/** The part of autocannon's API the reload test uses (the package ships no types). */
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    amount?: number;
    duration?: number;
  }
  interface Result {
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: { total: number; sent: number };
  }
  /** Without a callback autocannon returns its running instance, an event emitter that is also a promise. */
  interface Instance extends PromiseLike<Result> {
    on(event: 'response', listener: () => void): this;
  }
  function autocannon(options: Options): Instance;
  export default autocannon;
}
