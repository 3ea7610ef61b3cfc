// gantry dashboard: session, live stream, routing and actions.
import {h} from './format.js';
import * as views from './views.js';

export const state = {
  session: null,     // GET /dashboard/session
  envs: [],          // the latest snapshot's environments
  snapshotAt: null,
  events: [],        // events received live, newest last (bounded)
  connected: false,
  view: null,        // the current view's object: {update(), destroy()}
};

const main = document.getElementById('main');

// api calls the API as the signed-in browser; changes carry the CSRF token.
export async function api(method, path, body) {
  const headers = {'Accept': 'application/json'};
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = state.session ? state.session.csrf : '';
  }
  const res = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin'});
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const msg = data && data.error ? data.error.message : `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.status = res.status;
    if (res.status === 401 && state.session) signedOut();
    throw err;
  }
  return data;
}

// role returns the session's role on env: 0 none, 1 viewer, 2 deployer, 3 approver, 4 admin.
const roles = {viewer: 1, deployer: 2, approver: 3, admin: 4};
export function role(env) {
  let best = 0;
  for (const g of (state.session ? state.session.grants : [])) {
    if (g.env === '*' || g.env === env) best = Math.max(best, roles[g.role] || 0);
  }
  return best;
}
export const Role = roles;

export function toast(msg, bad) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = bad ? 'show bad' : 'show';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ''; }, 6000);
}

// confirmAction asks before an action; resolves to the reason, or null.
export function confirmAction(title, text, extra) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const box = document.getElementById('confirm-extra');
  box.replaceChildren(...(extra ? [extra] : []));
  const reason = document.getElementById('confirm-reason');
  reason.value = '';
  return new Promise(resolve => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok' ? reason.value : null), {once: true});
    dlg.showModal();
    document.getElementById('confirm-ok').focus();
  });
}

// ---- the stream ----
let source = null;
function connect() {
  if (source) source.close();
  source = new EventSource('/api/v1/stream');
  source.addEventListener('hello', () => setConn(true));
  // The first frame of a stream is a whole snapshot; later ones are
  // deltas: the changed environments, the removed keys, and the order
  // when it changed (dashboard/delta.go).
  let byKey = new Map(), keys = [];
  const keyOf = e => e.app + '/' + e.env;
  const show = time => {
    state.envs = keys.map(k => byKey.get(k)).filter(Boolean);
    state.snapshotAt = time;
    setConn(true);
    if (state.view && state.view.update) state.view.update();
  };
  source.addEventListener('snapshot', e => {
    const s = JSON.parse(e.data);
    byKey = new Map(s.envs.map(x => [keyOf(x), x]));
    keys = s.envs.map(keyOf);
    show(s.time);
  });
  source.addEventListener('delta', e => {
    const d = JSON.parse(e.data);
    for (const x of d.changed || []) byKey.set(keyOf(x), x);
    for (const k of d.removed || []) byKey.delete(k);
    if (d.keys) keys = d.keys;
    show(d.time);
  });
  source.addEventListener('event', e => {
    const ev = JSON.parse(e.data);
    if (state.events.some(x => x.id === ev.id)) return;
    state.events.push(ev);
    if (state.events.length > 2000) state.events.shift();
    if (state.view && state.view.event) state.view.event(ev);
  });
  source.onerror = () => {
    setConn(false);
    // A stream refused (signed out, token revoked) is closed by the
    // browser; check the session and reconnect while it holds.
    if (source.readyState === EventSource.CLOSED) setTimeout(checkSession, 2000);
  };
}

function setConn(ok) {
  state.connected = ok;
  const c = document.getElementById('conn');
  c.textContent = ok ? 'live' : 'reconnecting…';
  c.className = 'conn ' + (ok ? 'ok' : 'bad');
}

async function checkSession() {
  try {
    state.session = await api('GET', '/dashboard/session');
    connect();
  } catch (e) {
    if (e.status !== 401) setTimeout(checkSession, 2000);
  }
}

function signedOut() {
  state.session = null;
  if (source) source.close();
  source = null;
  route();
}

// ---- routing ----
export function route() {
  if (state.view && state.view.destroy) state.view.destroy();
  state.view = null;
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  document.getElementById('nav').hidden = !state.session;
  document.getElementById('signout').hidden = !state.session;
  document.getElementById('who').textContent = state.session ? state.session.name : '';
  if (!state.session) {
    state.view = views.signIn(main, parts[0] === 'signin' ? parts[1] : '', signedIn);
    return;
  }
  if (parts[0] === 'env' && parts.length >= 3) {
    state.view = parts[3] === 'history' ? views.history(main, parts[1], parts[2]) : views.rollout(main, parts[1], parts[2]);
  } else if (parts[0] === 'audit') {
    state.view = views.audit(main);
  } else {
    state.view = views.overview(main);
  }
  main.focus({preventScroll: true});
}

async function signedIn(session) {
  state.session = session;
  connect();
  if (location.hash.startsWith('#/signin')) location.hash = '#/';
  route();
}

document.getElementById('signout').addEventListener('click', async () => {
  await fetch('/dashboard/logout', {method: 'POST', credentials: 'same-origin'});
  signedOut();
});
window.addEventListener('hashchange', route);

(async function start() {
  try {
    state.session = await api('GET', '/dashboard/session');
    connect();
  } catch { state.session = null; }
  route();
})();

export {h};
