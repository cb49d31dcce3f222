import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../../helpers/cleanup.js';
import { KflogProcess, writeConfig } from '../../helpers/kflog-process.js';
import { FakeApiServer } from './fake-apiserver.js';
import { tempDir } from '../../helpers/files.js';

const cleanups = undoAfterEach();

function scratch(): string {
  const t = tempDir('kube');
  cleanups.push(t.cleanup);
  return t.dir;
}

const warnings = (stderr: string, id: string): string[] =>
  stderr.split('\n').filter((l) => l.includes(`WARN  kube.portforward.${id} `));

describe('kflog run with Kubernetes targets whose kubeconfig or context is missing', () => {
  it('says so in one clear warning per forward at start, and not again on the first request', async () => {
    const api = await new FakeApiServer(false).listen();
    cleanups.push(() => api.stop());
    const home = scratch(); // no ~/.kube/config in it
    const dir = scratch();
    const good = api.writeKubeconfig(join(dir, 'config'));
    const target = (kube: Record<string, unknown>) => ({ kube: { service: 'api', port: 80, ...kube } });
    const path = writeConfig(dir, {
      forwards: [
        { id: 'nokube', listen: '127.0.0.1:0', target: target({ context: 'kind-dev' }) },
        { id: 'nofile', listen: '127.0.0.1:0', target: target({ kubeconfig: join(dir, 'missing.yaml') }) },
        { id: 'nocontext', listen: '127.0.0.1:0', target: target({ kubeconfig: good, context: 'prod' }) },
        { id: 'fine', listen: '127.0.0.1:0', target: target({ kubeconfig: good }) },
      ],
    });
    const env = { HOME: home, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: undefined };
    const p = new KflogProcess(['run', '--config', path], { cwd: dir, env });
    cleanups.push(() => p.stop());
    const addresses = await p.listening(['nokube', 'nofile', 'nocontext', 'fine']);
    await p.waitFor(() => ['nokube', 'nofile', 'nocontext'].every((id) => warnings(p.stderr, id).length > 0), 'the warnings');

    expect(warnings(p.stderr, 'nokube')).toEqual([
      expect.stringContaining(`no kubeconfig: $KUBECONFIG is not set and ${join(home, '.kube', 'config')} does not exist; context \\"kind-dev\\" cannot be found without one`),
    ]);
    expect(warnings(p.stderr, 'nofile')).toEqual([expect.stringContaining(`kubeconfig ${join(dir, 'missing.yaml')} does not exist`)]);
    expect(warnings(p.stderr, 'nocontext')).toEqual([expect.stringContaining('has no context \\"prod\\" (contexts: fake)')]);
    expect(p.stderr).not.toContain('loaded-context');

    for (const id of ['nokube', 'nofile', 'nocontext']) {
      const res = await fetch(`http://${addresses[id]}/`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/kubeconfig|context/);
    }
    await p.stop();
    for (const id of ['nokube', 'nofile', 'nocontext']) expect(warnings(p.stderr, id), id).toHaveLength(1);
    expect(warnings(p.stderr, 'fine')).toEqual([]);
  });
});
