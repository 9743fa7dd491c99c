#!/usr/bin/env node
// strata: worker start | mount add/list/remove | status | cache stats/free/load | conf get/list/docs
import { Command, Option } from 'commander';
import { Config } from '../server/config.js';
import { configDocument } from '../server/configSchema.js';
import { Worker } from '../server/worker.js';
import type { RingDescription } from '../cluster/clusterView.js';
import { renderNginxUpstream } from '../cluster/nginxConfig.js';
import type { WorkerStatus } from '../metrics/adminServer.js';
import { renderStatus } from './statusText.js';
import { signHeaders, type SigningCredentials } from '../s3/auth/signer.js';
import { addCacheCommands } from './cacheCommands.js';

const program = new Command();
program.name('strata').description('Strata: a caching S3 gateway over existing storage').showHelpAfterError();

/** -D key=value, repeatable. */
function collectDefine(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`-D expects key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

function withConfigOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--conf <file>', 'properties file (key=value per line)').env('STRATA_CONF'))
    .option('-D, --define <key=value>', 'set a configuration key (repeatable)', collectDefine, {});
}

function loadConfig(opts: { conf?: string; define?: Record<string, string> }): Config {
  const config = new Config({ file: opts.conf, env: process.env, overrides: opts.define });
  for (const name of config.unknown.keys()) process.stderr.write(`strata: warning: unknown configuration key ${name}\n`);
  return config;
}

/** The admin API of the worker this command talks to. */
function adminUrl(config: Config, worker?: string): string {
  if (worker) return worker.startsWith('http') ? worker : `http://${worker}`;
  return `http://127.0.0.1:${config.int('strata.worker.web.port')}`;
}

/** Admin requests are signed (SigV4) when credentials are given: flags, else the AWS_* environment. */
function adminCredentials(opts: { accessKey?: string; secretKey?: string }): SigningCredentials | undefined {
  const accessKeyId = opts.accessKey ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = opts.secretKey ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: opts.accessKey ? undefined : process.env.AWS_SESSION_TOKEN || undefined };
}

function withAdminOptions(cmd: Command): Command {
  return cmd
    .option('--worker <host:port>', "the worker's admin address (default 127.0.0.1:<strata.worker.web.port>)")
    .option('--access-key <key>', 'sign admin requests with this access key (SIGV4/OIDC mode; default $AWS_ACCESS_KEY_ID)')
    .option('--secret-key <secret>', 'secret of --access-key (default $AWS_SECRET_ACCESS_KEY)');
}

