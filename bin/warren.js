#!/usr/bin/env node
// The `warren` command: the compiled CLI lives in dist/ (run `npm run build` first).
import { main } from '../dist/src/cli/main.js';
main(process.argv).catch((err) => {
  process.stderr.write(`warren: ${err?.message ?? err}\n`);
  process.exit(1);
});
