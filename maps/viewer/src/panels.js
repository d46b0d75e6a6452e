// The side panels: details of the selected place, the robust top N, the pilot neighbourhoods,
// the scenarios' descriptions and their agreement. Each render function fills its element
// from scratch from the publication and the current state.
import { agreementFor, explainArea, explainPc6, kText, percent, rankText } from './data.js';
import { fill, h } from './dom.js';

// A link-like button that zooms to an area (keyboard reachable, unlike a bare click handler).
function areaButton(ctx, code, label, testid) {
  return h('button', { type: 'button', class: 'link', 'data-code': code, 'data-testid': testid, onclick: () => ctx.goTo(code) },
    label);
}

function domainBars(scenario, domains) {
  const names = (scenario.domains && scenario.domains.length ? scenario.domains : Object.keys(domains));
  return h('div', { class: 'domains', 'data-testid': 'domains' },
    h('div', { class: 'domains-title' }, 'Domains: percentile within the gemeente (higher = more risk)'),
    names.filter((d) => domains[d] !== null && domains[d] !== undefined).map((d) => {
      const v = Math.max(0, Math.min(100, Number(domains[d])));
      return h('div', { class: 'domain', 'data-domain': d },
        h('span', { class: 'domain-name' }, d.replace(/_/g, ' ')),
        h('span', { class: 'dbar', role: 'img', 'aria-label': `${d} ${v}` }, h('span', { style: { width: `${v}%` } })),
        h('span', { class: 'domain-value' }, String(Math.round(v))));
    }));
}

// One scenario's figures for a wijk or buurt. v: areas.json's entry for the scenario, or the
// tile's properties when the area is not in areas.json.
function areaScenarioBlock(ctx, area, scenario, v) {
  const lines = [];
  if (v && v.status === 'published' && v.score !== null && v.score !== undefined)
    lines.push(h('div', { class: 'score', 'data-testid': 'score' }, `Score ${v.score}`));
  const rank = rankText(v);
  if (rank)
    lines.push(h('div', { 'data-testid': 'rank' }, rank));
  if (v && v.median_rank !== null && v.median_rank !== undefined)
    lines.push(h('div', {}, `Median rank over the uncertain choices: ${v.median_rank}`));
  if (v && typeof v.p_top_5 === 'number')
    lines.push(h('div', {}, `Chance of a top-5 place: ${percent(v.p_top_5)}`,
      v.robust_top_5 ? h('span', { class: 'badge robust' }, 'robust top 5') : null));
  if (v && v.drivers)
    lines.push(h('div', {}, `Driven most by: ${v.drivers.replace(/_/g, ' ')}`));
  for (const t of explainArea(area.level, v, ctx.pub.privacy))
    lines.push(h('p', { class: 'explain', 'data-testid': 'explain' }, t));
  if (v && v.domains && Object.keys(v.domains).length)
    lines.push(domainBars(scenario, v.domains));
  return h('div', { class: 'scenario-block', 'data-scenario': scenario.name },
    h('h3', {}, scenario.title || scenario.name), lines);
}

// Details of a wijk or buurt: sel = {level, code, props?, byScenario?}.
export function renderAreaDetails(ctx, el, sel) {
  const area = ctx.areasByCode.get(sel.code);
  const name = (area && area.name) || (sel.props && sel.props.name) || sel.code;
  const level = (area && area.level) || sel.level;
  const head = [h('h2', { 'data-testid': 'details-name' }, name),
    h('div', { class: 'sub', 'data-testid': 'details-code' }, `${level} ${sel.code}`,
      area && level === 'buurt' && area.wijk_name ? ` · in ${area.wijk_name}` : '')];
  const blocks = ctx.shownScenarios().map((s) => {
    const v = area && area.scenarios ? area.scenarios[s.name] : (sel.byScenario && sel.byScenario[s.name]);
    return areaScenarioBlock(ctx, { level }, s, v || null);
  });
  fill(el, head, blocks);
}

