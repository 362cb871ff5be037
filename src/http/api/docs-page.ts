/** The API reference page at /api/docs: a small page of our own that renders /api/openapi.json (no CDN, no framework). */

export const API_DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Mailroom API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2733}
h1{margin-bottom:0}h2{border-bottom:1px solid #d8dee4;padding-bottom:.2rem;margin-top:2rem}
.op{border:1px solid #d8dee4;border-radius:6px;margin:.6rem 0;padding:.4rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:ui-monospace,monospace}
.GET{color:#0a6}.POST{color:#06c}.PATCH{color:#a60}.PUT{color:#a60}.DELETE{color:#c22}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
.role{float:right;font-size:12px;background:#eef;border-radius:10px;padding:0 .5rem}
</style></head>
<body><h1>Mailroom API</h1><p id="intro">Loading <a href="/api/openapi.json">/api/openapi.json</a>…</p><div id="ops"></div>
<script src="/api/docs.js"></script></body></html>`;

export const API_DOCS_SCRIPT = `(async () => {
  const doc = await (await fetch('/api/openapi.json')).json();
  const el = (tag, props = {}, ...children) => { const e = document.createElement(tag); Object.assign(e, props); for (const c of children) e.append(c); return e; };
  document.getElementById('intro').textContent = doc.info.description + ' Version ' + doc.info.version + '. Authenticate with "Authorization: Bearer mr_…" (mailroom tokens create) or a session cookie plus X-CSRF-Token.';
  const byTag = new Map();
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const tag = (op.tags || ['other'])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push({ path, method: method.toUpperCase(), op });
  }
  const root = document.getElementById('ops');
  for (const [tag, ops] of byTag) {
    root.append(el('h2', { textContent: tag }));
    for (const { path, method, op } of ops) {
      const details = el('details', { className: 'op' });
      details.append(el('summary', {}, el('span', { className: 'm ' + method, textContent: method }), el('code', { textContent: path }), ' ', op.summary, el('span', { className: 'role', textContent: op['x-required-role'] })));
      if (op.description) details.append(el('p', { textContent: op.description }));
      if (op.parameters && op.parameters.length) details.append(el('p', { textContent: 'Parameters: ' + op.parameters.map((p) => p.name + ' (' + p.in + (p.required ? ', required' : '') + ')').join(', ') }));
      if (op.requestBody) details.append(el('p', { textContent: 'Body:' }), el('pre', { textContent: JSON.stringify(op.requestBody.content, null, 2) }));
      details.append(el('p', { textContent: 'Responses:' }), el('pre', { textContent: JSON.stringify(op.responses, null, 2) }));
      root.append(details);
    }
  }
})();`;
