import { createReadStream, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { WarrenError } from '../../errors.js';
import { readAll } from '../api-client.js';
import { withConnection } from '../connect.js';
import { printJson } from '../output.js';

interface RunOptions {
  arg: string[];
  env: string[];
  timeout?: string;
  memory?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .argument('<component>', 'FQ[@VERSION], e.g. sh.serval.loudify or sh.serval.loudify@1.2.0')
    .argument('[input]', 'a file to use as stdin, or - for this process\'s stdin (default: stdin when piped, else empty)')
    .option('--arg <value>', 'an argument for the guest (repeatable)', collect, [])
    .option('--env <K=V>', 'an environment variable for the guest (repeatable)', collect, [])
    .option('--timeout <duration>', 'wall-clock limit, e.g. 5s (capped by the manifest)')
    .option('--memory <size>', 'memory limit, e.g. 64MiB (capped by the manifest)')
    .description("run a component once as a job: input → _start → output; exits with the guest's exit code")
    .addHelpText('after', '\nExamples:\n  echo hello | warren run sh.serval.loudify\n  warren run sh.serval.loudify input.txt\n  warren run sh.warren.greeter --arg Ada --env GREETING=Hi --json\n')
    .action(async (ref: string, input: string | undefined, opts: RunOptions, cmd: Command) => {
      const [fq, version] = ref.split('@');
      const q = new URLSearchParams();
      if (version) q.set('version', version);
      for (const a of opts.arg) q.append('arg', a);
      for (const e of opts.env) {
        if (!e.includes('=')) throw new WarrenError('E_BAD_REQUEST', `--env takes KEY=VALUE, got ${JSON.stringify(e)}`);
        q.append('env', e);
      }
      if (opts.timeout) q.set('timeout', opts.timeout);
      if (opts.memory) q.set('memory', opts.memory);
      let stdin: Buffer;
      if (input && input !== '-') {
        if (!existsSync(input)) throw new WarrenError('E_NOT_FOUND', `input file ${input} not found`);
        stdin = await readAll(createReadStream(input));
      } else if (input === '-' || !process.stdin.isTTY) {
        stdin = await readAll(process.stdin);
      } else {
        stdin = Buffer.alloc(0);
      }
      const exitCode = await withConnection(cmd, async (client, g) => {
        if (g.json) {
          q.set('format', 'json');
          const res = await client.raw('POST', `/v1/jobs/${encodeURIComponent(fq)}/run?${q}`, stdin, { 'content-type': 'application/octet-stream' });
          const out = JSON.parse((await readAll(res.body)).toString('utf8')) as { exitCode: number };
          printJson(out);
          return out.exitCode;
        }
        const res = await client.raw('POST', `/v1/jobs/${encodeURIComponent(fq)}/run?${q}`, stdin, { 'content-type': 'application/octet-stream' });
        for await (const chunk of res.body) process.stdout.write(chunk as Buffer);
        const trailers = res.trailers();
        const stderr = decodeURIComponent(String(trailers['x-warren-stderr'] ?? res.headers['x-warren-stderr'] ?? ''));
        if (stderr) process.stderr.write(stderr);
        const failure = trailers['x-warren-error'];
        if (failure) {
          const [code, ...msg] = String(failure).split(' ');
          throw new WarrenError(code as 'E_INTERNAL', decodeURIComponent(msg.join(' ')));
        }
        return Number(trailers['x-warren-exit-code'] ?? res.headers['x-warren-exit-code'] ?? 0);
      });
      process.exitCode = exitCode;
    });
}
