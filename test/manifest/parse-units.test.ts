import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError } from '../../src/errors.js';
import { MAX_DURATION_MS, parseByteSize, parseDuration } from '../../src/manifest/parse-units.js';

test('byte sizes', () => {
  const cases: [string | number, number][] = [
    ['256MiB', 256 * 2 ** 20],
    ['1GiB', 2 ** 30],
    ['512KiB', 512 * 1024],
    ['100MB', 100_000_000],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['0.3KB', 300],
    ['1.1TB', 1_100_000_000_000],
    ['4096', 4096],
    [4096, 4096],
    ['10 MiB', 10 * 2 ** 20],
    ['7B', 7],
  ];
  for (const [input, bytes] of cases) assert.equal(parseByteSize(input, 'memory'), bytes, String(input));
});

test('bad byte sizes name the field', () => {
  for (const input of ['0', 0, -5, '-5MiB', '0MiB', 'lots', '1.5B', '1.5', 'MiB', '5mib', '5 GiBs', '1e3', ' 5MiB', 1.5, Number.NaN, Infinity, '99999999999TiB']) {
    assert.throws(
      () => parseByteSize(input, 'limits.memory'),
      (err) => isWarrenError(err, 'E_BAD_REQUEST') && err.message.startsWith('limits.memory: ') && err.details.field === 'limits.memory',
      String(input),
    );
  }
});

test('durations', () => {
  const cases: [string | number, number][] = [
    ['30s', 30_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    [250, 250],
    ['250', 250],
    ['20d', 20 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['24d', MAX_DURATION_MS],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input, 'timeout'), ms, String(input));
  for (const input of ['0s', '-1s', 'soon', '1.5ms', '2y', '30 seconds', 0]) {
    assert.throws(() => parseDuration(input, 'timeout'), (err) => isWarrenError(err, 'E_BAD_REQUEST') && err.message.startsWith('timeout: '), String(input));
  }
});

test('durations are capped where a timer could not wait them: 2562047h is refused, not a job that fails at once', () => {
  for (const input of ['2562047h', '25d', '4w', MAX_DURATION_MS + 1]) {
    assert.throws(
      () => parseDuration(input, 'timeout'),
      (err) => isWarrenError(err, 'E_BAD_REQUEST') && err.message === `timeout: must be at most 24d, got ${JSON.stringify(String(input))}`,
      String(input),
    );
  }
  // A longer cap where the caller allows it (token TTLs), same grammar.
  assert.equal(parseDuration('30d', 'ttl', 365 * 86_400_000), 30 * 86_400_000);
  assert.ok(MAX_DURATION_MS < 2 ** 31 - 1, 'below the longest setTimeout');
});
