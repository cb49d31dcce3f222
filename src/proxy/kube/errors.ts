/**
 * Why a port-forward connection could not be made. The message is what a user reads in the access log's `error`
 * (the proxy answers 502 SC-- with it), so it names the Kubernetes reason and the object concerned.
 */
export class KubeError extends Error {
  /**
   * undici's error code space: timeouts use undici's own code so the proxy treats them as any connect timeout
   * (504 sC--); everything else is a refused connection (502 SC--).
   */
  readonly code: 'KUBE_PORTFORWARD' | 'UND_ERR_CONNECT_TIMEOUT';
  /** Kubernetes Status reason (Unauthorized, Forbidden, NotFound, …) or ours (Unreachable, PodNotReady, …). */
  readonly reason: string;
  /** HTTP status of the API server's answer, when there was one. */
  readonly status: number | undefined;
  /** The failure concerns the chosen pod (gone, not running, stream refused): another pod may do. */
  readonly podLevel: boolean;

  constructor(message: string, reason: string, opts: { status?: number; podLevel?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KubeError';
    this.reason = reason;
    this.status = opts.status;
    this.podLevel = opts.podLevel ?? false;
    this.code = reason === 'Timeout' ? 'UND_ERR_CONNECT_TIMEOUT' : 'KUBE_PORTFORWARD';
  }
}

/** The fields of a Kubernetes `Status` object that say what went wrong. */
interface StatusBody {
  kind?: unknown;
  message?: unknown;
  reason?: unknown;
  code?: unknown;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/**
 * An error answer of the API server → KubeError. `what` says what was asked ("get services default/api");
 * `aboutPod` when the request concerned the chosen pod (reading it, opening a stream to it). The
 * API server answers errors with a Status object; anything else (a proxy's HTML page) is summarised by its status.
 */
export function statusError(
  httpStatus: number,
  body: string,
  what: string,
  server: string,
  aboutPod = false,
): KubeError {
  let reason = STATUS_TEXT[httpStatus] ?? `HTTP${httpStatus}`;
  let detail = '';
  try {
    const parsed = JSON.parse(body) as StatusBody;
    if (parsed !== null && typeof parsed === 'object') {
      if (typeof parsed.reason === 'string' && parsed.reason !== '') reason = parsed.reason;
      if (typeof parsed.message === 'string') detail = parsed.message;
    }
  } catch {
    detail = body.trim().slice(0, 200).replace(/[\x00-\x1f\x7f]+/g, ' ');
  }
  let message = `kubernetes API ${server} refused to ${what}: ${httpStatus} ${reason}`;
  if (detail !== '' && detail !== reason) message += `: ${detail}`;
  if (httpStatus === 401) message += ' (check the credentials of the kubeconfig context)';
  // A pod that is gone or refuses a stream may be replaced by another; 401/403 are about us, not the pod.
  const podLevel = aboutPod && httpStatus !== 401 && httpStatus !== 403;
  return new KubeError(message, reason, { status: httpStatus, podLevel });
}

/** A transport failure talking to the API server (refused, reset, TLS, DNS) → KubeError "Unreachable". */
export function unreachableError(server: string, err: unknown): KubeError {
  const e = err as { message?: unknown; code?: unknown };
  const why = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  return new KubeError(`kubernetes API ${server} unreachable: ${why}`, 'Unreachable', { cause: err });
}

export function timeoutError(server: string, what: string, ms: number): KubeError {
  return new KubeError(`kubernetes API ${server} did not answer within ${ms} ms (${what})`, 'Timeout');
}
