// The viewer's pure helpers: legend classes, search, plain-words texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  agreementFor, classIndex, explainArea, explainPc6, featureColor, formatHash, levelForTileZoom, normalise, parseHash,
  rankText, searchAreas,
} from '../src/data.js';

const legend = {
  field: 'score',
  classes: [
    { lower: 0, upper: 1.8, color: '#a' },
    { lower: 1.8, upper: 4.2, color: '#b' },
    { lower: 4.2, upper: 34.2, color: '#c' },
  ],
  null_color: '#n',
};
const bands = { field: 'band', classes: [1, 2, 3].map((b) => ({ lower: b, upper: b, color: `#${b}` })), null_color: '#n' };

test('a class holds lower < v <= upper, the first class also its lower bound', () => {
  assert.equal(classIndex(legend, 0), 0);
  assert.equal(classIndex(legend, 1.8), 0);
  assert.equal(classIndex(legend, 1.81), 1);
  assert.equal(classIndex(legend, 34.2), 2);
  assert.equal(classIndex(legend, 40), -1);
  assert.equal(classIndex(legend, -1), -1);
  assert.equal(classIndex(legend, null), -1);
});

test('bands are classes with lower == upper', () => {
  assert.equal(classIndex(bands, 1), 0);
  assert.equal(classIndex(bands, 2), 1);
  assert.equal(classIndex(bands, 3), 2);
});

test('suppressed areas and areas without a value get the null colour', () => {
  assert.equal(featureColor(legend, { score: 2, status: 'published' }), '#b');
  assert.equal(featureColor(legend, { score: 2, status: 'suppressed' }), '#n');
  assert.equal(featureColor(legend, { status: 'published' }), '#n');
  assert.equal(featureColor(null, { score: 2 }), '#bdbdbd');
});

test('the level of a tile zoom comes from vector_layers, overzoom keeps the last', () => {
  const tj = { vector_layers: [{ id: 'wijk', minzoom: 8, maxzoom: 10 }, { id: 'buurt', minzoom: 11, maxzoom: 13 },
    { id: 'pc6', minzoom: 14, maxzoom: 16 }] };
  assert.equal(levelForTileZoom(tj, 8), 'wijk');
  assert.equal(levelForTileZoom(tj, 11), 'buurt');
  assert.equal(levelForTileZoom(tj, 16), 'pc6');
  assert.equal(levelForTileZoom(tj, 18), 'pc6');
  assert.equal(levelForTileZoom({}, 12), 'buurt');
});

test('search ignores case and accents, finds codes, lists wijken first', () => {
  const areas = [
    { code: 'BU05183825', name: 'Laakkwartier-Oost', level: 'buurt' },
    { code: 'WK051838', name: 'Wijk 38 Laakkwartier en Spoorwijk', level: 'wijk' },
    { code: 'BU05180001', name: 'Belvédère', level: 'buurt' },
  ];
  assert.equal(normalise(' Belvédère '), 'belvedere');
  assert.deepEqual(searchAreas(areas, 'LAAKKWARTIER').map((a) => a.code), ['WK051838', 'BU05183825']);
  assert.deepEqual(searchAreas(areas, 'belvedere').map((a) => a.code), ['BU05180001']);
  assert.deepEqual(searchAreas(areas, 'wk051838').map((a) => a.code), ['WK051838']);
  assert.deepEqual(searchAreas(areas, 'BU0518').map((a) => a.code), ['BU05180001', 'BU05183825']);
  assert.deepEqual(searchAreas(areas, '  '), []);
});

test('plain words for ranks, suppressed and shown-from areas and postcodes', () => {
  const privacy = { k: 5, count: 'households' };
  assert.equal(rankText({ rank: 3, ranked_of: 108, rank_p05: 1, rank_p95: 7 }), 'Rank 3 of 108 (5–95 %: 1–7)');
  assert.equal(rankText({ rank: 6, ranked_of: 43, rank_p05: null, rank_p95: null }), 'Rank 6 of 43');
  assert.equal(rankText({ status: 'suppressed', rank: null }), null);
  assert.deepEqual(explainArea('buurt', { status: 'suppressed', note: 'fewer than 5 households' }, privacy),
    ['Not published: below the size rules on its own (fewer than 5 households).']);
  assert.match(explainArea('buurt', { status: 'published', shown_from: 'wijk' }, privacy)[0],
    /^Shown at wijk level: this buurt is too small to publish on its own/);
  assert.deepEqual(explainPc6({ code: '2533AB', group: 'G2533AA', band: 9, bands: 10, status: 'published' }, privacy, 3), [
    'Risk band 9 of 10 (1 = least risk). Exact scores of single postcodes are not published.',
    'Merged with neighbouring postcodes of its buurt into group G2533AA (3 postcodes): a published area needs '
      + 'at least 5 households, and this postcode alone does not have them, or is published with one that does not.',
  ]);
  // the group's first postcode is merged too when the group holds more than one
  assert.equal(explainPc6({ code: '2533AA', group: 'G2533AA', band: 1, bands: 10, status: 'published' }, privacy, 3).length, 2);
  assert.equal(explainPc6({ code: '2533AA', group: 'G2533AA', band: 1, bands: 10, status: 'published' }, privacy, 1).length, 1);
  const rules = { k: 5, count: 'households', size: [{ variable: 'inhabitants', min: 5 }, { variable: 'dwellings', min: 5 }] };
  assert.match(explainPc6({ code: '2533AB', group: 'G2533AA', band: 9, bands: 10, status: 'published' }, rules, 2)[1],
    /a published area needs at least 5 inhabitants and at least 5 dwellings,/);
});

test('agreement is found whichever way round the report lists the pair', () => {
  const report = { agreement: [{ level: 'buurt', a: 'bijstand', b: 'imd-nl', spearman: 0.97 }] };
  assert.equal(agreementFor(report, 'imd-nl', 'bijstand', 'buurt').spearman, 0.97);
  assert.equal(agreementFor(report, 'imd-nl', 'bijstand', 'pc6'), null);
});

test('the address keeps scenarios, view and selection, and ignores what it cannot read', () => {
  const state = { scenarios: ['imd-nl', 'generatie'], zoom: 12.5, center: [4.308512, 52.069811], area: 'BU05182916' };
  const hash = formatHash(state);
  assert.equal(hash, '#s=imd-nl,generatie&z=12.50&ll=4.30851,52.06981&a=BU05182916');
  assert.deepEqual(parseHash(hash), { scenarios: ['imd-nl', 'generatie'], zoom: 12.5, center: [4.30851, 52.06981], area: 'BU05182916' });
  assert.deepEqual(parseHash('#z=abc&ll=999,1&a=&x=1&%zz'), { scenarios: [], zoom: null, center: null, area: null });
  assert.deepEqual(parseHash(''), { scenarios: [], zoom: null, center: null, area: null });
});
