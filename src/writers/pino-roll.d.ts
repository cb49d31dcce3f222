// pino-roll 4 ships no types: the options kflog passes, the SonicBoom stream it returns (typed in file-stream.ts).
declare module 'pino-roll' {
  import type { SonicBoomOpts } from 'sonic-boom';
  interface PinoRollOptions extends Omit<SonicBoomOpts, 'dest' | 'fd'> {
    file: string;
    size?: string | number;
    frequency?: 'hourly' | 'daily' | number;
    extension?: string;
    symlink?: boolean;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    dateFormat?: string;
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<import('node:events').EventEmitter>;
}
