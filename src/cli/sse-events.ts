// The Server-Sent Events framing (WHATWG HTML §9.2.6) as much as kflog's /api/stream uses: `event:`, `data:` and
// `id:` fields, events ended by a blank line, comments (`:`) ignored. undici's EventSource would reconnect on its
// own and hide why it could not; `kflog tail` has to say that.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Fed the stream's text in whatever chunks it comes, calls `each` once per complete event. */
export class SseParser {
  private rest = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  constructor(private readonly each: (e: SseEvent) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl === -1) break;
      this.line(text.slice(from, text[nl - 1] === '\r' ? nl - 1 : nl));
      from = nl + 1;
    }
    this.rest = text.slice(from);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.each({ event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
  }
}
