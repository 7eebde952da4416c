import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkWebhookUrl, postChecked, refusedAddressClass } from '../../../connectors/alerts/egress.ts';

test('internal address ranges are refused, IPv4 embedded in IPv6 judged by its IPv4, public ones allowed', () => {
  const cases: [string, string | null][] = [
    ['169.254.169.254', 'link-local'], ['127.0.0.1', 'loopback'], ['127.8.9.10', 'loopback'], ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'], ['100.64.0.1', 'private (shared address space)'], ['0.0.0.0', 'unspecified'], ['224.0.0.251', 'multicast'], ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'], ['::1', 'loopback'], ['fe80::1%eth0', 'link-local'], ['fc00::1', 'private (unique local)'], ['fd12:3456::1', 'private (unique local)'], ['ff02::1', 'multicast'],
    ['::ffff:169.254.169.254', 'link-local'], ['::ffff:7f00:1', 'loopback'], ['64:ff9b::a9fe:a9fe', 'link-local'], ['2002:0a00:0001::1', 'private'],
    ['8.8.8.8', null], ['172.32.0.1', null], ['93.184.216.34', null], ['2001:4860:4860::8888', null], ['::ffff:8.8.8.8', null],
    ['not-an-ip', 'not an IP address'], ['1::2::3', 'not an IP address'], ['300.1.1.1', 'not an IP address'],
  ];
  for (const [ip, want] of cases) assert.equal(refusedAddressClass(ip), want, ip);
});

test('creation: a name is resolved and every address checked; an unresolvable one is named', async () => {
  const resolve = async (h: string) => (h === 'mixed.example' ? [{ address: '93.184.216.34', family: 4 }, { address: '192.168.1.1', family: 4 }] : h === 'gone.example' ? [] : [{ address: '93.184.216.34', family: 4 }]);
  await checkWebhookUrl('https://ok.example/x', { allowPrivate: false, resolve });
  await assert.rejects(checkWebhookUrl('https://mixed.example/x', { allowPrivate: false, resolve }), /mixed\.example resolves to 192\.168\.1\.1, a private address/);
  await assert.rejects(checkWebhookUrl('https://gone.example/x', { allowPrivate: false, resolve }), /does not resolve/);
  await assert.rejects(checkWebhookUrl('http://app.localhost/x', { allowPrivate: false, resolve }), /loopback/);
  await checkWebhookUrl('http://127.0.0.1/x', { allowPrivate: true, resolve });
});

test('delivery connects only to a checked address; with --webhook-allow-private a local receiver gets the body', async () => {
  let got = '';
  const srv = createServer((req, res) => {
    req.setEncoding('utf8');
    req.on('data', (c: string) => (got += c));
    req.on('end', () => res.writeHead(202, { 'retry-after': '7' }).end('ok'));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    await assert.rejects(postChecked(`http://127.0.0.1:${port}/`, 'x', { allowPrivate: false }, { headers: {}, timeoutMs: 1000 }), (e: Error & { kind: string }) => e.kind === 'refused');
    assert.equal(got, '', 'nothing was sent');
    // A name resolving to loopback goes through the lookup: refused there, before connecting.
    await assert.rejects(postChecked(`http://sneaky.example:${port}/`, 'x', { allowPrivate: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] }, { headers: {}, timeoutMs: 1000 }), (e: Error & { kind: string }) => e.kind === 'refused');
    assert.equal(got, '');
    const r = await postChecked(`http://sneaky.example:${port}/`, '{"a":1}', { allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] }, { headers: { 'content-type': 'application/json' }, timeoutMs: 2000 });
    assert.deepEqual(r, { status: 202, retryAfter: '7' });
    assert.equal(got, '{"a":1}');
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
});
