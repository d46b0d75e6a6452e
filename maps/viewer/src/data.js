// What the viewer knows about a publication, without the map or the page: loading the JSON
// files, the legend classes, search and the plain-words texts. No OpenLayers and no DOM here,
// so `npm test` checks these in Node.

// The JSON files of the release the page sits in (<release>/viewer/index.html).
export const PUBLICATION = '../';

// Fetch and parse one JSON file; a missing or broken file is an error naming the file.
export async function fetchJson(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new Error(`cannot load ${url}: ${err.message}`);
  }
  if (!res.ok)
    throw new Error(`cannot load ${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
  try {
    return await res.json();
  } catch (err) {
    throw new Error(`cannot read ${url}: not valid JSON (${err.message})`);
  }
}

// The levels the tiles show by zoom when a tiles.json lacks vector_layers (the tiles' own rule).
const DEFAULT_LEVELS = [
  { id: 'wijk', minzoom: 0, maxzoom: 10 },
  { id: 'buurt', minzoom: 11, maxzoom: 13 },
  { id: 'pc6', minzoom: 14, maxzoom: 99 },
];

// The level (wijk, buurt, pc6) whose features a tile of zoom z holds, from tiles.json's
// vector_layers; past the last layer's maxzoom the tiles are overzoomed, so the last one holds.
export function levelForTileZoom(tilejson, z) {
  const layers = tilejson && Array.isArray(tilejson.vector_layers) && tilejson.vector_layers.length
    ? tilejson.vector_layers : DEFAULT_LEVELS;
  let best = layers[0];
  for (const l of layers) {
    if (z >= (l.minzoom ?? 0) && z <= (l.maxzoom ?? 99))
      return l.id;
    if (z > (l.maxzoom ?? 99))
      best = l;
  }
  return best.id;
}

// The zoom range of a level in tiles.json, for "buurt level (zoom 11-13)" in the legend.
export function zoomRange(tilejson, level) {
  const layers = (tilejson && tilejson.vector_layers) || DEFAULT_LEVELS;
  const l = layers.find((x) => x.id === level);
  return l ? [l.minzoom, l.maxzoom] : null;
}

// The value a legend colours a feature by, or null when it has none to show: suppressed
// areas and those without the field are drawn in the legend's null colour.
export function legendValue(legend, props) {
  if (!legend || props.status === 'suppressed')
    return null;
  const v = props[legend.field];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

// Index of the class holding v (lower < v <= upper; the first class also takes v == lower),
// or -1 when there is no value or it falls outside every class.
export function classIndex(legend, v) {
  if (v === null || v === undefined || !legend || !legend.classes)
    return -1;
  const cs = legend.classes;
  for (let i = 0; i < cs.length; i++) {
    if ((v > cs[i].lower && v <= cs[i].upper) || (v === cs[i].lower && (i === 0 || cs[i].lower === cs[i].upper)))
      return i;
  }
  return -1;
}

// The fill colour of a feature under a legend.
export function featureColor(legend, props) {
  const i = classIndex(legend, legendValue(legend, props));
  if (i >= 0)
    return legend.classes[i].color;
  return (legend && legend.null_color) || '#bdbdbd';
}

// Lowercase without accents, so "Bouwlust" finds "bouwlust" and "Belvédère" finds "belvedere".
export function normalise(s) {
  return String(s ?? '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

// Areas matching a query: the exact code, a code that starts with it (at least 4 characters),
// or a name containing it; names that start with it first, then wijken before buurten.
export function searchAreas(areas, query, limit = 20) {
  const q = normalise(query);
  if (!q)
    return [];
  const hits = [];
  for (const a of areas) {
    const code = normalise(a.code);
    const name = normalise(a.name);
    let score;
    if (code === q)
      score = 0;
    else if (name.startsWith(q) || name.split(/[\s\-/]+/).some((w) => w.startsWith(q)))
      score = 1;
    else if (name.includes(q))
      score = 2;
    else if (q.length >= 4 && code.startsWith(q))
      score = 3;
    else
      continue;
    hits.push({ a, score });
  }
  hits.sort((x, y) => x.score - y.score
    || (x.a.level === y.a.level ? 0 : x.a.level === 'wijk' ? -1 : 1)
    || x.a.name.localeCompare(y.a.name));
  return hits.slice(0, limit).map((h) => h.a);
}

function num(v, digits) {
  if (typeof v !== 'number')
    return String(v);
  return digits === undefined ? String(v) : v.toFixed(digits);
}

// "Rank 3 of 108 (5–95 %: 1–7)"; the interval only where the Monte Carlo gave one.
export function rankText(v) {
  if (!v || v.rank === null || v.rank === undefined)
    return null;
  let s = `Rank ${v.rank} of ${v.ranked_of}`;
  if (v.rank_p05 !== null && v.rank_p05 !== undefined && v.rank_p95 !== null && v.rank_p95 !== undefined)
    s += ` (5–95 %: ${num(v.rank_p05)}–${num(v.rank_p95)})`;
  return s;
}

// "at least 5 inhabitants and at least 5 dwellings", from the release's size rules (or its k).
export function kText(privacy) {
  if (privacy && Array.isArray(privacy.size) && privacy.size.length)
    return privacy.size.map((r) => `at least ${r.min} ${String(r.variable).replace(/_/g, ' ')}`).join(' and ');
  const k = privacy && privacy.k !== undefined ? privacy.k : '?';
  return `at least ${k} ${(privacy && privacy.count) || 'households'}`;
}

// Why a wijk or buurt looks as it does under one scenario, in plain words; [] when its own
// score is shown.
export function explainArea(level, v, privacy) {
  const out = [];
  if (!v)
    return ['Not in this scenario.'];
  if (v.status === 'suppressed') {
    out.push(`Not published: below the size rules on its own${v.note ? ` (${v.note})` : ''}.`);
  } else if (v.status === 'not_scored') {
    out.push('Not scored at this level by this scenario.');
  }
  if (v.shown_from)
    out.push(`Shown at ${v.shown_from} level: this ${level} is too small to publish on its own, `
      + `so the map shows the score of its ${v.shown_from}.`);
  return out;
}

// What a PC6 feature's properties say, in plain words.
// members: how many postcodes its group holds (areas.json's groups of its buurt; 1 when absent).
export function explainPc6(props, privacy, members) {
  const out = [];
  if (props.status === 'suppressed') {
    out.push(`Not published: even with its neighbouring postcodes it is below the size rules (${kText(privacy)}).`);
  } else if (typeof props.band === 'number') {
    out.push(`Risk band ${props.band} of ${props.bands} (1 = least risk). Exact scores of single postcodes are not published.`);
  }
  if (props.group && (members > 1 || props.group !== `G${props.code}`))
    out.push(`Merged with neighbouring postcodes of its buurt into group ${props.group}`
      + `${members > 1 ? ` (${members} postcodes)` : ''}: a published area needs ${kText(privacy)}, `
      + 'and this postcode alone does not have them, or is published with one that does not.');
  return out;
}

// The report's agreement between two scenarios at a level, whichever order it lists them in.
export function agreementFor(report, a, b, level) {
  if (!report || !Array.isArray(report.agreement))
    return null;
  return report.agreement.find((x) => x.level === level
    && ((x.a === a && x.b === b) || (x.a === b && x.b === a))) || null;
}

// "86 %" for a share 0..1.
export function percent(share) {
  return typeof share === 'number' ? `${Math.round(share * 100)} %` : '–';
}

// The page's state in its address: "#s=imd-nl,generatie&z=12.50&ll=4.30851,52.06981&a=BU05182916"
// (scenarios shown, zoom, centre in lon/lat, the selected wijk or buurt). Pure, for `npm test`.
export function formatHash(state) {
  const parts = [];
  if (state.scenarios && state.scenarios.length)
    parts.push(`s=${state.scenarios.map(encodeURIComponent).join(',')}`);
  if (typeof state.zoom === 'number' && Number.isFinite(state.zoom))
    parts.push(`z=${state.zoom.toFixed(2)}`);
  if (state.center)
    parts.push(`ll=${state.center[0].toFixed(5)},${state.center[1].toFixed(5)}`);
  if (state.area)
    parts.push(`a=${encodeURIComponent(state.area)}`);
  return `#${parts.join('&')}`;
}

// What formatHash wrote (or a hand-edited link): unknown or broken parts are left out.
export function parseHash(hash) {
  const out = { scenarios: [], zoom: null, center: null, area: null };
  for (const part of String(hash || '').replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0)
      continue;
    const key = part.slice(0, eq);
    let value;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      continue;
    }
    if (key === 's')
      out.scenarios = value.split(',').filter(Boolean);
    else if (key === 'z' && Number.isFinite(Number(value)) && value !== '')
      out.zoom = Number(value);
    else if (key === 'll') {
      const [lon, lat] = value.split(',').map(Number);
      if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90)
        out.center = [lon, lat];
    } else if (key === 'a' && value)
      out.area = value;
  }
  return out;
}
