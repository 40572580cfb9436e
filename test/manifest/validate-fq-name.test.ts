import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError } from '../../src/errors.js';
import { validateFqName } from '../../src/manifest/validate-fq-name.js';
import { validateVersion } from '../../src/manifest/validate-version.js';

test('valid fq names pass unchanged', () => {
  for (const s of ['sh.serval', 'sh.serval.loudify', 'a.b', 'a_1.b_2.c3', `${'a'.repeat(63)}.${'b'.repeat(64)}`]) {
    assert.equal(validateFqName(s), s);
  }
});

test('invalid fq names are refused with E_FQ_NAME_INVALID', () => {
  const bad = ['', 'single', '../etc.passwd', '..', 'a..b', '.a.b', 'a.b.', 'a/b.c', 'a.b/c', 'Sh.serval', 'a.B', 'a-b.c', 'a.b c', 'a.b\0', `${'a'.repeat(64)}.${'b'.repeat(64)}`, 'ä.b'];
  for (const s of bad) {
    assert.throws(() => validateFqName(s), (err) => isWarrenError(err, 'E_FQ_NAME_INVALID') && err.details.fq === s, JSON.stringify(s));
  }
});

test('versions must be exact semver, written canonically', () => {
  assert.equal(validateVersion('1.2.0-rc.1'), '1.2.0-rc.1');
  for (const v of ['1.2', 'v1.2.0', '=1.2.0', ' 1.2.0', '1.2.0+build', '01.2.0', 'latest']) {
    assert.throws(() => validateVersion(v), (err) => isWarrenError(err, 'E_VERSION_INVALID'), v);
  }
});
