import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWarrenError } from '../../src/errors.js';
import type { WorkerRecord } from '../../src/records.js';
import { parseWorkerFilter } from '../../src/services/workers/parse-worker-filter.js';

const worker = (over: Partial<WorkerRecord> = {}): WorkerRecord => ({
  id: 'w_1',
  name: 'api-eu-1',
  namespace: 'sh.x',
  component: 'sh.x.api',
  version: '1.10.0',
  node: 'n',
  status: 'idle',
  env: { REGION: 'eu', 'TIER': 'gold plated' },
  args: [],
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
  lastSnapshot: null,
  lastCommit: null,
  ...over,
});

const matches = (f: string, w = worker()) => parseWorkerFilter(f).matches(w);

test('clauses, operators and and', () => {
  assert.equal(matches('status == idle and env.REGION == eu'), true);
  assert.equal(matches('status==idle and env.REGION==us'), false);
  assert.equal(matches('name startswith api- AND name like %eu%'), true);
  assert.equal(matches('name like api-__-1'), true, '_ is one character');
  assert.equal(matches('name like eu'), true, 'no wildcard: substring');
  assert.equal(matches('name like "pi-eu"'), true, 'quoted pattern, substring');
  assert.equal(matches('name like api-eu'), true);
  assert.equal(matches('name like api-eu%2'), false, 'with a wildcard the whole name must match');
  assert.equal(matches('name != api-eu-1'), false);
  // the wildcard walk: leading, trailing, repeated and adjacent wildcards
  assert.equal(matches('name like api%'), true);
  assert.equal(matches('name like %-1'), true);
  assert.equal(matches('name like %%eu%%'), true);
  assert.equal(matches('name like a%e%1'), true);
  assert.equal(matches('name like a%e%2'), false);
  assert.equal(matches('name like %_%'), true);
  assert.equal(matches('name like ________'), true, 'api-eu-1 has 8 characters');
  assert.equal(matches('name like _______'), false);
  assert.equal(matches('name like %a%p%i%-%e%u%-%1%'), true);
});

test('version compares as semver, created_at as dates, strings lexicographically', () => {
  assert.equal(matches('version > 1.9.0'), true, '1.10.0 > 1.9.0 as semver (not as text)');
  assert.equal(matches('version <= 1.10.0 and version >= 1.10.0'), true);
  assert.equal(matches('created_at > 2026-02-28'), true);
  assert.equal(matches('created_at < 2026-03-01T09:59:59Z'), false);
  assert.equal(matches('name > api-a'), true);
  assert.equal(matches('env.TIER == "gold plated"'), true, 'quoted values hold spaces');
  assert.equal(matches('env.MISSING == x'), false);
  assert.equal(matches('env.MISSING != x'), true);
  assert.equal(parseWorkerFilter(undefined).matches(worker()), true);
  assert.equal(parseWorkerFilter(['status == idle', 'env.REGION == eu']).clauses.length, 2);
});

test('mistakes are E_FILTER_INVALID', () => {
  for (const bad of ['status', 'status ==', '== idle', 'status === idle', 'status ~ idle', 'status == idle or name == a', 'status == idle and', 'colour == red', 'status == zombie', 'status < idle', 'version >= x.y', 'created_at > soon', 'name == "unterminated']) {
    assert.throws(() => parseWorkerFilter(bad), (err: unknown) => isWarrenError(err, 'E_FILTER_INVALID'), bad);
  }
});