// Details of a postcode: sel.byScenario holds the clicked feature's properties per scenario
// shown (its band differs per scenario).
export function renderPc6Details(ctx, el, sel) {
  const buurt = ctx.areasByCode.get(sel.props.buurt_code);
  const head = [h('h2', { 'data-testid': 'details-name' }, `Postcode ${sel.code}`),
    h('div', { class: 'sub', 'data-testid': 'details-code' }, `pc6 ${sel.code}`,
      buurt ? ' · in buurt ' : '', buurt ? areaButton(ctx, buurt.code, `${buurt.name} (${buurt.code})`) : null)];
  const blocks = ctx.shownScenarios().map((s) => {
    const p = sel.byScenario[s.name];
    const lines = [];
    if (!p) {
      lines.push(h('p', { class: 'hint' }, 'Click the postcode again to see its band under this scenario.'));
    } else {
      if (typeof p.score === 'number')
        lines.push(h('div', { class: 'score', 'data-testid': 'score' }, `Score ${p.score}`));
      const members = (buurt && buurt.groups && buurt.groups[p.group]) || 1;
      for (const t of explainPc6(p, ctx.pub.privacy, members))
        lines.push(h('p', { class: 'explain', 'data-testid': 'explain' }, t));
    }
    return h('div', { class: 'scenario-block', 'data-scenario': s.name }, h('h3', {}, s.title || s.name), lines);
  });
  fill(el, head, blocks);
}

// The robust top N: the buurten in the top N of every scenario but at most one.
export function renderRobust(ctx, el) {
  const rt = (ctx.report && ctx.report.robust_top) || {};
  const ns = Object.keys(rt).sort((a, b) => Number(a) - Number(b));
  if (!ns.length) {
    fill(el, h('h2', {}, 'Robust top N'), h('p', { class: 'hint' }, 'This release has no robust top N (compare did not run).'));
    return;
  }
  if (!ns.includes(String(ctx.robustN)))
    ctx.robustN = ns.includes('5') ? '5' : ns[0];
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Top N' },
    ns.map((n) => h('button', { type: 'button', 'aria-pressed': String(n === String(ctx.robustN)), 'data-testid': `robust-n-${n}`,
      onclick: () => { ctx.robustN = n; renderRobust(ctx, el); } }, `Top ${n}`)));
  const list = rt[ctx.robustN] || [];
  fill(el, h('h2', {}, 'Robust top ', String(ctx.robustN)), tabs,
    h('p', { class: 'hint' }, `Buurten in the top ${ctx.robustN} of every scenario but at most one, `
      + 'also under the uncertain choices of each scenario.'),
    list.length
      ? h('ol', { class: 'robust-list' }, list.map((a) => h('li', {}, areaButton(ctx, a.code, a.name, 'robust-item'),
        h('span', { class: 'code' }, ` ${a.code}`))))
      : h('p', {}, 'No buurt is in every scenario\'s top ', String(ctx.robustN), '.'));
}

function rankCell(v) {
  if (!v)
    return h('td', {}, '–');
  if (v.status === 'suppressed' || v.rank === null || v.rank === undefined)
    return h('td', { title: v.note || 'not published' }, 'n.p.');
  const interval = v.rank_p05 !== null && v.rank_p05 !== undefined ? `${v.rank_p05}–${v.rank_p95}` : null;
  return h('td', { title: rankText(v) }, h('span', { class: 'rank' }, String(v.rank)),
    interval ? h('span', { class: 'interval' }, ` (${interval})`) : null);
}

