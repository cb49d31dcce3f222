import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeTargetConfig } from '../../config/types.js';
import { KubeError } from './errors.js';

/** A kubeconfig loaded for one target: the context chosen, its namespace and API server. */
export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  readonly context: string;
  /** cfg.namespace, else the context's, else "default". */
  readonly namespace: string;
  /** API server URL, without a trailing slash. */
  readonly server: string;
  /** Files read and their mtimes, to notice an edited kubeconfig (rotated token, re-created cluster). */
  readonly files: ReadonlyArray<{ path: string; mtimeMs: number }>;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** The files loadFromDefault would read, in its order: $KUBECONFIG's list, else ~/.kube/config. */
function defaultFiles(): string[] {
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env !== '') return env.split(delimiter).filter((f) => f !== '');
  return [join(homedir(), '.kube', 'config')];
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * Why there is no kubeconfig to read, or undefined. Without one, client-node's loadFromDefault invents a context
 * ("loaded-context", localhost:8080) and every later message would name that one instead of the missing file.
 */
function missingKubeconfig(explicit: string[] | undefined, paths: string[]): string | undefined {
  if (explicit !== undefined && explicit.length > 0) {
    const absent = explicit.filter((p) => mtime(p) < 0);
    return absent.length > 0 ? `kubeconfig ${absent.join(', ')} does not exist` : undefined;
  }
  if (paths.some((p) => mtime(p) >= 0)) return undefined;
  if (process.env.KUBERNETES_SERVICE_HOST !== undefined) return undefined; // in a pod: the service account
  const env = process.env.KUBECONFIG;
  return env !== undefined && env !== ''
    ? `no kubeconfig: none of the files in $KUBECONFIG exists (${paths.join(', ')})`
    : `no kubeconfig: $KUBECONFIG is not set and ${paths[0]} does not exist`;
}

/**
 * Load the kubeconfig as kubectl would: `cfg.kubeconfig` if given, else KubeConfig.loadFromDefault ($KUBECONFIG,
 * ~/.kube/config, in-cluster). Throws KubeError naming the file and what is wrong with it.
 */
export function loadKubeConfig(cfg: KubeTargetConfig): LoadedKubeConfig {
  const kc = new KubeConfig();
  // Like $KUBECONFIG, an explicit value may list several files (kftray exports do): merged, first one wins.
  const explicit = cfg.kubeconfig?.split(delimiter).filter((f) => f !== '').map(expandHome);
  const paths = explicit ?? defaultFiles();
  const source = explicit?.join(delimiter) ?? 'the default kubeconfig ($KUBECONFIG, ~/.kube/config)';
  const missing = missingKubeconfig(explicit, paths);
  if (missing !== undefined) {
    const wanted = cfg.context !== undefined ? `; context "${cfg.context}" cannot be found without one` : '';
    throw new KubeError(`${missing}${wanted}`, 'KubeconfigNotFound');
  }
  try {
    if (explicit === undefined || explicit.length === 0) {
      kc.loadFromDefault();
    } else {
      kc.loadFromFile(explicit[0]!);
      for (const more of explicit.slice(1)) {
        const next = new KubeConfig();
        next.loadFromFile(more);
        kc.mergeConfig(next, true);
      }
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new KubeError(`kubeconfig ${source} could not be loaded: ${why}`, 'KubeconfigInvalid', { cause: err });
  }
  if (cfg.context !== undefined) {
    if (kc.getContextObject(cfg.context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new KubeError(`kubeconfig ${source} has no context "${cfg.context}" (contexts: ${known})`, 'ContextNotFound');
    }
    kc.setCurrentContext(cfg.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new KubeError(`kubeconfig ${source}: context "${context}" names no known cluster`, 'ClusterNotFound');
  }
  const namespace = cfg.namespace ?? kc.getContextObject(context)?.namespace ?? 'default';
  return {
    kc,
    context,
    namespace,
    server: cluster.server.replace(/\/+$/, ''),
    files: paths.map((path) => ({ path, mtimeMs: mtime(path) })),
  };
}

/** True when a file the config came from changed (or appeared, or vanished) since it was loaded. */
export function kubeConfigChanged(loaded: LoadedKubeConfig): boolean {
  for (const f of loaded.files) if (mtime(f.path) !== f.mtimeMs) return true;
  return false;
}
