// Upload throughput: a 1 GiB single PUT and a 1 GiB multipart upload (16 MiB parts, 8 in
// parallel) through the worker, beside `dd` writing the same size to the same disk, and the
// time CompleteMultipartUpload takes beside `cp` of the same size on that disk, in one run.
//
//   npm run build && node dist/bench/uploads.js [--size 1g] [--part 16m] [--parallel 8]
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { commandLine, fmt, machineLine, MiB, parseFlags, parseSize, runMain, sampleRss, sizeLabel, table } from './lib.js';
import { startBenchWorker } from './workerProc.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends `size` bytes made of repeats of `block` (no object is held whole in memory here either). */
function send(agent: Agent, url: string, method: string, size: number, block: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'content-length': String(size) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent);
        sent += n;
        if (!req.write(n === block.length ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function ask(agent: Agent, url: string, method: string, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const size = parseSize(flags.get('size') ?? '1g');
  const partSize = parseSize(flags.get('part') ?? '16m');
  const parallel = Number(flags.get('parallel') ?? 8);
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);

  // Durable writes on both sides: the worker fdatasyncs before acknowledging, dd with conv=fdatasync.
  const bw = await startBenchWorker({ 'strata.underfs.local.fsync.enabled': 'true', 'strata.worker.s3.access.logging.enabled': 'false' });
  const w = bw.worker;
  const bucketDir = join(w.rootUfs, 'data');
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const block = randomBytes(partSize);
  const rows: string[][] = [['what', 'size', 'seconds', 'MiB/s', 'vs dd']];
  try {
    // Anchor: dd of the same size onto the same disk.
    const ddFile = join(w.workDir, 'dd.bin');
    let t0 = process.hrtime.bigint();
    execFileSync('dd', ['if=/dev/zero', `of=${ddFile}`, `bs=${partSize}`, `count=${Math.ceil(size / partSize)}`, 'conv=fdatasync'], { stdio: 'ignore' });
    const ddSeconds = seconds(t0);
    const ddRate = size / MiB / ddSeconds;
    rows.push(['dd write (conv=fdatasync)', sizeLabel(size), fmt(ddSeconds, 2), fmt(ddRate), '1.00']);

    // Anchor for Complete: copying the same size on the same disk.
    t0 = process.hrtime.bigint();
    execFileSync('cp', [ddFile, `${ddFile}.copy`]);
    execFileSync('sync', [`${ddFile}.copy`]);
    const cpSeconds = seconds(t0);
    rmSync(ddFile, { force: true });
    rmSync(`${ddFile}.copy`, { force: true });

    const rss = sampleRss(bw.pid);
    t0 = process.hrtime.bigint();
    const put = await send(agent, `${w.s3Url}/data/single.bin`, 'PUT', size, block);
    const putSeconds = seconds(t0);
    if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${put.body}`);
    if (statSync(join(bucketDir, 'single.bin')).size !== size) throw new Error('the stored object has the wrong size');
    rows.push(['PUT (one request)', sizeLabel(size), fmt(putSeconds, 2), fmt(size / MiB / putSeconds), fmt(size / MiB / putSeconds / ddRate, 2)]);

    const created = await ask(agent, `${w.s3Url}/data/multipart.bin?uploads`, 'POST');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1];
    if (!uploadId) throw new Error(`CreateMultipartUpload answered ${created.status}: ${created.body}`);
    const parts = Math.ceil(size / partSize);
    const etags: string[] = new Array(parts);
    let next = 0;
    t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < parts) {
        const n = next++;
        const bytes = Math.min(partSize, size - n * partSize);
        const r = await send(agent, `${w.s3Url}/data/multipart.bin?partNumber=${n + 1}&uploadId=${uploadId}`, 'PUT', bytes, block);
        if (r.status !== 200) throw new Error(`UploadPart ${n + 1} answered ${r.status}: ${r.body}`);
        etags[n] = String(r.headers.etag);
      }
    }));
    const partsSeconds = seconds(t0);
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const t1 = process.hrtime.bigint();
    const done = await ask(agent, `${w.s3Url}/data/multipart.bin?uploadId=${uploadId}`, 'POST', xml);
    const completeSeconds = seconds(t1);
    const totalSeconds = seconds(t0);
    if (done.status !== 200 || !/<CompleteMultipartUploadResult/.test(done.body)) throw new Error(`Complete answered ${done.status}: ${done.body}`);
    const expectedEtag = createHash('md5').update(Buffer.concat(etags.map((e) => Buffer.from(e.replaceAll('"', ''), 'hex')))).digest('hex');
    if (!done.body.includes(`${expectedEtag}-${parts}`)) throw new Error('the multipart ETag is not md5(part md5s)-N');
    if (statSync(join(bucketDir, 'multipart.bin')).size !== size) throw new Error('the joined object has the wrong size');
    const peak = rss.stop();
    rows.push([`UploadPart x${parts} (${sizeLabel(partSize)}, ${parallel} at once)`, sizeLabel(size), fmt(partsSeconds, 2), fmt(size / MiB / partsSeconds), fmt(size / MiB / partsSeconds / ddRate, 2)]);
    rows.push(['multipart, parts + Complete', sizeLabel(size), fmt(totalSeconds, 2), fmt(size / MiB / totalSeconds), fmt(size / MiB / totalSeconds / ddRate, 2)]);
    console.log('');
    console.log(table(rows, [false, true, true, true, true]));
    console.log('');
    console.log(`CompleteMultipartUpload of ${parts} parts (${sizeLabel(size)}): ${fmt(completeSeconds, 2)} s; cp + sync of ${sizeLabel(size)} on the same disk: ${fmt(cpSeconds, 2)} s`);
    console.log(`worker peak RSS during the uploads: ${fmt(peak.processKiB / 1024)} MiB in one process, ${fmt(peak.treeKiB / 1024)} MiB for all of them`);
  } finally {
    agent.destroy();
    await bw.stop();
  }
}

await runMain(main, 15 * 60 * 1000);
