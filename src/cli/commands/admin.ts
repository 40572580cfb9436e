import type { Command } from 'commander';
import { withConnection } from '../connect.js';
import { printJson, printTable } from '../output.js';

export function registerAdminCommand(program: Command): void {
  const admin = program.command('admin').description('operate a node: garbage collection, store verification, artifacts');
  admin
    .command('gc')
    .option('--dry-run', 'print what would be removed and how many bytes, remove nothing')
    .description('collect blobs and records no root reaches (blobs younger than the grace period stay)')
    .addHelpText('after', '\nExamples:\n  warren admin gc --dry-run\n  warren admin gc --json\n')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ swept: { integrity: string; size: number }[]; sweptBytes: number; sweptRecords: string[]; kept: number }>('POST', '/v1/admin/gc', {
          dryRun: Boolean(opts.dryRun),
        });
        if (g.json) return printJson(res);
        const verb = opts.dryRun ? 'would remove' : 'removed';
        process.stdout.write(`${verb} ${res.swept.length} blobs (${res.sweptBytes} bytes) and ${res.sweptRecords.length} records; kept ${res.kept} blobs\n`);
        if (opts.dryRun) for (const b of res.swept) process.stdout.write(`  ${b.integrity} ${b.size}\n`);
      });
    });
  admin
    .command('verify')
    .description("check every registry record's blobs exist and every blob's bytes match its digest")
    .addHelpText('after', '\nExamples:\n  warren admin verify\n  warren admin verify --json   # exit status 1 when something is missing or corrupt\n')
    .action(async (_opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ records: number; blobsChecked: number; missing: unknown[]; corrupt: unknown[]; badPages?: unknown[]; pagesChecked?: number }>('POST', '/v1/admin/verify', {});
        const badPages = res.badPages?.length ?? 0;
        if (g.json) printJson(res);
        else process.stdout.write(`${res.records} records, ${res.blobsChecked} blobs and ${res.pagesChecked ?? 0} pages of packs checked: ${res.missing.length} missing, ${res.corrupt.length} corrupt, ${badPages} bad pages\n`);
        if (res.missing.length || res.corrupt.length || badPages) process.exitCode = 1;
      });
    });
  admin
    .command('artifacts')
    .description('list precompiled artifact maps with their sizes')
    .addHelpText('after', '\nExamples:\n  warren admin artifacts\n  warren admin artifacts --json\n')
    .action(async (_opts, cmd: Command) => {
      await withConnection(cmd, async (client, g) => {
        const res = await client.json<{ maps: Record<string, unknown>[] }>('GET', '/v1/admin/artifacts');
        if (g.json) printJson(res.maps);
        else printTable(res.maps, ['engineId', 'fq', 'version', 'artifacts', 'bytes', 'current']);
      });
    });
}
