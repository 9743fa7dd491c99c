import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderNginxUpstream } from '../../../src/cluster/nginxConfig.js';

const members = [
  { id: 'w-b', address: '10.0.0.2:29998' },
  { id: 'w-a', address: '10.0.0.1:29998' },
  { id: '10.0.0.3:29998', address: '10.0.0.3:29998' },
];

test('renderNginxUpstream: hash $uri consistent over the addresses in ring order, then keepalive', () => {
  const conf = renderNginxUpstream(members);
  const lines = conf.split('\n').map((l) => l.trim());
  const servers = lines.filter((l) => l.startsWith('server 10.'));
  assert.deepEqual(servers, ['server 10.0.0.1:29998;  # w-a', 'server 10.0.0.2:29998;  # w-b', 'server 10.0.0.3:29998;']);
  const at = (directive: string) => lines.findIndex((l) => l.startsWith(directive));
  assert.ok(at('upstream strata_workers {') >= 0);
  assert.ok(at('hash $uri consistent;') < at('keepalive 64;'), 'the balancing method comes before keepalive');
  for (const d of [
    'listen 29998;',
    'merge_slashes off;',
    'client_max_body_size 0;',
    'proxy_request_buffering off;',
    'proxy_buffering off;',
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $http_host;',
    'proxy_pass http://strata_workers;',
  ]) {
    assert.ok(at(d) >= 0, `has ${d}`);
  }
  assert.equal(conf.split('{').length, conf.split('}').length, 'braces balance');
});

test('renderNginxUpstream: options, and refuses what would break the config', () => {
  const conf = renderNginxUpstream(members, { upstream: 's3', listen: '127.0.0.1:8080', keepalive: 8, proxyTimeout: '60s' });
  assert.match(conf, /upstream s3 \{/);
  assert.match(conf, /listen 127\.0\.0\.1:8080;/);
  assert.match(conf, /keepalive 8;/);
  assert.match(conf, /proxy_read_timeout 60s;/);
  assert.throws(() => renderNginxUpstream([]), /no workers/);
  assert.throws(() => renderNginxUpstream([{ id: 'x', address: '1.2.3.4:80; evil' }]), /bad member address/);
  assert.throws(() => renderNginxUpstream(members, { upstream: 'a b' }), /upstream name/);
  assert.throws(() => renderNginxUpstream(members, { keepalive: 0 }), /keepalive/);
});
