import type { Dispatcher } from 'undici';
import { ExchangeRecord } from './exchange-record.js';
import { classifyUpstreamError, errorCode, isConnectFailure, RETRY_DELAY_MS } from './failure.js';
import { relayedBytes } from './scavenge.js';

/**
 * An exchange kflog relays to its upstream through undici, whether the client spoke HTTP/1.1 (Exchange) or HTTP/2
 * (H2Exchange): the client's body streamed up and counted, the dispatch and its retries after a failed connect, and
 * an upstream failure classified. Only how each answers its client differs: respondError and cutResponse.
 */
export abstract class UpstreamExchange extends ExchangeRecord implements Dispatcher.DispatchHandler {
  /** The request has a body to stream up (set by the subclass from its request head). */
  protected hasReqBody = false;
  private reqBodyDone = false;
  protected dispatchOpts: Dispatcher.DispatchOptions | undefined;

  /** The client's request body, as the client sends it. */
  protected abstract clientBody(): AsyncIterable<Buffer>;
  /** Answers the client with kflog's own error response (or cuts it when a response has begun). */
  protected abstract respondError(status: number): void;
  /** The upstream failed after the response had started: the client must learn its body is short. */
  protected abstract cutResponse(): void;

  /** @internal Sends the request upstream (again, after a failed connect, when the forward allows retries). */
  dispatch(): void {
    if (this.finished) return;
    const opts = this.dispatchOpts!;
    // undici takes async iterables (documented), though its typings list only Readable. A generator, not the
    // client's stream itself: on an upstream failure undici destroys the body it was given, and the client must
    // still get its 502.
    if (this.hasReqBody) opts.body = this.requestBody() as unknown as Dispatcher.DispatchOptions['body'];
    this.upstreamOpened();
    this.route.target.dispatcher.dispatch(opts, this);
  }

  /** Streams the client's body upstream while counting it (and keeping a bounded prefix when capturing). */
  private async *requestBody(): AsyncGenerator<Buffer> {
    for await (const chunk of this.clientBody()) {
      this.bytesRead += chunk.length;
      relayedBytes(chunk.length);
      this.reqCapture?.add(chunk);
      yield chunk;
    }
    this.reqBodyDone = true;
  }

  /** The client was still sending its body (a client that leaves then ended the exchange in its data phase). */
  protected uploading(): boolean {
    return this.hasReqBody && !this.reqBodyDone;
  }

  /**
   * The upstream request failed while the client still waits: a failed connect is tried again when the forward
   * allows it; otherwise the failure is classified and the client answered, or cut if its response had begun.
   */
  protected upstreamFailed(err: Error): void {
    const code = errorCode(err);
    if (this.tConnected < 0 && isConnectFailure(code) && this.retries < this.route.cfg.retries) {
      this.retries++;
      setTimeout(retryExchange, Math.min(RETRY_DELAY_MS, this.route.cfg.timeouts.connectMs), this).unref();
      return;
    }
    this.error = err.message || code;
    const failure = classifyUpstreamError(code, this.tConnected >= 0, this.tHeaders >= 0);
    this.termination = failure.termination;
    if (this.tHeaders < 0) this.respondError(failure.status);
    else this.cutResponse();
  }
}

function retryExchange(ex: UpstreamExchange): void {
  ex.dispatch();
}
