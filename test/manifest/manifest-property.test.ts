import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WarrenError } from '../../src/errors.js';
import { validateManifest } from '../../src/manifest/validate-manifest.js';

const fieldValue = fc.oneof(
  fc.string(),
  fc.constantFrom('a.b', '/x', 'x', '../x', '1.0.0', 'full', 'data', 'read-write', '256MiB', '30s', 'https://h/x', ''),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.anything(),
);

const manifestLike = fc.record(
  {
    name: fieldValue,
    namespace: fieldValue,
    version: fieldValue,
    binary: fieldValue,
    description: fieldValue,
    required_extensions: fc.oneof(fieldValue, fc.array(fieldValue, { maxLength: 3 })),
    files: fc.oneof(fieldValue, fc.array(fc.dictionary(fc.constantFrom('source', 'target', 'permissions', 'extra'), fieldValue), { maxLength: 3 })),
    volumes: fc.oneof(fieldValue, fc.array(fc.dictionary(fc.constantFrom('name', 'mount', 'durable_dir'), fieldValue), { maxLength: 3 })),
    snapshots: fc.oneof(fieldValue, fc.dictionary(fc.constantFrom('on_pause', 'on_commit', 'pause_in_call'), fieldValue)),
    limits: fc.oneof(fieldValue, fc.dictionary(fc.constantFrom('memory', 'timeout', 'disk'), fieldValue)),
    env: fc.oneof(fieldValue, fc.dictionary(fc.string(), fieldValue)),
  },
  { requiredKeys: [] },
);

test('validateManifest never fails with anything but a WarrenError', () => {
  fc.assert(
    fc.property(fc.oneof(manifestLike, fc.anything()), (obj) => {
      try {
        const m = validateManifest(obj);
        // Whatever passes is fully normalized.
        assert.equal(m.fq, `${m.namespace}.${m.name}`);
        assert.ok(m.limits.memory > 0 && m.limits.timeout > 0 && m.limits.disk > 0);
      } catch (err) {
        if (!(err instanceof WarrenError)) throw err;
        assert.ok(Array.isArray(err.details.issues) && err.details.issues.length > 0, err.message);
      }
    }),
    { numRuns: 1500 },
  );
});
