import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineId } from '../../src/precompile/engine-id.js';

test('engine id: 16 hex chars, stable, changed by a salt', () => {
  const id = engineId('');
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(engineId(''), id);
  assert.notEqual(engineId('other-engine'), id);
});

test('WARREN_ENGINE_SALT is the default salt', () => {
  const before = process.env.WARREN_ENGINE_SALT;
  try {
    process.env.WARREN_ENGINE_SALT = 'salted';
    assert.equal(engineId(), engineId('salted'));
    delete process.env.WARREN_ENGINE_SALT;
    assert.equal(engineId(), engineId(''));
  } finally {
    if (before === undefined) delete process.env.WARREN_ENGINE_SALT;
    else process.env.WARREN_ENGINE_SALT = before;
  }
});
