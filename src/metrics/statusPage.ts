// The status page served at / on the admin port: one self-contained HTML document (no build step,
// no external assets) that polls /api/v1/status and draws the last hour as small SVG charts.
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Strata worker</title>
<style>
  :root { --fg: #1d2430; --muted: #5b6473; --line: #e3e7ee; --accent: #2f6fdb; --warn: #c2410c; --bg: #f7f8fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header .sub { color: var(--muted); }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); max-width: 1400px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
  .card .v { font-size: 22px; font-weight: 600; }
  .card .k { color: var(--muted); font-size: 12px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .empty { color: var(--muted); font-style: italic; }
  .ok { color: #15803d; } .bad { color: var(--warn); }
  svg { width: 100%; height: 120px; display: block; }
  .legend { color: var(--muted); font-size: 12px; }
  code { font-size: 12px; }
</style>
</head>
<body>
<header><h1>Strata worker</h1><span class="sub" id="identity">loading…</span></header>
<main>
  <section class="wide">
    <h2>Totals</h2>
    <div class="cards">
      <div class="card"><div class="v" id="total-requests">–</div><div class="k">requests</div></div>
      <div class="card"><div class="v" id="total-errors">–</div><div class="k">errors (4xx / 5xx)</div></div>
      <div class="card"><div class="v" id="bytes-in">–</div><div class="k">bytes in</div></div>
      <div class="card"><div class="v" id="bytes-out">–</div><div class="k">bytes out</div></div>
      <div class="card"><div class="v" id="uptime">–</div><div class="k">up for</div></div>
    </div>
  </section>
  <section><h2>Requests per second, last hour</h2><svg id="chart-requests" viewBox="0 0 600 120" preserveAspectRatio="none"></svg><div class="legend" id="legend-requests"></div></section>
  <section><h2>Throughput (MiB/s), last hour</h2><svg id="chart-bytes" viewBox="0 0 600 120" preserveAspectRatio="none"></svg><div class="legend" id="legend-bytes"></div></section>
  <section><h2>Cache hit ratio, last hour</h2><svg id="chart-cache" viewBox="0 0 600 120" preserveAspectRatio="none"></svg><div class="legend" id="legend-cache"></div></section>
  <section><h2>Cache folders</h2><div id="cache"></div></section>
  <section><h2>Mounts</h2><div id="mounts"></div></section>
  <section><h2>Ring members</h2><div id="ring"></div></section>
  <section class="wide"><h2>Recent errors</h2><div id="errors"></div></section>
</main>
<script>
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtBytes = (n) => { const u = ['B','KiB','MiB','GiB','TiB']; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return (i ? n.toFixed(1) : n) + ' ' + u[i]; };
const fmtAge = (ms) => { const s = Math.floor(ms / 1000); if (s < 120) return s + ' s'; if (s < 7200) return Math.floor(s / 60) + ' min'; return Math.floor(s / 3600) + ' h'; };
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
function table(rows, head, empty) {
  if (!rows.length) return '<div class="empty">' + empty + '</div>';
  return '<table><tr>' + head.map((h) => '<th>' + h + '</th>').join('') + '</tr>' + rows.map((r) => '<tr>' + r.map((c) => '<td>' + c + '</td>').join('') + '</tr>').join('') + '</table>';
}
function rates(history, pick) {
  const out = [];
  for (let i = 1; i < history.length; i++) {
    const dt = (history[i].t - history[i - 1].t) / 1000;
    if (dt > 0) out.push({ t: history[i].t, v: Math.max(0, pick(history[i]) - pick(history[i - 1])) / dt });
  }
  return out;
}
function draw(svg, series, colors) {
  const all = series.flat();
  if (!all.length) { svg.innerHTML = '<text x="8" y="64" fill="#5b6473" font-size="13">collecting samples…</text>'; return; }
  const t0 = Math.min(...all.map((p) => p.t)), t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const max = Math.max(...all.map((p) => p.v), 1e-9);
  svg.innerHTML = series.map((pts, i) => '<polyline fill="none" stroke-width="2" stroke="' + colors[i] + '" points="' +
    pts.map((p) => ((p.t - t0) / (t1 - t0) * 600).toFixed(1) + ',' + (115 - p.v / max * 108).toFixed(1)).join(' ') + '"/>').join('');
  return max;
}
async function refresh() {
  const s = await (await fetch('/api/v1/status')).json();
  document.getElementById('identity').textContent = s.hostname + ':' + s.s3Port + ' · admin :' + s.webPort + ' · ' + s.eventLoops + ' S3 process' + (s.eventLoops > 1 ? 'es' : '') + ' · pid ' + s.pid;
  document.getElementById('total-requests').textContent = fmtInt(s.totals.requests);
  document.getElementById('total-errors').textContent = fmtInt(s.totals.clientErrors) + ' / ' + fmtInt(s.totals.serverErrors);
  document.getElementById('bytes-in').textContent = fmtBytes(s.totals.bytesIn);
  document.getElementById('bytes-out').textContent = fmtBytes(s.totals.bytesOut);
  document.getElementById('uptime').textContent = fmtAge(Date.parse(s.now) - Date.parse(s.startedAt));
  const req = rates(s.history, (h) => h.requests);
  const maxReq = draw(document.getElementById('chart-requests'), [req], ['#2f6fdb']);
  document.getElementById('legend-requests').textContent = req.length ? 'peak ' + (maxReq ?? 0).toFixed(1) + ' req/s · now ' + req[req.length - 1].v.toFixed(1) : '';
  const bin = rates(s.history, (h) => h.bytesIn / 1048576), bout = rates(s.history, (h) => h.bytesOut / 1048576);
  const maxB = draw(document.getElementById('chart-bytes'), [bin, bout], ['#c2410c', '#15803d']);
  document.getElementById('legend-bytes').textContent = bin.length ? 'in (orange) / out (green) · peak ' + (maxB ?? 0).toFixed(2) + ' MiB/s' : '';
  const ratio = [];
  for (let i = 1; i < s.history.length; i++) {
    const a = s.history[i - 1], b = s.history[i], n = (b.cacheHits - a.cacheHits) + (b.cacheMisses - a.cacheMisses);
    if (n > 0) ratio.push({ t: b.t, v: (b.cacheHits - a.cacheHits) / n });
  }
  draw(document.getElementById('chart-cache'), [ratio], ['#7c3aed']);
  const lookups = s.totals.cacheHits + s.totals.cacheMisses;
  const restore = s.cacheRestore ? ' · restore ' + esc(s.cacheRestore.state) + ' (' + fmtInt(s.cacheRestore.pages) + ' pages, ' + fmtBytes(s.cacheRestore.bytes) + ')' : '';
  document.getElementById('legend-cache').innerHTML = s.cache.length ? 'overall ' + (lookups ? (100 * s.totals.cacheHits / lookups).toFixed(1) : '0') + '% of ' + fmtInt(lookups) + ' page lookups' + restore : 'The page cache is off.';
  document.getElementById('cache').innerHTML = table(s.cache.map((c) => [esc(c.dir), fmtBytes(c.usedBytes), fmtBytes(c.capacityBytes), fmtInt(c.pages ?? 0)]), ['folder', 'used', 'capacity', 'pages'], 'No cache folders configured.');
  document.getElementById('mounts').innerHTML = table(s.mounts.map((m) => ['/' + esc(m.bucket), '<code>' + esc(m.ufsUri) + '</code>', esc(m.origin)]), ['bucket', 'under-storage', 'made by'], 'No buckets.');
  document.getElementById('ring').innerHTML = table(s.ring.map((m) => [esc(m.address) + (m.self ? ' (this worker)' : ''), m.alive ? '<span class="ok">alive</span>' : '<span class="bad">down</span>']), ['worker', 'liveness'], 'No members.');
  document.getElementById('errors').innerHTML = table(s.recentErrors.map((e) => [esc(e.time.replace('T', ' ').replace('Z', '')), esc(e.action), '<span class="' + (e.status >= 500 ? 'bad' : '') + '">' + e.status + ' ' + esc(e.code) + '</span>', esc((e.bucket ? '/' + e.bucket : '') + (e.key ? '/' + e.key : '')), esc(e.user), esc(e.message)]), ['time (UTC)', 'action', 'answer', 'resource', 'user', 'message'], 'No failed requests.');
  document.body.dataset.loaded = 'true';
}
refresh().catch((e) => { document.getElementById('identity').textContent = 'cannot read /api/v1/status: ' + e; });
setInterval(() => refresh().catch(() => undefined), 5000);
</script>
</body>
</html>
`;
