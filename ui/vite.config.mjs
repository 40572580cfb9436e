// Builds the web console (ui/) into dist/ui, which `warren serve` serves at /ui.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/ui/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)), emptyOutDir: true, assetsInlineLimit: 0 },
});