// The pilot panel: the neighbourhoods the team selected, with their buurten's ranks under the
// scenarios on screen.
export function renderPilot(ctx, el) {
  const nbs = (ctx.report && ctx.report.neighbourhoods) || [];
  if (!nbs.length) {
    fill(el, h('h2', {}, 'Pilot neighbourhoods'), h('p', { class: 'hint' }, 'No neighbourhoods were selected for this release.'));
    return;
  }
  const scen = ctx.shownScenarios();
  const of = scen.map((s) => {
    for (const nb of nbs)
      for (const b of nb.buurten || [])
        if (b.scenarios && b.scenarios[s.name] && b.scenarios[s.name].ranked_of)
          return b.scenarios[s.name].ranked_of;
    return null;
  });
  fill(el, h('h2', {}, 'Pilot neighbourhoods'),
    h('p', { class: 'hint' }, 'Rank of each buurt (1 = most at risk) with its 5–95 % interval.'),
    nbs.map((nb) => h('div', { class: 'pilot-nb', 'data-testid': 'pilot-nb' },
      h('h3', {}, areaButton(ctx, nb.code, nb.name, 'pilot-name'), h('span', { class: 'code' }, ` ${nb.code}`)),
      h('table', { class: 'pilot-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Buurt'),
          scen.map((s, i) => h('th', { title: s.title }, s.name, of[i] ? h('span', { class: 'code' }, ` of ${of[i]}`) : null)))),
        h('tbody', {}, (nb.buurten || []).map((b) => h('tr', {},
          h('td', {}, areaButton(ctx, b.code, b.name, 'pilot-buurt')),
          scen.map((s) => rankCell(b.scenarios ? b.scenarios[s.name] : null)))))))));
}

// What the scenarios on screen measure.
export function renderAbout(ctx, el) {
  fill(el, h('h2', {}, 'About the scenario', ctx.shownScenarios().length > 1 ? 's' : ''),
    ctx.shownScenarios().map((s) => {
      const r = ctx.report && ctx.report.scenarios ? ctx.report.scenarios.find((x) => x.name === s.name) : null;
      return h('div', { class: 'about' }, h('h3', {}, s.title || s.name),
        h('p', {}, s.about || (r && r.about) || 'No description in this release.'),
        s.domains && s.domains.length ? h('p', { class: 'hint' }, 'Domains: ', s.domains.join(', ').replace(/_/g, ' ')) : null,
        r ? h('p', { class: 'hint' }, `${r.published} ${r.level === 'buurt' ? 'buurten' : r.level} published, ${r.suppressed} not published.`) : null,
        // areas.json names the static map only when the release has one
        s.png ? h('p', {}, h('a', { href: `../${s.png}`, target: '_blank', 'data-testid': 'png-link' }, 'Static map for reports (PNG)')) : null);
    }));
}

// How far the two compared scenarios agree, from report.json.
export function renderAgreement(ctx, el) {
  const scen = ctx.shownScenarios();
  if (scen.length < 2) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  const [a, b] = scen;
  if (a.name === b.name) {
    fill(el, h('h2', {}, 'Agreement'), h('p', {}, 'Both maps show the same scenario.'));
    return;
  }
  const level = a.level || 'buurt';
  const ag = agreementFor(ctx.report, a.name, b.name, level) || agreementFor(ctx.report, a.name, b.name, 'buurt');
  if (!ag) {
    fill(el, h('h2', {}, 'Agreement'), h('p', {}, `The report has no agreement figures for ${a.name} and ${b.name}.`));
    return;
  }
  fill(el, h('h2', {}, 'Agreement'),
    h('p', { 'data-testid': 'agreement-text' }, `${a.name} and ${b.name} over ${ag.areas} ${ag.level === 'buurt' ? 'buurten' : ag.level}: `,
      `Spearman ρ ${ag.spearman.toFixed(2)}, `, `top-10 overlap ${percent(ag.top_10)}`,
      typeof ag.top_5 === 'number' ? `, top-5 overlap ${percent(ag.top_5)}` : ''),
    h('p', { class: 'hint' }, 'Overlap: the share of the two top lists they have in common (of the places in either).'));
}

export function renderFooter(ctx, el) {
  const pub = ctx.pub;
  const k = pub.privacy ? `Published areas have ${kText(pub.privacy)}.` : '';
  fill(el,
    h('span', { 'data-testid': 'release' }, `Release ${pub.release}`, pub.data_date ? ` · data of ${pub.data_date}` : ''),
    k ? h('span', {}, ` · ${k}`) : null,
    pub.attribution ? h('span', { class: 'attribution', 'data-testid': 'attribution' }, ` · ${pub.attribution}`) : null,
    pub.basemap && pub.basemap.attribution ? h('span', {}, ` · Basemap: ${pub.basemap.attribution}`) : null);
}
