/** Default for `logging.output_deadline`: how long opening, writing or closing one output may take. */
export const DEFAULT_OUTPUT_DEADLINE_MS = 5000;

/**
 * An output that did not answer in time (a FIFO nobody reads, a hung network file system): the operation is
 * given up on, the writer reported failed, and start, reload or shutdown go on without it.
 */
export class OutputStuckError extends Error {
  override readonly name = 'OutputStuckError';

  /**
   * `eventually`: whether the work given up on succeeded after all (a write that was only slow): a log counts
   * its batch as failed at the deadline, and as written again once this says it landed.
   */
  constructor(
    message: string,
    readonly eventually: Promise<boolean> = Promise.resolve(false),
  ) {
    super(message);
  }
}

/**
 * An output that can never work as configured (a file log whose path is a FIFO or a device): kflog refuses to
 * start (or reload) with it, as with an invalid config, rather than retrying it forever.
 */
export class OutputUnusableError extends Error {
  override readonly name = 'OutputUnusableError';
}

/** `work`, or an OutputStuckError once `ms` passed (the work itself goes on; its late outcome is ignored). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const eventually = work.then(() => true, () => false);
      reject(new OutputStuckError(`${what} did not finish within ${formatMs(ms)}`, eventually));
    }, ms);
    timer.unref();
  });
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
