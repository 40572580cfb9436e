import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { WarrenError } from '../../errors.js';
import type { ComponentVersionRecord } from '../../records.js';
import { readAll } from '../api-client.js';
import { withConnection } from '../connect.js';
import { pushComponentDir } from '../push-component-dir.js';
import { printJson, printTable } from '../output.js';
import { componentWorldText } from '../print-component-world.js';
import { progressBar } from '../progress-bar.js';

export function registerComponentCommand(program: Command): void {
  const component = program.command('component').alias('components').description('publish and inspect components');

  component
    .command('push')
    .argument('[path]', 'a component directory or its warren.toml', '.')
    .description('pack and publish a component version (manifest, module and its initial files)')
    .addHelpText('after', '\nExamples:\n  warren component push examples/loudify\n  warren component push ./warren.toml --json\n')
    .action(async (path: string, _opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const pack = progressBar('packing');
        const upload = progressBar('uploading');
        const { created, record } = await pushComponentDir(client, path, { onPack: pack.update, onUpload: upload.update }).finally(() => {
          pack.stop();
          upload.stop();
        });
        if (g.json) printJson({ created, ...record });
        else process.stdout.write(`${created ? 'pushed' : 'unchanged (same bytes already pushed)'} ${record.fq}@${record.version} module ${record.module.digest}\n`);
      });
    });

  component
    .command('ls')
    .alias('list')
    .description('list components and their versions')
    .addHelpText('after', '\nExamples:\n  warren component ls\n  warren component ls --json\n')
    .action(async (_opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const { components } = await client.json<{ components: Record<string, unknown>[] }>('GET', '/v1/components');
        if (g.json) printJson(components);
        else printTable(components, ['fq', 'latest', 'versions', 'description']);
      });
    });

  component
    .command('show')
    .argument('<fq>', 'fully qualified name, e.g. sh.serval.loudify[@1.2.0]')
    .description('show a component, or one version of it')
    .addHelpText('after', '\nExamples:\n  warren component show sh.serval.loudify\n  warren component show sh.serval.loudify@1.0.0 --json\n')
    .action(async (ref: string, _opts, cmd: Command) => {
      const [fq, version] = ref.split('@');
      await withConnection(cmd, async (client, g) => {
        if (version) {
          const rec = await client.json<ComponentVersionRecord>('GET', `/v1/components/${encodeURIComponent(fq)}/versions/${encodeURIComponent(version)}`);
          if (g.json) printJson(rec);
          else printVersion(rec);
          return;
        }
        const res = await client.json<{ fq: string; versions: ComponentVersionRecord[] }>('GET', `/v1/components/${encodeURIComponent(fq)}`);
        if (g.json) printJson(res);
        else for (const v of res.versions) printVersion(v);
      });
    });

  component
    .command('module')
    .argument('<ref>', 'FQ@VERSION')
    .requiredOption('-o, --output <file>', 'where to write the .wasm')
    .description("download a version's main module")
    .addHelpText('after', '\nExamples:\n  warren component module sh.serval.loudify@1.0.0 -o loudify.wasm\n  warren component module sh.serval.loudify@1.0.0 -o loudify.wasm --json   # {output, bytes, digest}\n')
    .action(async (ref: string, opts: { output: string }, cmd: Command) => {
      const [fq, version] = ref.split('@');
      if (!version) throw new WarrenError('E_BAD_REQUEST', 'give a version: FQ@VERSION');
      await withConnection(cmd, async (client, g) => {
        const res = await client.raw('GET', `/v1/components/${encodeURIComponent(fq)}/versions/${encodeURIComponent(version)}/module`);
        const bytes = await readAll(res.body);
        await writeFile(opts.output, bytes);
        if (g.json) printJson({ output: opts.output, bytes: bytes.length, digest: res.headers['x-warren-digest'] ?? null });
      });
    });

  component
    .command('rm')
    .argument('<ref>', 'FQ@VERSION')
    .description('delete a version (refused while workers use it; its blobs go at the next GC)')
    .addHelpText('after', '\nExamples:\n  warren component rm sh.serval.loudify@1.0.0\n  warren component rm sh.serval.loudify@1.0.0 --json\n')
    .action(async (ref: string, _opts, cmd: Command) => {
      const [fq, version] = ref.split('@');
      if (!version) throw new WarrenError('E_BAD_REQUEST', 'give a version: FQ@VERSION');
      await withConnection(cmd, async (client, g) => {
        const rec = await client.json<ComponentVersionRecord>('DELETE', `/v1/components/${encodeURIComponent(fq)}/versions/${encodeURIComponent(version)}`);
        if (g.json) printJson(rec);
        else process.stdout.write(`deleted ${rec.fq}@${rec.version}\n`);
      });
    });

  component
    .command('precompile')
    .argument('<ref>', 'FQ[@VERSION]')
    .description('warm the artifact cache ahead of the first worker')
    .addHelpText('after', '\nExamples:\n  warren component precompile sh.warren.counter\n  warren component precompile sh.warren.counter@1.1.0 --json\n')
    .action(async (ref: string, _opts, cmd: Command) => {
      const [fq, version] = ref.split('@');
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<Record<string, unknown>>('POST', `/v1/admin/precompile`, { fq, version });
        if (g.json) printJson(res);
        else process.stdout.write(`precompiled ${fq}${version ? '@' + version : ''}: ${JSON.stringify(res.artifacts ?? res)}\n`);
      });
    });
}

function printVersion(v: ComponentVersionRecord): void {
  process.stdout.write(
    `${v.fq}@${v.version}\n  module   ${v.module.digest} (${v.module.size} bytes)\n  files    ${v.fileTree ?? '-'} (${v.filesSize} bytes)\n  extensions ${v.extensions.map((e) => `${e.fq}@${e.version}`).join(', ') || '-'}\n  created  ${v.createdAt}\n`,
  );
  if (v.world) process.stdout.write(componentWorldText(v.world));
}
