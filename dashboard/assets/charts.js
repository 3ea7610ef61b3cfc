// Time charts of one environment's traffic, drawn with uPlot (vendored).
import {h} from './format.js';

const palette = ['#2f7ed8', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#5c940d'];

// markers draws a dashed vertical line at each step change.
function markersPlugin(getMarks) {
  return {hooks: {draw: [u => {
    const ctx = u.ctx;
    ctx.save();
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    for (const m of getMarks()) {
      const x = Math.round(u.valToPos(m.t / 1000, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = m.bad ? '#c92a2a' : '#868e96';
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }]}};
}

// Charts holds the four charts of the rollout view.
export class Charts {
  constructor(container, marks) {
    this.container = container;
    this.marks = marks; // () => [{t: ms, bad: bool, label}]
    this.samples = [];
    this.plots = {};
    this.revs = [];
  }

  // set replaces the samples (from /dashboard/series).
  set(samples) { this.samples = samples.slice(-900); this.draw(true); }

  // add appends one sample (from a stream snapshot).
  add(s) {
    if (this.samples.length && this.samples[this.samples.length - 1].t >= s.t) return;
    this.samples.push(s);
    if (this.samples.length > 900) this.samples.shift();
    this.draw(false);
  }

  revisions() {
    const set = new Set();
    for (const s of this.samples) for (const r of s.revs) set.add(r.revision);
    return [...set].sort((a, b) => a - b);
  }

  data(field, revs) {
    const xs = this.samples.map(s => s.t / 1000);
    const ys = revs.map(n => this.samples.map(s => {
      const r = s.revs.find(r => r.revision === n);
      return r ? r[field] : null;
    }));
    return [xs, ...ys];
  }

  draw(rebuild) {
    if (typeof uPlot === 'undefined') return;
    const revs = this.revisions();
    if (rebuild || revs.join() !== this.revs.join()) {
      this.revs = revs;
      this.build();
      return;
    }
    for (const [key, p] of Object.entries(this.plots)) p.setData(this.dataFor(key));
  }

  dataFor(key) {
    if (key !== 'latency') return this.data(key, this.revs);
    const [xs, ...p50] = this.data('p50Ms', this.revs);
    const p95 = this.data('p95Ms', this.revs).slice(1);
    const p99 = this.data('p99Ms', this.revs).slice(1);
    return [xs, ...p50, ...p95, ...p99];
  }

  build() {
    for (const p of Object.values(this.plots)) p.destroy();
    this.plots = {};
    this.container.replaceChildren();
    const specs = [
      ['weight', 'Traffic weight (%)', v => v + '%'],
      ['rps', 'Requests per second', v => v],
      ['errorShare', '5xx share', v => (v * 100).toFixed(1) + '%'],
      ['latency', 'Latency p50 / p95 / p99 (ms)', v => v],
    ];
    for (const [key, title, fmt] of specs) {
      const box = h('figure', {class: 'chart'}, h('figcaption', {}, title));
      this.container.append(box);
      const width = Math.max(240, box.clientWidth - 18);
      const series = [{}];
      const quantiles = key === 'latency' ? ['p50', 'p95', 'p99'] : [''];
      quantiles.forEach((q, qi) => this.revs.forEach((n, i) => series.push({
        label: `rev ${n}${q ? ' ' + q : ''}`,
        stroke: palette[i % palette.length],
        width: 1.5,
        dash: qi === 1 ? [6, 3] : qi === 2 ? [2, 2] : undefined,
        spanGaps: true,
        value: (u, v) => v === null ? '–' : fmt(Number(v.toFixed(3))),
      })));
      const opts = {
        width, height: 160, series,
        scales: {x: {time: true}, y: key === 'weight' ? {range: [0, 100]} : {auto: true}},
        axes: [{stroke: 'currentColor', grid: {stroke: 'rgba(128,128,128,.2)'}},
               {stroke: 'currentColor', grid: {stroke: 'rgba(128,128,128,.2)'}, values: (u, vals) => vals.map(fmt), size: 60}],
        legend: {live: true},
        plugins: [markersPlugin(this.marks)],
      };
      this.plots[key] = new uPlot(opts, this.dataFor(key), box);
    }
  }

  // resize fits the charts to their boxes.
  resize() {
    for (const p of Object.values(this.plots)) {
      const box = p.root.parentElement;
      p.setSize({width: Math.max(240, box.clientWidth - 18), height: 160});
    }
  }

  destroy() { for (const p of Object.values(this.plots)) p.destroy(); this.plots = {}; }
}
