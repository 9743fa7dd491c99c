// CPU cost of verifying one header-signed S3 request (SIGV4 mode), in one process:
// `npm run build && node dist/bench/sigv4Verify.js`.
import { makeCredential } from '../src/s3/auth/credentialsFile.js';
import { signHeaders } from '../src/s3/auth/signer.js';
import { verifySigV4 } from '../src/s3/auth/sigv4.js';

const cred = makeCredential('AKIDBENCH', 'bench/Secret+Key=', 'bench');
const source = { lookup: (id: string) => (id === cred.accessKeyId ? cred : undefined) };
const path = '/data/some/key%20with%20space.txt?x-id=GetObject';
const headers = signHeaders({
  method: 'GET',
  url: `http://127.0.0.1:29998${path}`,
  credentials: { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey },
  headers: { 'x-amz-user-agent': 'aws-sdk-js/3', 'user-agent': 'bench', 'amz-sdk-invocation-id': 'id', 'amz-sdk-request': 'attempt=1; max=1' },
});
const req = { method: 'GET', url: path, headers, rawHeaders: Object.entries(headers).flat() };
for (let i = 0; i < 5000; i++) verifySigV4(req, source);
const n = 100_000;
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) verifySigV4(req, source);
const us = Number(process.hrtime.bigint() - t) / 1e3 / n;
console.log(`verifySigV4: ${us.toFixed(1)} µs per request, ${Math.round(1e6 / us)} a second on one core`);
