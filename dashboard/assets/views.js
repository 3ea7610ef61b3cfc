// The dashboard's views. Each returns {update(), event(ev), destroy()}.
import {h, pct, num, bytes, duration, time, zero, phaseClass, finalPhases, observed, evalue, checkValue, checkCounts} from './format.js';
import {state, api, role, Role, toast, confirmAction} from './app.js';
import {Charts} from './charts.js';

const enc = encodeURIComponent;
const envPath = (app, env) => `/api/v1/apps/${enc(app)}/environments/${enc(env)}`;

function badge(phase) {
  return h('span', {class: 'badge ' + phaseClass(phase)}, phase || 'no rollout');
}

// totals sums an environment's instances and rates.
function totals(e) {
  let ready = 0, total = 0, rps = 0, errs = 0;
  for (const r of e.revisions) for (const i of r.instances) {
    if (i.state === 'Terminated') continue;
    total++;
    if (i.ready) ready++;
  }
  for (const r of e.rates || []) { rps += r.requestsPerSecond; errs += r.requestsPerSecond * r.errorShare; }
  return {ready, total, rps, errorShare: rps > 0 ? errs / rps : (e.rates && e.rates.length ? 0 : null)};
}

function versionOf(e, n) {
  const r = e.revisions.find(r => r.number === n);
  return r ? r.version : '';
}

function split(e) {
  const live = e.revisions.filter(r => r.traffic.weight > 0);
  return h('div', {class: 'split'},
    h('div', {class: 'bar', 'aria-hidden': 'true'}, live.map((r, i) =>
      h('span', {class: 'seg s' + (i % 4), style: `width:${r.traffic.weight}%`}))),
    live.map(r => `r${r.number} ${num(r.traffic.weight, 0)}%`).join(' · ') || '–');
}

