import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { waitFor } from '../helpers/wait.js';

/** rsyslogd's path (PATH, then /usr/sbin where Debian puts it), or undefined when it is not installed. */
export function findRsyslogd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    const p = join(d, 'rsyslogd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** One message as rsyslog parsed it. */
export interface Received {
  facility: string;
  severity: string;
  app: string;
  procid: string;
  hostname: string;
  /** RFC 5424 version ("1"), or "0" for RFC 3164. */
  version: string;
  msg: string;
}

const FIELDS = ['syslogfacility-text', 'syslogseverity-text', 'app-name', 'procid', 'hostname', 'protocol-version'];

/**
 * A real rsyslogd run by the test: its own config in a temp dir, imtcp on a port the OS picks (rsyslog writes it to
 * a file), imudp on a free loopback port, every message written through a template that shows what rsyslog parsed.
 * Foreground (-n), own pid file (-i), no system paths.
 */
export class Rsyslog {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  tcpPort = 0;
  udpPort = 0;
  private probes = 0;
  stderr = '';

  constructor(
    private readonly bin: string,
    private readonly dir: string,
  ) {}

  get output(): string {
    return join(this.dir, 'received.log');
  }

  /** Starts rsyslogd (again on the same ports after a stop) and waits until both inputs take messages. */
  async start(): Promise<void> {
    if (this.udpPort === 0) this.udpPort = await freeUdpPort();
    const portFile = join(this.dir, 'tcp.port');
    const template = FIELDS.map((f) => `%${f}%`).join('\\t') + '\\t%msg:::drop-last-lf%\\n';
    const conf = [
      `global(workDirectory="${this.dir}" maxMessageSize="64k")`,
      'module(load="imtcp")',
      'module(load="imudp")',
      `template(name="fields" type="string" string="${template}")`,
      `ruleset(name="kflog") { action(type="omfile" file="${this.output}" template="fields") }`,
      `input(type="imtcp" address="127.0.0.1" port="${this.tcpPort}" listenPortFileName="${portFile}" ruleset="kflog")`,
      `input(type="imudp" address="127.0.0.1" port="${this.udpPort}" ruleset="kflog")`,
      '',
    ].join('\n');
    const confFile = join(this.dir, 'rsyslog.conf');
    writeFileSync(confFile, conf);
    const child = spawn(this.bin, ['-n', '-f', confFile, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // rsyslog writes the port file only for port 0 (the first start); a restart on the known port is probed.
    const known = this.tcpPort;
    this.tcpPort = await waitFor('rsyslogd listening on TCP', async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited ${child.exitCode}: ${this.stderr}`);
      if (known !== 0) return (await canConnect(known)) && known;
      const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return text !== '' && Number(text);
    });
    // imudp gives no sign of readiness: a probe datagram that shows up in the output is one.
    const probe = `kflog-probe-${++this.probes}`;
    await waitFor('rsyslogd taking UDP', async () => {
      await sendUdp(this.udpPort, `<14>1 - - probe - - - ${probe}`);
      return this.messages(true).some((m) => m.msg === probe);
    });
  }

  /** Stops rsyslogd (SIGTERM: it writes what it took, then exits) and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
  }

  /** What rsyslog received, as it parsed it; probes left out unless asked for. */
  messages(withProbes = false): Received[] {
    if (!existsSync(this.output)) return [];
    const out: Received[] = [];
    for (const line of readFileSync(this.output, 'utf8').split('\n')) {
      if (line === '') continue;
      const parts = line.split('\t');
      const [facility, severity, app, procid, hostname, version] = parts as [string, string, string, string, string, string];
      const m: Received = { facility, severity, app, procid, hostname, version, msg: parts.slice(6).join('\t').trimStart() };
      if (withProbes || m.app !== 'probe') out.push(m);
    }
    return out;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function sendUdp(port: number, message: string): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.send(message, port, '127.0.0.1', () => s.close(() => resolve())));
}