async function callAdmin(base: string, method: string, path: string, body?: unknown, credentials?: SigningCredentials): Promise<Record<string, unknown>> {
  let res: Response;
  const text = body ? JSON.stringify(body) : undefined;
  let headers: Record<string, string> | undefined = body ? { 'content-type': 'application/json' } : undefined;
  if (credentials) headers = signHeaders({ method, url: base + path, headers, body: text, credentials });
  if (headers) delete headers.host; // fetch sets it (the same value)
  try {
    res = await fetch(base + path, {
      method,
      headers,
      body: text,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new Error(`cannot reach the worker's admin API at ${base} (${(e as Error).cause ?? (e as Error).message}); is the worker running?`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${json.error ?? res.status}: ${json.message ?? res.statusText}`);
  return json;
}

// ---- worker ---------------------------------------------------------------------------

const worker = program.command('worker').description('run a worker');
withConfigOptions(worker.command('start').description('start a worker serving the S3 API'))
  .option('--embedded', 'embedded default: CreateBucket under <work dir>/buckets and a bucket "data" when there is none')
  .action(async (opts) => {
    const config = loadConfig(opts);
    const w = await Worker.start(config, { embedded: Boolean(opts.embedded) });
    // A child of a multi-process worker is stopped by its primary (SIGTERM); Ctrl-C reaches the
    // whole process group, so children leave SIGINT to the primary.
    if (w.role === 'child') process.on('SIGINT', () => undefined);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      if (w.role !== 'child') w.logger.info({ signal }, 'draining');
      await w.stop();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    if (w.role !== 'child') process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => w.reloadTls());
  });

// ---- mount ----------------------------------------------------------------------------

const mount = program.command('mount').description('manage buckets (mount points) on a running worker');
withAdminOptions(withConfigOptions(mount.command('add').description('mount an existing storage as a bucket')))
  .requiredOption('--path <path>', 'bucket path, /<bucket>')
  .requiredOption('--ufs-uri <uri>', 'storage URI, e.g. file:///srv/data')
  .option('--option <key=value>', 'mount option (repeatable)', collectDefine, {})
  .action(async (opts) => {
    const config = loadConfig(opts);
    const out = await callAdmin(adminUrl(config, opts.worker), 'POST', '/api/v1/mounts', { path: opts.path, ufsUri: opts.ufsUri, options: opts.option }, adminCredentials(opts));
    const m = out.mount as { bucket: string; ufsUri: string };
    console.log(`Mounted ${m.ufsUri} at /${m.bucket}`);
  });
withAdminOptions(withConfigOptions(mount.command('list').description('list mounts')))
  .action(async (opts) => {
    const config = loadConfig(opts);
    const out = await callAdmin(adminUrl(config, opts.worker), 'GET', '/api/v1/mounts', undefined, adminCredentials(opts));
    for (const m of out.mounts as Array<{ bucket: string; ufsUri: string; options: Record<string, string>; origin: string }>) {
      const options = Object.entries(m.options).map(([k, v]) => `${k}=${/secret|password|token/i.test(k) ? '***' : v}`).join(',');
      console.log(`/${m.bucket}\t${m.ufsUri}\t${m.origin}${options ? `\t${options}` : ''}`);
    }
  });
withAdminOptions(withConfigOptions(mount.command('remove').description('remove a mount (its data stays)').argument('<path>', '/<bucket>')))
  .action(async (path: string, opts) => {
    const config = loadConfig(opts);
    await callAdmin(adminUrl(config, opts.worker), 'DELETE', `/api/v1/mounts/${encodeURIComponent(path.replace(/^\/+/, ''))}`, undefined, adminCredentials(opts));
    console.log(`Unmounted ${path}`);
  });

// ---- status ---------------------------------------------------------------------------

withAdminOptions(withConfigOptions(program.command('status').description("print a worker's status: totals, throughput, mounts, ring, recent errors")))
  .option('--json', 'print the raw JSON of /api/v1/status')
  .action(async (opts) => {
    const config = loadConfig(opts);
    const s = (await callAdmin(adminUrl(config, opts.worker), 'GET', '/api/v1/status', undefined, adminCredentials(opts))) as unknown as WorkerStatus;
    if (opts.json) {
      console.log(JSON.stringify(s, null, 2));
      return;
    }
    console.log(renderStatus(s));
  });

// ---- cache ---------------------------------------------------------------------------

addCacheCommands(program.command('cache').description("the page cache of a running worker: stats, free, load"), withConfigOptions, (opts) => {
  const base = adminUrl(loadConfig(opts), opts.worker as string | undefined);
  return { base, call: (method, path, body) => callAdmin(base, method, path, body) };
});

// ---- ring and load balancer -------------------------------------------------------------

withConfigOptions(program.command('ring').description('print the members of the hash ring and which worker owns a path'))
  .option('--path <path>', 'an object path, /<bucket>/<key>')
  .option('--worker <host:port>', "the worker's admin address")
  .option('--json', 'print the raw JSON of /api/v1/ring')
  .action(async (opts) => {
    const config = loadConfig(opts);
    const query = opts.path ? `?path=${encodeURIComponent(opts.path)}` : '';
    const d = (await callAdmin(adminUrl(config, opts.worker), 'GET', `/api/v1/ring${query}`)) as unknown as RingDescription;
    if (opts.json) {
      console.log(JSON.stringify(d, null, 2));
      return;
    }
    console.log(`membership ${d.kind}${d.connected ? '' : ' (etcd unreachable: last known ring)'}, algorithm ${d.algorithm}, ${d.virtualNodes} virtual nodes`);
    for (const m of d.members) console.log(`${m.address}\t${m.alive ? 'alive' : 'dead'}${m.self ? '\tself' : ''}`);
    if (d.path !== undefined) {
      console.log(`owner of ${d.path}: ${d.owner ?? '(none)'}${d.servedBy && d.servedBy !== d.owner ? ` (down; served by ${d.servedBy})` : ''}`);
    }
  });

const lb = program.command('lb').description('load balancer configurations from the live membership');
withConfigOptions(lb.command('nginx').description('print an nginx upstream that sends each request to its owner (Pattern C; use strata.worker.ring.algorithm=NGINX_KETAMA)'))
  .option('--worker <host:port>', "the worker's admin address")
  .option('--name <name>', 'name of the upstream block', 'strata_workers')
  .option('--listen <address>', "nginx's listen address", '29998')
  .action(async (opts) => {
    const config = loadConfig(opts);
    const d = (await callAdmin(adminUrl(config, opts.worker), 'GET', '/api/v1/ring')) as unknown as RingDescription;
    if (d.algorithm !== 'NGINX_KETAMA') {
      process.stderr.write(`strata: the ring uses ${d.algorithm}; nginx picks the owner only with strata.worker.ring.algorithm=NGINX_KETAMA on every worker\n`);
    }
    process.stdout.write(renderNginxUpstream(d.members.map((m) => ({ id: m.id, address: m.address })), { upstream: opts.name, listen: opts.listen }));
  });

// ---- conf -----------------------------------------------------------------------------

const conf = program.command('conf').description('read configuration');
withConfigOptions(conf.command('get').description('print the value of a key (strata.* or alluxio.*)').argument('<key>'))
  .action((key: string, opts) => {
    const config = loadConfig(opts);
    console.log(config.raw(key));
  });
withConfigOptions(conf.command('list').description('print every key with its value and where it came from'))
  .action((opts) => {
    const config = loadConfig(opts);
    for (const e of config.entries()) console.log(`${e.key}=${e.value}\t(${e.origin})`);
  });
conf
  .command('docs')
  .description('print docs/configuration.md (Markdown) generated from the schema')
  .action(() => {
    process.stdout.write(configDocument());
  });

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`strata: ${e.message}\n`);
  process.exit(1);
});