// ---------------- sign-in ----------------
export function signIn(main, why, done) {
  const err = h('p', {class: 'error', role: 'alert'});
  if (why === 'link-expired') err.textContent = 'That sign-in link was used or has expired: run gantry dashboard again, or paste a token.';
  const input = h('input', {id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false'});
  const form = h('form', {class: 'signin', onsubmit: async ev => {
    ev.preventDefault();
    err.textContent = '';
    const res = await fetch('/dashboard/login', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({token: input.value})});
    const body = await res.json().catch(() => null);
    if (!res.ok) { err.textContent = body && body.error ? body.error.message : `sign-in failed: ${res.status}`; input.focus(); return; }
    input.value = '';
    done(body);
  }},
  h('h1', {}, 'Sign in to gantry'),
  h('label', {for: 'token'}, 'API token'), input,
  h('p', {class: 'muted'}, 'Paste a token (gantry token create), or run ', h('code', {}, 'gantry dashboard'), ' to open a one-time sign-in link. The token is kept in an HttpOnly session cookie, never in the address.'),
  err, h('button', {type: 'submit', class: 'primary'}, 'Sign in'));
  main.replaceChildren(form);
  input.focus();
  return {};
}

// ---------------- overview ----------------
export function overview(main) {
  const body = h('tbody');
  const table = h('table', {class: 'overview'},
    h('caption', {}, 'Apps and environments; rollouts in progress first'),
    h('thead', {}, h('tr', {}, ['App', 'Environment', 'Revision', 'Version', 'Phase', 'Step', 'Traffic', 'Ready', 'Req/s', '5xx'].map(c => h('th', {scope: 'col'}, c)))),
    body);
  const empty = h('p', {class: 'muted'});
  main.replaceChildren(h('h1', {}, 'Overview'), empty, h('div', {class: 'scroll'}, table));
  function update() {
    empty.textContent = state.envs.length ? '' : (state.connected ? 'No app is applied yet: gantry apply -f gantry.yaml' : 'Waiting for the live stream…');
    body.replaceChildren(...state.envs.map(e => {
      const ro = e.rollout;
      const t = totals(e);
      const rev = ro && ro.phase !== 'Succeeded' && !finalPhases.has(ro.phase) ? `r${e.stable || '–'} → r${ro.toRevision}` : `r${e.stable || '–'}`;
      const ver = ro && !finalPhases.has(ro.phase) ? `${versionOf(e, ro.fromRevision) || '–'} → ${versionOf(e, ro.toRevision)}` : versionOf(e, e.stable) || '–';
      const href = `#/env/${enc(e.app)}/${enc(e.env)}`;
      return h('tr', {class: e.inProgress ? 'active' : ''},
        h('th', {scope: 'row', 'data-label': 'App'}, h('a', {href}, e.app)),
        h('td', {'data-label': 'Environment'}, e.env),
        h('td', {'data-label': 'Revision'}, rev),
        h('td', {'data-label': 'Version'}, ver),
        h('td', {'data-label': 'Phase'}, badge(ro && ro.phase), e.waiting ? h('span', {class: 'muted'}, ' awaiting approval') : ''),
        h('td', {'data-label': 'Step'}, ro && ro.strategy === 'Canary' && !finalPhases.has(ro.phase) ? String(ro.step + 1) : '–'),
        h('td', {'data-label': 'Traffic'}, split(e)),
        h('td', {'data-label': 'Ready'}, `${t.ready}/${t.total}`),
        h('td', {'data-label': 'Req/s'}, num(t.rps, 1)),
        h('td', {'data-label': '5xx'}, pct(t.errorShare, 2)));
    }));
  }
  update();
  return {update};
}

// ---------------- one environment, live ----------------
const markReasons = new Set(['StepCompleted', 'Promoted', 'PauseStep', 'RolloutStarted', 'Paused', 'Resumed']);

export function rollout(main, app, env) {
  const head = h('div', {class: 'head'});
  const actions = h('div', {class: 'actions', role: 'group', 'aria-label': 'Actions'});
  const why = h('section', {class: 'why', 'aria-label': 'Why'});
  const steps = h('ol', {class: 'steps', 'aria-label': 'Steps'});
  const charts = h('div', {class: 'charts'});
  const instances = h('tbody');
  const events = h('ol', {class: 'events'});
  main.replaceChildren(
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/'}, 'Overview'), ' / ', `${app} in ${env}`, ' · ',
      h('a', {href: `#/env/${enc(app)}/${enc(env)}/history`}, 'History')),
    head, actions, why,
    h('h2', {}, 'Steps'), steps,
    h('h2', {}, 'Traffic'), charts,
    h('h2', {}, 'Instances'),
    h('div', {class: 'scroll'}, h('table', {}, h('thead', {}, h('tr', {}, ['Instance', 'Revision', 'State', 'Ready', 'Restarts', 'CPU', 'Memory', 'Last exit'].map(c => h('th', {scope: 'col'}, c)))), instances)),
    h('h2', {}, 'Events'), events);
  let evs = [];
  let revisions = [];
  let revisionsFor = -1;
  let lastSample = 0;
  const chart = new Charts(charts, () => evs.filter(e => markReasons.has(e.reason) || e.to === 'RollingBack').map(e => ({t: Date.parse(e.time), bad: e.to === 'RollingBack'})));
  api('GET', `/dashboard/series?app=${enc(app)}&env=${enc(env)}`).then(s => chart.set(s)).catch(() => {});
  api('GET', envPath(app, env) + '/events?limit=200').then(list => { evs = mergeEvents(evs, list); renderEvents(); chart.draw(false); }).catch(e => toast(e.message, true));

  function current() { return state.envs.find(e => e.app === app && e.env === env); }

  function renderEvents() {
    events.replaceChildren(...evs.slice(-60).reverse().map(e => h('li', {class: e.type === 'Warning' ? 'warn' : ''},
      h('time', {datetime: e.time}, time(e.time)), ' ', h('strong', {}, e.reason), ' ', e.message,
      e.actor && e.actor !== 'gantry' ? h('span', {class: 'muted'}, ` (by ${e.actor})`) : '')));
  }

  async function loadRevisions(ro) {
    if (!ro || revisionsFor === ro.toRevision) return;
    revisionsFor = ro.toRevision;
    try { revisions = await api('GET', envPath(app, env) + '/revisions'); } catch { revisions = []; }
    update();
  }

  function renderSteps(e) {
    const ro = e.rollout;
    const target = ro && revisions.find(r => r.number === ro.toRevision);
    const strat = target && target.spec.strategy;
    if (!ro || !strat || strat.type !== 'Canary' || !strat.canary) {
      steps.replaceChildren(h('li', {class: 'muted'}, ro ? `${ro.strategy} rollout: no steps` : 'no rollout yet'));
      return;
    }
    steps.replaceChildren(...strat.canary.steps.map((s, i) => {
      const text = s.setWeight !== undefined ? `set weight ${s.setWeight}%` : s.pause ? `pause ${s.pause.duration || 'until promoted'}` : s.setFlag ? `flag ${s.setFlag.name} ${s.setFlag.percentage}%` : 'step';
      const done = ro.phase === 'Succeeded' || i < ro.step;
      const cur = i === ro.step && !finalPhases.has(ro.phase);
      return h('li', {class: cur ? 'current' : done ? 'done' : '', 'aria-current': cur ? 'step' : false}, text);
    }));
  }

  function renderWhy(e) {
    const ro = e.rollout;
    if (!ro) { why.replaceChildren(); return; }
    const parts = [];
    const bad = ['RollingBack', 'RolledBack', 'Failed'].includes(ro.phase);
    if (bad) parts.push(h('h2', {}, 'Why it was rolled back'), h('p', {class: 'reason bad'}, h('strong', {}, ro.reason || ro.phase), ': ', ro.message || ''));
    else parts.push(h('h2', {}, 'Analysis'), h('p', {class: 'reason'}, ro.reason ? h('strong', {}, ro.reason + ': ') : '', ro.message || 'no analysis message'));
    let facts = ro.details && ro.details.analysis;
    if (!facts) {
      const ev = [...evs].reverse().find(x => x.rolloutId === ro.id && x.details && x.details.analysis);
      facts = ev && ev.details.analysis;
    }
    if (facts && facts.length) {
      parts.push(h('table', {class: 'analysis'},
        h('thead', {}, h('tr', {}, ['Check', 'Value vs threshold', 'Verdict', 'Finding'].map(c => h('th', {scope: 'col'}, c)))),
        h('tbody', {}, facts.map(r => h('tr', {class: r.fired ? 'fired' : ''},
          h('th', {scope: 'row'}, r.trigger), h('td', {}, observed(r)), h('td', {}, r.fired ? 'fired' : 'holding'), h('td', {}, r.message))))));
    }
    if (e.analysis && !bad) parts.push(liveAnalysis(e.analysis));
    if (ro.details && ro.details.progress) {
      const p = ro.details.progress;
      parts.push(h('p', {}, `No progress for ${p.idleSeconds}s (deadline ${p.deadlineSeconds}s); ${p.ready}/${p.total} instances ready.`));
    }
    if (ro.details && ro.details.instance) {
      const i = ro.details.instance;
      parts.push(h('p', {}, `Instance ${i.id} of revision ${i.revision} (${i.version}) restarted ${i.restarts} times; last exit: ${i.lastExit || '–'}.`));
    }
    why.replaceChildren(...parts);
  }

  function button(label, title, text, run, extra) {
    return h('button', {type: 'button', onclick: async () => {
      const x = extra ? extra() : null;
      const reason = await confirmAction(title, text, x && x.el);
      if (reason === null) return;
      try { await run(reason, x); toast(`${label}: done`); } catch (err) { toast(`${label}: ${err.message}`, true); }
    }}, label);
  }

  function command(name, body) { return reason => api('POST', envPath(app, env) + '/' + name, {...body, reason}); }

  function renderActions(e) {
    const ro = e.rollout;
    const r = role(env);
    if (r < Role.deployer) { actions.replaceChildren(h('p', {class: 'muted'}, `Read-only: your token is ${r ? 'a viewer' : 'without a role'} on ${env}.`)); return; }
    const list = [];
    const what = `${app} in ${env}`;
    const needsApproval = state.session.approval.includes(env);
    if (ro && !finalPhases.has(ro.phase)) {
      if (needsApproval) {
        const asked = ro.actor || 'the token that started it';
        if (r >= Role.approver) list.push(button(`Approve (asked by ${asked})`, 'Approve this rollout', `Promote ${what} as the second person; ${asked} asked for it.`, command('promote', {full: false})));
        else list.push(h('span', {class: 'muted'}, `Awaiting approval by an approver other than ${asked}.`));
      } else {
        list.push(button('Promote step', 'Promote one step', `Move ${what} to its next step.`, command('promote', {full: false})));
        list.push(button('Promote full', 'Promote fully', `Skip every remaining step of ${what}: the new revision takes all traffic.`, command('promote', {full: true})));
      }
      if (ro.phase === 'Paused') list.push(button('Resume', 'Resume', `Resume the rollout of ${what}.`, command('resume')));
      else list.push(button('Pause', 'Pause', `Pause the rollout of ${what}; traffic stays where it is.`, command('pause')));
      list.push(button('Abort', 'Abort', `Abort the rollout of ${what}: traffic goes back to revision ${ro.fromRevision || '–'}.`, command('abort')));
    }
    if (ro && finalPhases.has(ro.phase) && ro.phase !== 'Succeeded') list.push(button('Retry', 'Retry', `Start the rollout of revision ${ro.toRevision} of ${what} again.`, command('retry')));
    if (ro) list.push(button('Undo…', 'Undo to a revision', `Roll ${what} out to an earlier revision.`,
      (reason, x) => api('POST', envPath(app, env) + '/undo', {toRevision: Number(x.select.value)}),
      () => {
        const select = h('select', {id: 'undo-rev'}, h('option', {value: '0'}, 'the previous stable revision'),
          revisions.slice().reverse().map(r => h('option', {value: String(r.number)}, `revision ${r.number} (${r.version})`)));
        return {el: h('label', {}, 'Revision ', select), select};
      }));
    actions.replaceChildren(...list);
  }

  function renderInstances(e) {
    const all = e.revisions.flatMap(r => r.instances);
    instances.replaceChildren(...all.map(i => h('tr', {},
      h('th', {scope: 'row'}, i.id), h('td', {}, `r${i.revision} ${i.version}`), h('td', {}, i.state),
      h('td', {}, i.ready ? 'yes' : 'no'), h('td', {}, String(i.restarts)),
      h('td', {}, `${num(i.cpuMillis / 10, 1)}%`), h('td', {}, bytes(i.rssBytes)), h('td', {}, i.lastExit || ''))));
  }

  function update() {
    const e = current();
    if (!e) { head.replaceChildren(h('h1', {}, `${app} in ${env}`), h('p', {class: 'muted'}, state.connected ? 'Not found, or not visible to your token.' : 'Waiting for the live stream…')); return; }
    const ro = e.rollout;
    head.replaceChildren(h('h1', {}, `${app} in ${env} `, badge(ro && ro.phase)),
      h('p', {}, ro ? `Rollout ${ro.id}: revision ${ro.fromRevision || '–'} (${versionOf(e, ro.fromRevision) || '–'}) → ${ro.toRevision} (${versionOf(e, ro.toRevision)}), ${ro.strategy}, started by ${ro.actor || '–'} at ${time(ro.createdAt)}` +
        (zero(ro.finishedAt) ? '' : `, finished after ${duration(Date.parse(ro.finishedAt) - Date.parse(ro.createdAt))}`) : 'No rollout yet.'),
      e.waiting ? h('p', {class: 'wait'}, e.waiting) : '');
    loadRevisions(ro);
    renderActions(e);
    renderWhy(e);
    renderSteps(e);
    renderInstances(e);
    const t = Date.parse(state.snapshotAt);
    if (t > lastSample && e.rates.length) {
      lastSample = t;
      chart.add({t, revs: e.revisions.map(r => {
        const rate = e.rates.find(x => x.revision === r.number) || {requestsPerSecond: 0, errorShare: 0};
        return {revision: r.number, weight: r.traffic.weight, rps: rate.requestsPerSecond, errorShare: rate.errorShare,
          p50Ms: r.traffic.p50Ms, p95Ms: r.traffic.p95Ms, p99Ms: r.traffic.p99Ms};
      })});
    }
  }

  function event(ev) {
    if (ev.app !== app || ev.env !== env) return;
    evs = mergeEvents(evs, [ev]);
    renderEvents();
  }
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  update();
  return {update, event, destroy: () => { window.removeEventListener('resize', onResize); chart.destroy(); }};
}

