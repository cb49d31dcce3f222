import type { RequestListener } from 'node:http';
import type { UndoList } from '../helpers/cleanup.js';
import { startUpstream } from '../helpers/upstream.js';
import { ensureViewerBuilt } from '../helpers/viewer-build.js';
import { startAdminKflog, type AdminKflog } from './helpers.js';

/** A 1×1 PNG, for the detail pane's image view. */
export const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
export const JSON_ANSWER = { hello: 'world', list: [1, 2] };
/** What a hostile client or upstream sends: any of it run as HTML would set window.__pwned. */
export const SCRIPT_BODY = '<script>window.__pwned = "body"</script><img src="x" onerror="window.__pwned = \'img\'">';
export const SCRIPT_HEADER = '<img src=x onerror="window.__pwned=\'header\'"><script>window.__pwned="h"</script>';

/** The upstream the viewer's tests send through kflog: JSON, an image, binary bytes, and a body that is HTML. */
const answer: RequestListener = (req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  req.resume();
  req.on('end', () => {
    if (path.startsWith('/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(JSON_ANSWER));
    } else if (path === '/image.png') {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(PNG_1X1);
    } else if (path === '/bytes') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    } else if (path === '/html') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(SCRIPT_BODY);
    } else if (path.startsWith('/missing')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not here');
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    }
  });
};

export interface ViewerKflog extends AdminKflog {
  /** http://host:port of the forward "api" (to the upstream above) and "demo" (kflog's builtin echo). */
  api: string;
  demo: string;
}

/** kflog with two forwards, bodies captured, a store log and the admin listener on a free port. */
export async function startViewerKflog(undo: UndoList, admin: Record<string, unknown> = { listen: '127.0.0.1:0' }): Promise<ViewerKflog> {
  ensureViewerBuilt();
  const upstream = await startUpstream(answer);
  undo.push(() => upstream.close());
  const capture = { request_body: true, response_body: true };
  const k = await startAdminKflog(undo, {
    forwards: [
      { id: 'api', listen: '127.0.0.1:0', target: { url: upstream.url }, capture },
      { id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture },
    ],
    admin,
    logging: { logs: { default: { exclude: ['http.log'] }, store: { writer: { output: 'store', path: 'exchanges.db' } } } },
  });
  return { ...k, api: `http://${k.addresses.api!}`, demo: `http://${k.addresses.demo!}` };
}
