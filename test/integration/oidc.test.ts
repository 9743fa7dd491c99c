// OIDC mode against a real OpenID provider on loopback (oidc-provider): Authorization: Bearer
// with curl, STS AssumeRoleWithWebIdentity with boto3, the AWS SDK v3 and curl, and the temporary
// credentials it issues (stateless: known to anything holding the worker's cluster secret).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { TemporaryCredentials } from '../../src/s3/auth/temporaryCredentials.js';
import { loadClusterSecret } from '../../src/server/clusterSecret.js';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Error } from '../helpers/s3.js';
import { OidcProvider } from '../helpers/oidcProvider.js';
import { REPO_ROOT, runCli, type RunningWorker, startWorker } from '../helpers/worker.js';

const PYTHON = '/usr/bin/python3';

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 16 << 20, timeout: 120_000, env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function curl(...args: string[]) {
  return run('/usr/bin/curl', ['-sS', '-w', '\n%{http_code}', ...args]);
}

function codeOf(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

export function oidcConf(idp: OidcProvider): Record<string, string> {
  return {
    'strata.security.authentication.type': 'OIDC',
    'strata.security.oidc.issuer': idp.issuer,
    'strata.security.oidc.audience': 'strata',
    'strata.security.oidc.jwks.refresh.cooldown': '0s',
    'strata.security.oidc.clock.tolerance': '5s',
    'strata.worker.s3.event.loops': '2',
  };
}

describe('OIDC mode', { timeout: 300_000 }, () => {
  let idp: OidcProvider;
  let w: RunningWorker;

  before(async () => {
    idp = await OidcProvider.start();
    w = await startWorker({ conf: oidcConf(idp) });
  });
  after(async () => {
    await w?.stop();
    await idp?.stop();
  });

  test('curl with Authorization: Bearer puts, gets and lists as the token\'s user', async () => {
    const token = await idp.idToken({ sub: 'alice', groups: ['dev'] });
    const auth = `Authorization: Bearer ${token}`;
    let r = await curl('-X', 'PUT', '--data-binary', 'hello bearer', '-H', auth, `${w.s3Url}/data/bearer/a.txt`);
    assert.equal(r.stdout.split('\n').pop(), '200', r.stdout + r.stderr);
    r = await curl('-H', auth, `${w.s3Url}/data/bearer/a.txt`);
    assert.deepEqual(r.stdout.split('\n'), ['hello bearer', '200']);
    r = await curl('-H', auth, `${w.s3Url}/data?list-type=2&prefix=bearer/&fetch-owner=true`);
    assert.match(r.stdout, /<Key>bearer\/a\.txt<\/Key>/);
    assert.match(r.stdout, /<ID>alice<\/ID>/, 'the object is owned by the token\'s user');
  });

  test('without a token, or with an expired, foreign or wrong-audience one, requests are refused', async () => {
    let a = await rawRequest(w.s3Port, 'GET', '/data?list-type=2');
    assert.equal(a.status, 403);
    assert.equal(codeOf(a.body), 'AccessDenied');
    a = await rawRequest(w.s3Port, 'GET', '/data?list-type=2', undefined, { authorization: 'AWS4-HMAC-SHA256 Credential=someone/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' });
    assert.ok(a.status === 400 || a.status === 403, `naming a user is not enough in OIDC mode: ${a.body}`);
    assert.doesNotMatch(a.body, /ListBucketResult/);
    const cases: Array<[string, string, number]> = [
      ['expired', await idp.idToken({ ttl: -60 }), 400],
      ['foreign', await idp.foreignToken(), 400],
      ['unknown kid', await idp.foreignToken('nobody-knows'), 400],
      ['other audience', await idp.idToken({ client: 'other-app' }), 400],
      ['garbage', 'not-a-token', 400],
    ];
    for (const [name, token, status] of cases) {
      a = await rawRequest(w.s3Port, 'GET', '/data/bearer/a.txt', undefined, { authorization: `Bearer ${token}` });
      assert.equal(a.status, status, `${name}: ${a.body}`);
      assert.equal(codeOf(a.body), name === 'expired' ? 'ExpiredToken' : 'InvalidToken', name);
      assert.doesNotMatch(a.body, /hello bearer/);
    }
  });

  test('a new provider key (rotation) is picked up from its JWKS on the first token that uses it', async () => {
    await idp.rotate();
    const a = await rawRequest(w.s3Port, 'GET', '/data/bearer/a.txt', undefined, { authorization: `Bearer ${await idp.idToken({ sub: 'alice' })}` });
    assert.equal(a.status, 200, a.body);
    assert.equal(a.body, 'hello bearer');
  });

  test('boto3: assume_role_with_web_identity, then S3 calls signed with the temporary credentials; bad tokens get STS errors', async () => {
    const r = await run(PYTHON, [join(REPO_ROOT, 'test', 'integration', 'py', 'boto3_sts.py'), w.s3Url,
      await idp.idToken({ sub: 'bob', groups: ['readers', 'writers'] }), await idp.idToken({ ttl: -60 }), await idp.foreignToken(), '--s3']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.creds.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(out.subject, 'bob');
    assert.equal(out.audience, 'strata');
    assert.equal(out.provider, idp.issuer);
    assert.equal(out.arn, 'arn:aws:sts::000000000000:assumed-role/strata-reader/boto3-session');
    const expires = Date.parse(out.creds.Expiration);
    assert.ok(expires > Date.now() + 800_000 && expires < Date.now() + 1000_000, out.creds.Expiration);
    assert.deepEqual(out.errors, { expired: ['ExpiredTokenException', 400, 'Sender'], foreign: ['InvalidIdentityToken', 400, 'Sender'] });
    assert.equal(out.get, 'hello from boto3');
    assert.deepEqual(out.list, ['from-boto3/hello.txt']);
    assert.equal(out.tampered, 'InvalidAccessKeyId', 'a session token altered by the client is not ours');
    // Stateless: anything with the cluster secret knows them, with the token's user and groups.
    const known = new TemporaryCredentials(await loadClusterSecret('', w.workDir)).lookup(out.creds.AccessKeyId, out.creds.SessionToken);
    assert.equal(known?.secretAccessKey, out.creds.SecretAccessKey);
    assert.equal(known?.user, 'bob');
    assert.deepEqual(known?.groups, ['readers', 'writers']);
  });

  test('AWS SDK v3: AssumeRoleWithWebIdentityCommand against Strata\'s endpoint', async () => {
    const sts = new STSClient({ endpoint: w.s3Url, region: 'us-east-1', maxAttempts: 1 });
    try {
      const out = await sts.send(new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/any', RoleSessionName: 'sdk', WebIdentityToken: await idp.idToken({ sub: 'carol' }),
      }));
      assert.match(out.Credentials?.AccessKeyId ?? '', /^ASIA/);
      assert.ok(out.Credentials?.SecretAccessKey && out.Credentials.SessionToken);
      const hour = (out.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
      assert.ok(hour > 3500_000 && hour <= 3600_000, `default lifetime is an hour, got ${hour} ms`);
      assert.equal(out.SubjectFromWebIdentityToken, 'carol');
      assert.equal(out.AssumedRoleUser?.AssumedRoleId, `${out.Credentials?.AccessKeyId}:sdk`);
      // The S3 client signs with them (x-amz-security-token) on any of the worker's processes.
      const c = out.Credentials!;
      const s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
      try {
        for (let i = 0; i < 6; i++) await s3.send(new PutObjectCommand({ Bucket: 'data', Key: `from-sdk/${i}.txt`, Body: `sdk ${i}` }));
        assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'from-sdk/3.txt' })))).toString(), 'sdk 3');
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'from-sdk/', FetchOwner: true }));
        assert.equal(listed.KeyCount, 6);
        assert.equal(listed.Contents?.[0].Owner?.ID, 'carol', 'objects are owned by the token\'s user');
      } finally {
        s3.destroy();
      }
      const e = await sts.send(new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/any', RoleSessionName: 'sdk', WebIdentityToken: await idp.idToken({ client: 'other-app' }),
      })).then(() => undefined, (err: unknown) => err);
      assert.ok(e instanceof STSServiceException, String(e));
      assert.equal(e.name, 'InvalidIdentityTokenException', 'the SDK names the wire code InvalidIdentityToken so');
      assert.equal(e.$metadata.httpStatusCode, 400);
    } finally {
      sts.destroy();
    }
  });

  test('AWS CLI: sts assume-role-with-web-identity, then aws s3 cp and ls with the credentials', async () => {
    const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = (args: string[], extra: Record<string, string> = {}) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('/usr/bin/aws', [...args, '--endpoint-url', w.s3Url], { env: { ...env, ...extra }, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code) || -1 : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    });
    const r = await aws(['sts', 'assume-role-with-web-identity', '--role-arn', 'arn:aws:iam::000000000000:role/x', '--role-session-name', 'cli',
      '--web-identity-token', await idp.idToken({ sub: 'cli-user' }), '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout).Credentials;
    const creds = { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken };
    const cp = await aws(['s3', 'cp', join(REPO_ROOT, 'package.json'), 's3://data/from-cli/package.json'], creds);
    assert.equal(cp.code, 0, cp.stderr);
    const ls = await aws(['s3', 'ls', 's3://data/from-cli/'], creds);
    assert.match(ls.stdout, /package\.json/);
    const bad = await aws(['sts', 'assume-role-with-web-identity', '--role-arn', 'arn:aws:iam::000000000000:role/x', '--role-session-name', 'cli',
      '--web-identity-token', await idp.foreignToken()]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidIdentityToken/);
  });

  test('curl: the query form, and STS errors as STS gives them', async () => {
    const token = await idp.idToken({ sub: 'dave' });
    let r = await curl('-X', 'POST', `${w.s3Url}/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15&DurationSeconds=3600&WebIdentityToken=${token}`);
    assert.match(r.stdout, /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><AssumeRoleWithWebIdentityResult>/);
    assert.match(r.stdout, /<Credentials><AccessKeyId>ASIA\w+<\/AccessKeyId><SecretAccessKey>[^<]+<\/SecretAccessKey><SessionToken>[^<]+<\/SessionToken><Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration><\/Credentials>/);
    assert.match(r.stdout, /<ResponseMetadata><RequestId>\w+<\/RequestId><\/ResponseMetadata>/);
    const form = (body: string) => curl('-X', 'POST', '-H', 'content-type: application/x-www-form-urlencoded', '--data', body, `${w.s3Url}/`);
    const errors: Array<[string, string]> = [
      [`Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=${token}&DurationSeconds=60`, 'ValidationError'],
      [`Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=${token}&DurationSeconds=43201`, 'ValidationError'],
      [`Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=${token}&RoleSessionName=a%20b`, 'ValidationError'],
      ['Action=AssumeRoleWithWebIdentity&Version=2011-06-15', 'MissingParameter'],
      [`Action=AssumeRole&Version=2011-06-15&WebIdentityToken=${token}`, 'InvalidAction'],
      [`Version=2011-06-15&WebIdentityToken=${token}`, 'MissingAction'],
      ['Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=abc.def.ghi', 'InvalidIdentityToken'],
    ];
    for (const [body, code] of errors) {
      r = await form(body);
      const [xml, status] = [r.stdout.slice(0, r.stdout.lastIndexOf('\n')), r.stdout.split('\n').pop()];
      assert.equal(status, '400', xml);
      assert.match(xml, new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>[^<]+</Message></Error><RequestId>\\w+</RequestId></ErrorResponse>$`), body);
    }
  });
});

describe('OIDC groups in the policy and for the admin API', { timeout: 300_000 }, () => {
  let idp: OidcProvider;
  let w: RunningWorker;
  let dir: string;

  before(async () => {
    idp = await OidcProvider.start();
    dir = mkdtempSync(join(tmpdir(), 'strata-oidc-policy-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ rules: [
      { principals: ['group:writers'], actions: ['*'], buckets: ['data'] },
      { principals: ['group:readers'], actions: ['read', 'list'], buckets: ['data'] },
    ] }));
    w = await startWorker({ conf: { ...oidcConf(idp), 'strata.security.authorization.policy.file': join(dir, 'policy.json'), 'strata.security.admin.users': 'group:admins' } });
  });
  after(async () => {
    await w?.stop();
    await idp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function assume(sub: string, groups: string[]) {
    const sts = new STSClient({ endpoint: w.s3Url, region: 'us-east-1', maxAttempts: 1 });
    try {
      return (await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: sub, WebIdentityToken: await idp.idToken({ sub, groups }) }))).Credentials!;
    } finally {
      sts.destroy();
    }
  }

  test('the groups of the token decide, for Bearer requests and for temporary credentials', async () => {
    const c = await assume('wendy', ['writers']);
    const s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'policy/w.txt', Body: 'written by a writer' }));
    } finally {
      s3.destroy();
    }
    const reader = `Bearer ${await idp.idToken({ sub: 'rita', groups: ['readers'] })}`;
    let a = await rawRequest(w.s3Port, 'GET', '/data/policy/w.txt', undefined, { authorization: reader });
    assert.equal(a.body, 'written by a writer');
    a = await rawRequest(w.s3Port, 'PUT', '/data/policy/r.txt', 'no', { authorization: reader });
    assert.equal(a.status, 403);
    assert.equal(codeOf(a.body), 'AccessDenied');
    a = await rawRequest(w.s3Port, 'GET', '/data/policy/w.txt', undefined, { authorization: `Bearer ${await idp.idToken({ sub: 'nobody' })}` });
    assert.equal(a.status, 403, 'no group, no rule');
  });

  test('temporary credentials of a member of an admin group sign CLI admin requests', async () => {
    const env = (c: Awaited<ReturnType<typeof assume>>) => ({ ...process.env, AWS_ACCESS_KEY_ID: c.AccessKeyId!, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey!, AWS_SESSION_TOKEN: c.SessionToken! });
    const admin = await runCli(['mount', 'list', '--worker', `127.0.0.1:${w.webPort}`], env(await assume('ada', ['admins'])));
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stdout, /data/);
    const other = await runCli(['mount', 'list', '--worker', `127.0.0.1:${w.webPort}`], env(await assume('wendy', ['writers'])));
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /AccessDenied|not in strata.security.admin.users/);
  });
});

describe('temporary credentials over time', { timeout: 300_000 }, () => {
  let idp: OidcProvider;
  let workDir: string;

  before(async () => {
    idp = await OidcProvider.start();
    workDir = mkdtempSync(join(tmpdir(), 'strata-oidc-'));
  });
  after(async () => {
    await idp?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test('they keep working after a restart, and answer ExpiredToken once they expire', async () => {
    const conf = { ...oidcConf(idp), 'strata.security.sts.duration.min': '1s', 'strata.worker.s3.event.loops': '1' };
    let w = await startWorker({ conf, workDir });
    const sts = new STSClient({ endpoint: w.s3Url, region: 'us-east-1', maxAttempts: 1 });
    let s3: S3Client | undefined;
    try {
      const token = await idp.idToken({ sub: 'erin' });
      const long = (await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'long', WebIdentityToken: token }))).Credentials!;
      const short = (await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/x', RoleSessionName: 'short', WebIdentityToken: token, DurationSeconds: 1 }))).Credentials!;
      await w.stop();
      w = await startWorker({ conf, workDir });
      const client = (c: typeof long) => new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
      s3 = client(long);
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'after-restart.txt', Body: 'still valid' }));
      assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'after-restart.txt' })))).toString(), 'still valid');
      // Wait until the short ones are past their expiry (whole seconds), then they are refused.
      await new Promise((r) => setTimeout(r, Math.max(0, short.Expiration!.getTime() - Date.now()) + 1100));
      const expired = client(short);
      try {
        assert.deepEqual(await s3Error(expired.send(new GetObjectCommand({ Bucket: 'data', Key: 'after-restart.txt' }))), { code: 'ExpiredToken', status: 400 });
      } finally {
        expired.destroy();
      }
    } finally {
      s3?.destroy();
      sts.destroy();
      await w.stop();
    }
  });
});

describe('outside OIDC mode', { timeout: 60_000 }, () => {
  let w: RunningWorker;
  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.stop();
  });

  test('POST / stays MethodNotAllowed and GET / with an Action stays ListBuckets', async () => {
    let a = await rawRequest(w.s3Port, 'POST', '/', 'Action=AssumeRoleWithWebIdentity&WebIdentityToken=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(a.status, 405);
    assert.equal(codeOf(a.body), 'MethodNotAllowed');
    a = await rawRequest(w.s3Port, 'GET', '/?Action=AssumeRoleWithWebIdentity');
    assert.equal(a.status, 200);
    assert.match(a.body, /<ListAllMyBucketsResult/);
  });
});