const scopeText = {now: 'now', window: 'last window', rollout: 'since the start', step: 'this step'};

// liveAnalysis renders each check of a running rollout's analysis with its
// current value against its threshold, as the status API carries it.
function liveAnalysis(a) {
  const row = c => {
    const noLimit = !c.judged && (c.unit === 'bytes' || c.unit === 'millicores');
    const state = c.disabled ? 'disabled' : c.met ? (c.promote ? 'shown' : 'fired') : c.judged ? (c.promote ? 'not yet' : 'holding') : noLimit ? 'no limit set' : 'too little data';
    return h('tr', {class: (c.met && !c.promote && !c.disabled ? 'fired ' : '') + (c.disabled ? 'muted' : ''), 'data-trigger': c.trigger, 'data-quantile': c.quantile,
      'data-value': c.value, 'data-evalue': c.eValue || 0, 'data-threshold': c.threshold,
      'data-canary-total': c.canary ? c.canary.total : '', 'data-canary-events': c.canary ? c.canary.events : '',
      'data-baseline-total': c.baseline ? c.baseline.total : '', 'data-baseline-events': c.baseline ? c.baseline.events : ''},
      h('th', {scope: 'row'}, c.trigger, c.quantile ? ` p${Math.round(c.quantile * 1000) / 10}` : ''),
      h('td', {class: 'value'}, checkValue(c), c.kind === 'Sequential' ? h('div', {class: 'muted'}, `now ${evalue(c.eValue)}`) : '',
        c.runsNeeded && !noLimit ? h('div', {class: 'muted'}, `${c.runs || 0} of ${c.runsNeeded} observations in a row over`) : '',
        c.latencyLimitMs ? h('div', {class: 'muted'}, `slow: over ${num(c.latencyLimitMs, 1)} ms`) : ''),
      h('td', {class: 'canary'}, checkCounts(c, c.canary)),
      h('td', {class: 'baseline'}, checkCounts(c, c.baseline)),
      h('td', {}, scopeText[c.scope] || c.scope),
      h('td', {class: 'state'}, state));
  };
  const group = (title, list) => [h('tr', {class: 'group'}, h('th', {colspan: '6', scope: 'rowgroup'}, title)), ...list.map(row)];
  return h('div', {class: 'live', 'data-at': a.at, 'data-action': a.action},
    h('h3', {}, `Live analysis, step ${a.step + 1}: ${a.action}`, a.warming ? ' (warming up)' : '',
      h('span', {class: 'muted'}, ` · observed ${time(a.at)}`)),
    h('div', {class: 'scroll'}, h('table', {class: 'checks'},
      h('thead', {}, h('tr', {}, ['Check', 'Value vs threshold', 'Canary', 'Baseline', 'Counted over', 'State'].map(c => h('th', {scope: 'col'}, c)))),
      h('tbody', {}, group('Roll back when met', a.checks.filter(c => !c.promote)), group('Promote when all met', a.checks.filter(c => c.promote))))));
}

