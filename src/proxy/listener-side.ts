import type { InFlight } from './in-flight.js';
import type { ForwardRoute } from './route.js';

/** What shutdown does to an open tunnel at its deadline: cut it (it is still logged). */
export interface Cuttable {
  kill(): void;
}

/**
 * What an exchange sees of the listener that accepted it: the route to start under, the counters its access
 * entry shows, and the sets that shutdown waits on. The exchanges know the listener only through this, so
 * neither imports the other's module the other way round.
 */
export interface ListenerSide {
  /** The route new exchanges start under (a reload swaps it; a running exchange keeps its own). */
  readonly route: ForwardRoute;
  /** Open client connections of this listener (HAProxy's feconn). */
  readonly connections: number;
  /** Set once stopping began: responses close their connection instead of waiting for another request. */
  readonly draining: boolean;
  /** Set once the shutdown deadline passed: exchanges cut now are logged as killed (K…), not as client aborts. */
  readonly killing: boolean;
  /** Why they were cut, for the access entries' `error`. */
  readonly killReason: string;
  /** Exchanges (and tunnels) not yet logged. */
  readonly active: Set<InFlight>;
  /** Open upgrade exchanges, cut at the shutdown deadline. */
  readonly tunnels: Set<Cuttable>;
  /** An exchange left `active`: shutdown may stop waiting. */
  exchangeDone(): void;
}
