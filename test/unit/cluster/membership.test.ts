import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ClusterView } from '../../../src/cluster/clusterView.js';
import { leaseTtlSeconds } from '../../../src/cluster/etcdMembership.js';
import { type Member, type Membership, parseAddress, probe, StaticMembership } from '../../../src/cluster/membership.js';
import { DEFAULT_RING_OPTIONS } from '../../../src/cluster/ring.js';

const self: Member = { id: '10.0.0.1:29998', address: '10.0.0.1:29998' };

test('parseAddress reads host:port and [v6]:port, and refuses the rest', () => {
  assert.deepEqual(parseAddress('h.example:80'), { host: 'h.example', port: 80 });
  assert.deepEqual(parseAddress('[::1]:29998'), { host: '::1', port: 29998 });
  for (const bad of ['h', 'h:', ':80', 'h:99999', 'h:8a']) assert.throws(() => parseAddress(bad), /host:port/, bad);
});

test('STATIC membership: the configured list (duplicates dropped, self kept as given), or self alone', () => {
  const m = new StaticMembership({ self, workers: ['10.0.0.2:29998', '10.0.0.1:29998', ' 10.0.0.2:29998 ', ''], detectionTimeoutMs: 1000, probeIntervalMs: 0 });
  assert.deepEqual(m.members().map((x) => x.id), ['10.0.0.2:29998', '10.0.0.1:29998']);
  assert.equal(m.members()[1], self);
  assert.ok(m.isAlive('10.0.0.2:29998'));
  assert.deepEqual(new StaticMembership({ self, workers: [], detectionTimeoutMs: 1000, probeIntervalMs: 0 }).members(), [self]);
  assert.throws(() => new StaticMembership({ self, workers: ['nonsense'], detectionTimeoutMs: 1000, probeIntervalMs: 0 }), /host:port/);
});

test('probe tells a listening port from a closed one', async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  assert.equal(await probe(`127.0.0.1:${port}`, 2000), true);
  await new Promise((r) => server.close(r));
  assert.equal(await probe(`127.0.0.1:${port}`, 2000), false);
});

test('the etcd lease TTL is the detection timeout in whole seconds, 2 at least', () => {
  assert.equal(leaseTtlSeconds(15_000), 15);
  assert.equal(leaseTtlSeconds(2_500), 3);
  assert.equal(leaseTtlSeconds(500), 2);
});

/** A membership whose members and liveness the test sets. */
class FakeMembership implements Membership {
  readonly kind = 'ETCD';
  dead = new Set<string>();
  private listeners: Array<() => void> = [];
  constructor(readonly self: Member, public list: Member[]) {}
  members() { return this.list; }
  isAlive(id: string) { return !this.dead.has(id); }
  connected() { return true; }
  onChange(l: () => void) { this.listeners.push(l); }
  async start() {}
  async join() {}
  async stop() {}
  change() { for (const l of this.listeners) l(); }
}

test('ClusterView: the owner, the next live member when the owner is known dead, rebuilt on change', () => {
  const a = { id: 'a:1', address: 'a:1', httpsAddress: 'a:2' };
  const b = { id: 'b:1', address: 'b:1' };
  const c = { id: 'c:1', address: 'c:1' };
  const fake = new FakeMembership(a, [a, b, c]);
  let rebuilt = 0;
  const view = new ClusterView(fake, DEFAULT_RING_OPTIONS, () => rebuilt++);
  assert.ok(view.clustered);
  const paths = Array.from({ length: 200 }, (_, i) => `/bucket/key-${i}`);
  const ownedByB = paths.find((p) => view.serverOf(p, false)?.id === 'b:1')!;
  const ownedByA = paths.find((p) => view.serverOf(p, false)?.id === 'a:1')!;
  // Members come back whole (the ring keeps id and address only).
  assert.equal(view.serverOf(ownedByA, true)?.httpsAddress, 'a:2');
  fake.dead.add('b:1');
  assert.equal(view.serverOf(ownedByB, false)?.id, 'b:1');
  const next = view.serverOf(ownedByB, true)!;
  assert.notEqual(next.id, 'b:1');
  assert.equal(view.describe(ownedByB).servedBy, next.id);
  assert.equal(view.describe(ownedByB).owner, 'b:1');
  fake.list = [a];
  fake.change();
  assert.equal(rebuilt, 2);
  assert.equal(view.serverOf(ownedByB, true)?.id, 'a:1');
  assert.ok(!view.clustered);
});