function mergeEvents(a, b) {
  const byId = new Map(a.map(e => [e.id, e]));
  for (const e of b) byId.set(e.id, e);
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

// ---------------- history ----------------
function flatten(v, prefix, out) {
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) out[prefix] = Array.isArray(v) ? '[]' : '{}';
    for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(v);
  return out;
}

function specDiff(older, newer) {
  const a = flatten(older, '', {}), b = flatten(newer, '', {});
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter(k => a[k] !== b[k]).map(k => ({path: k, from: a[k], to: b[k]}));
}

export function history(main, app, env) {
  const rolls = h('tbody');
  const revs = h('div');
  main.replaceChildren(
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/'}, 'Overview'), ' / ', h('a', {href: `#/env/${enc(app)}/${enc(env)}`}, `${app} in ${env}`), ' / History'),
    h('h1', {}, `History of ${app} in ${env}`),
    h('h2', {}, 'Rollouts'),
    h('div', {class: 'scroll'}, h('table', {}, h('thead', {}, h('tr', {}, ['#', 'From → to', 'Strategy', 'Outcome', 'Reason', 'Started', 'Duration', 'By'].map(c => h('th', {scope: 'col'}, c)))), rolls)),
    h('h2', {}, 'Revisions and their spec changes'), revs);
  async function load() {
    try {
      const list = await api('GET', envPath(app, env) + '/rollouts?limit=100');
      rolls.replaceChildren(...list.map(r => h('tr', {},
        h('th', {scope: 'row'}, String(r.id)),
        h('td', {}, `${r.fromVersion || '–'} → ${r.toVersion || '?'} (r${r.fromRevision || '–'} → r${r.toRevision})`),
        h('td', {}, r.strategy), h('td', {}, badge(r.phase)), h('td', {}, r.reason ? `${r.reason}: ${r.message || ''}` : ''),
        h('td', {}, time(r.createdAt)),
        h('td', {}, zero(r.finishedAt) ? 'running' : duration(Date.parse(r.finishedAt) - Date.parse(r.createdAt))),
        h('td', {}, r.actor || ''))));
      const rs = await api('GET', envPath(app, env) + '/revisions');
      revs.replaceChildren(...rs.slice().reverse().map(r => {
        const prev = rs.filter(x => x.number < r.number).pop();
        const diff = prev ? specDiff(prev.spec, r.spec) : null;
        return h('details', {open: r === rs[rs.length - 1]},
          h('summary', {}, `Revision ${r.number}: ${r.version}, ${time(r.createdAt)}`),
          !prev ? h('p', {class: 'muted'}, 'the first revision kept') :
            !diff.length ? h('p', {class: 'muted'}, `same spec as revision ${prev.number}: only the version changed`) :
              h('table', {class: 'diff'}, h('caption', {}, `changes since revision ${prev.number}`),
                h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Field'), h('th', {scope: 'col'}, 'Before'), h('th', {scope: 'col'}, 'After'))),
                h('tbody', {}, diff.map(d => h('tr', {}, h('th', {scope: 'row'}, h('code', {}, d.path)), h('td', {class: 'del'}, d.from ?? '–'), h('td', {class: 'add'}, d.to ?? '–'))))));
      }));
    } catch (e) { toast(e.message, true); }
  }
  load();
  return {};
}

