import { createInterface } from 'node:readline';

/**
 * Asks `question` on the terminal (stdin, the prompt on stderr so stdout stays the listing) and resolves true for
 * "y" or "yes" in any case; anything else, an empty line, or the end of input (Ctrl-D) is no. There is no
 * deadline: a person answers, as `rm -i` waits for one.
 */
export function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  return new Promise((resolve) => {
    let yes: boolean | undefined;
    rl.once('close', () => {
      if (yes === undefined) process.stderr.write('\n'); // ended without a line: the next output on a line of its own
      resolve(yes ?? false);
    });
    rl.question(question, (answer) => {
      yes = /^y(es)?$/i.test(answer.trim());
      rl.close();
    });
  });
}
