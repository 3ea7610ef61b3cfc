// Formatting and DOM helpers shared by the views.

// h builds an element: h('a', {href: '#/'}, 'text', child...). Text is
// always set as text, never parsed as HTML.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function pct(share, digits = 1) {
  if (share === undefined || share === null || isNaN(share)) return '–';
  return (share * 100).toFixed(digits) + '%';
}

export function num(v, digits = 1) {
  if (v === undefined || v === null || isNaN(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  return Number(v.toFixed(digits)).toString();
}

export function bytes(b) {
  if (!b) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return b.toFixed(i ? 1 : 0) + ' ' + u[i];
}

export function duration(ms) {
  if (ms === undefined || ms === null || ms < 0 || isNaN(ms)) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
}

export function time(t) {
  if (!t) return '–';
  const d = new Date(t);
  return d.toLocaleString(undefined, {hour12: false});
}

export function zero(t) { return !t || t.startsWith('0001-'); }

// phaseClass maps a phase to a colour class.
export function phaseClass(phase) {
  switch (phase) {
    case 'Succeeded': return 'ok';
    case 'Progressing': case 'Pending': case 'Migrating': return 'run';
    case 'Paused': return 'wait';
    case 'RollingBack': case 'RolledBack': case 'Failed': return 'bad';
    default: return 'muted';
  }
}

export const finalPhases = new Set(['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Superseded']);

// Analysis triggers measured as e-values: their threshold is 1/α.
export const eValueTriggers = new Set(['ErrorTest', 'LatencyTest', 'ErrorEvidence', 'LatencyEvidence']);

// observed renders an analysis reason's numbers in its trigger's unit.
export function observed(r) {
  const t = r.trigger;
  if (eValueTriggers.has(t)) return `e-value ${num(r.observed, 2)} vs 1/α = ${num(r.threshold, 0)}`;
  if (t === 'ErrorRate' || t === 'ErrorEvidence') return `${pct(r.observed, 2)} vs ${pct(r.threshold, 2)}`;
  if (t === 'LatencyRatio') return `ratio ${num(r.observed, 2)} vs ${num(r.threshold, 2)}`;
  if (t === 'Memory') return `${bytes(r.observed)} vs ${bytes(r.threshold)}`;
  if (t === 'CPU') return `${num(r.observed, 0)} vs ${num(r.threshold, 0)} millicores`;
  return `${num(r.observed, 2)} vs ${num(r.threshold, 2)}`;
}

// evalue formats an e-value: 3.2, 1,250, or 4.1e+12 beyond ten thousand.
export function evalue(v) {
  if (v === undefined || v === null || isNaN(v)) return '–';
  return v >= 1e4 ? v.toExponential(1) : num(v, 2);
}

// count formats a count of requests or instances: 12,840.
export function count(n) { return (n || 0).toLocaleString('en'); }

// checkValue renders a live analysis check's value against its threshold.
export function checkValue(c) {
  switch (c.unit) {
    case 'e-value': return `e-value ${evalue(c.value)} vs ${evalue(c.threshold)}`;
    case 'share': return `${pct(c.value, 2)} vs ${pct(c.threshold, 2)}`;
    case 'bytes': return c.threshold ? `${bytes(c.value)} vs ${bytes(c.threshold)}` : `${bytes(c.value)}, no limit`;
    case 'millicores': return c.threshold ? `${num(c.value, 0)}m vs ${num(c.threshold, 0)}m` : `${num(c.value, 0)}m, no limit`;
    case 'requests': return `${count(c.value)} vs ${count(c.threshold)} requests`;
    default: return `${num(c.value, 0)} vs ${num(c.threshold, 0)}`;
  }
}

// checkCounts renders what one group contributed to a check.
export function checkCounts(c, n) {
  if (!n) return '–';
  const what = c.trigger === 'UnhealthyInstances' ? 'unhealthy' : /Latency/.test(c.trigger) ? 'slow' : '5xx';
  const of = c.trigger === 'UnhealthyInstances' ? 'instances' : 'requests';
  return `${count(n.events)} ${what} of ${count(n.total)} ${of}` + (n.total ? ` (${pct(n.events / n.total, 2)})` : '');
}