// ---------------- audit ----------------
export function audit(main) {
  const status = h('p', {role: 'status'});
  const rows = h('tbody');
  const field = (name, label, type) => h('label', {}, label, ' ', h('input', {name, type: type || 'text', autocomplete: 'off'}));
  const form = h('form', {class: 'filters', onsubmit: ev => { ev.preventDefault(); load(); }},
    field('actor', 'Actor'), field('env', 'Environment'), field('action', 'Action'), field('since', 'Since (RFC 3339)'),
    h('button', {type: 'submit'}, 'Filter'));
  main.replaceChildren(h('h1', {}, 'Audit log'), status, form,
    h('div', {class: 'scroll'}, h('table', {}, h('thead', {}, h('tr', {}, ['Seq', 'Time', 'Actor', 'Action', 'App', 'Env', 'Target', 'Outcome', 'Reason'].map(c => h('th', {scope: 'col'}, c)))), rows)));
  if (role('*') < Role.admin) {
    status.textContent = 'The audit log needs role admin on every environment; your token has not.';
    form.hidden = true;
    return {};
  }
  async function load() {
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll('input')) if (el.value) q.set(el.name, el.value);
    q.set('limit', '500');
    try {
      const [list, report] = await Promise.all([api('GET', '/api/v1/audit?' + q), api('GET', '/api/v1/audit/verify')]);
      const ok = !report.problems || !report.problems.length;
      status.className = ok ? 'ok' : 'bad';
      status.textContent = ok ? `Chain verified: ${report.records} records, every hash and link holds.` :
        `Chain broken: ${report.problems.length} problem(s): ` + report.problems.slice(0, 3).map(p => JSON.stringify(p)).join('; ');
      rows.replaceChildren(...list.map(r => h('tr', {class: r.outcome === 'denied' ? 'warn' : ''},
        h('th', {scope: 'row'}, String(r.seq)), h('td', {}, time(r.time)), h('td', {}, r.actor || '–'), h('td', {}, r.action),
        h('td', {}, r.app || ''), h('td', {}, r.env || ''), h('td', {}, r.target || ''), h('td', {}, r.outcome || ''), h('td', {}, r.reason || r.message || ''))));
    } catch (e) { status.textContent = e.message; status.className = 'bad'; }
  }
  load();
  return {};
}
