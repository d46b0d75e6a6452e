// One map pane: an OpenLayers map of one scenario's GeoJSON tiles, coloured by the legend that
// areas.json gives for the level on screen, with the legend drawn over it. Panes share one View,
// which is what keeps the two maps of the comparison in step.
import Map from 'ol/Map.js';
import TileState from 'ol/TileState.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import TileLayer from 'ol/layer/Tile.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import { transformExtent } from 'ol/proj.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import XYZ from 'ol/source/XYZ.js';
import { Fill, Stroke, Style } from 'ol/style.js';
import { createXYZ } from 'ol/tilegrid.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import { featureColor, levelForTileZoom, zoomRange, PUBLICATION } from './data.js';
import { h, fill } from './dom.js';

const format = new GeoJSON();

// Read a tile's GeoJSON; a tile without a file has no areas in it, so a 404 is an empty tile
// (the tiler writes no file for empty tiles). Any other failure is reported once per pane.
function tileLoadFunction(onError) {
  return (tile, url) => {
    tile.setLoader((extent, resolution, projection) => {
      fetch(url)
        .then((res) => {
          if (res.status === 404)
            return null;
          if (!res.ok)
            throw new Error(`cannot load tile ${url}: HTTP ${res.status}`);
          return res.json();
        })
        .then((json) => {
          tile.setFeatures(json ? format.readFeatures(json, { extent, featureProjection: projection }) : []);
        })
        .catch((err) => {
          tile.setState(TileState.ERROR);
          onError(err.message);
        });
    });
  };
}

// The GeoJSON tile URL template relative to the page: tiles.json's `tiles` are relative to
// itself. The daemon rewrites tiles.json to absolute URLs, with `tiles` the MVT ones and
// `geojson_tiles` the GeoJSON ones. Kept as a string: URL() would percent-encode the braces.
function tileUrl(scenario, tilejson) {
  const geojson = (list) => (Array.isArray(list) ? list.find((u) => /\.geojson$/.test(u)) : undefined);
  const t = geojson(tilejson.geojson_tiles) || geojson(tilejson.tiles) || '{z}/{x}/{y}.geojson';
  return /^[a-z]+:|^\//i.test(t) ? t : `${PUBLICATION}tiles/${encodeURIComponent(scenario)}/${t}`;
}

export class Pane {
  // pub: areas.json; view: the shared View; host: the element to build the pane in;
  // callbacks: {onSelect(props, pane, pixel), onError(message), onScenario(pane), isSelected(props)}.
  constructor(pub, view, host, callbacks) {
    this.pub = pub;
    this.view = view;
    this.cb = callbacks;
    this.scenario = null;
    this.tilejson = null;
    this.level = null;
    this.styleCache = new globalThis.Map();
    this.reportedError = false;
    this.legendOpen = true;

    const index = host.children.length;
    this.select = h('select', { 'data-testid': `scenario-select-${index}`, 'aria-label': `Scenario of map ${index + 1}` },
      pub.scenarios.map((s) => h('option', { value: s.name }, s.title || s.name)));
    this.select.addEventListener('change', () => this.setScenario(this.select.value));
    this.legendEl = h('div', { class: 'legend', 'data-testid': `legend-${index}` });
    this.mapEl = h('div', { class: 'map', tabindex: 0, 'data-testid': `map-${index}`, 'aria-label': `Map ${index + 1}` });
    this.el = h('div', { class: 'pane', 'data-testid': `pane-${index}` },
      h('div', { class: 'caption' }, h('label', {}, 'Scenario ', this.select)),
      h('div', { class: 'map-wrap' }, this.mapEl, this.legendEl));
    host.append(this.el);

    this.layer = new VectorTileLayer({
      extent: pub.bounds ? transformExtent(pub.bounds, 'EPSG:4326', 'EPSG:3857') : undefined,
      style: (feature) => this.style(feature),
      opacity: pub.basemap && pub.basemap.url ? 0.8 : 1,
    });
    const layers = [];
    if (pub.basemap && pub.basemap.url)
      layers.push(new TileLayer({ source: new XYZ({ url: pub.basemap.url }) }));
    layers.push(this.layer);
    this.map = new Map({
      target: this.mapEl,
      view,
      layers,
      controls: defaultControls({ attribution: false, rotate: false }).extend([new ScaleLine()]),
    });
    this.map.on('singleclick', (e) => {
      const f = this.map.forEachFeatureAtPixel(e.pixel, (x) => x, { layerFilter: (l) => l === this.layer });
      if (f)
        this.cb.onSelect(f.getProperties(), this, e.pixel);
    });
    this.map.on('pointermove', (e) => {
      if (e.dragging)
        return;
      const hit = this.map.hasFeatureAtPixel(e.pixel, { layerFilter: (l) => l === this.layer });
      this.mapEl.style.cursor = hit ? 'pointer' : '';
    });
    this.map.on('moveend', () => this.updateLegend());
  }

  // Show another scenario: its tiles.json first (URL template, zooms, levels), then its tiles.
  async setScenario(name) {
    const s = this.pub.scenarios.find((x) => x.name === name);
    if (!s)
      throw new Error(`unknown scenario ${name}`);
    this.scenario = s;
    this.select.value = name;
    const url = `${PUBLICATION}tiles/${encodeURIComponent(name)}/tiles.json`;
    let tj;
    try {
      const res = await fetch(url);
      if (!res.ok)
        throw new Error(`HTTP ${res.status}`);
      tj = await res.json();
    } catch (err) {
      this.cb.onError(`cannot load ${url}: ${err.message}`);
      return;
    }
    if (this.scenario !== s)
      return;
    this.tilejson = tj;
    this.styleCache.clear();
    this.reportedError = false;
    this.layer.setSource(new VectorTileSource({
      format,
      url: tileUrl(name, tj),
      tileGrid: createXYZ({ minZoom: tj.minzoom ?? 0, maxZoom: tj.maxzoom ?? 16, tileSize: 256 }),
      tileLoadFunction: tileLoadFunction((msg) => {
        if (!this.reportedError)
          this.cb.onError(msg);
        this.reportedError = true;
      }),
      attributions: tj.attribution || undefined,
    }));
    this.updateLegend(true);
    this.cb.onScenario(this);
  }

  // The tile zoom on screen: what the source loads at this resolution, so the legend's level
  // is the level of the features drawn.
  tileZoom() {
    const src = this.layer.getSource();
    const res = this.view.getResolution();
    if (!src || res === undefined)
      return null;
    return src.getTileGrid().getZForResolution(res, src.zDirection);
  }

  // The highest tile zoom that still shows a level, from tiles.json.
  levelMaxZoom(level) {
    const r = zoomRange(this.tilejson, level);
    return r ? r[1] : null;
  }

  legend(level) {
    return this.scenario && this.scenario.legend ? this.scenario.legend[level] || null : null;
  }

  style(feature) {
    const props = feature.getProperties();
    const color = featureColor(this.legend(props.level), props);
    const selected = this.cb.isSelected(props);
    const key = `${color}${selected ? '*' : ''}`;
    let s = this.styleCache.get(key);
    if (!s) {
      s = new Style({
        fill: new Fill({ color }),
        stroke: selected ? new Stroke({ color: '#000000', width: 3 }) : new Stroke({ color: 'rgba(255,255,255,0.7)', width: 0.6 }),
        zIndex: selected ? 1 : 0,
      });
      this.styleCache.set(key, s);
    }
    return s;
  }

  // Redraw the legend when the level on screen changed (or always when forced).
  updateLegend(force = false) {
    const z = this.tileZoom();
    if (z === null)
      return;
    const level = levelForTileZoom(this.tilejson, z);
    if (!force && level === this.level)
      return;
    this.level = level;
    const lg = this.legend(level);
    const range = zoomRange(this.tilejson, level);
    const where = `${level} level${range ? ` (zoom ${range[0]}–${range[1]}${level === 'pc6' ? '+' : ''})` : ''}`;
    if (!lg) {
      fill(this.legendEl, h('div', { class: 'legend-title' }, this.scenario.title || this.scenario.name),
        h('div', { class: 'legend-level', 'data-testid': 'legend-level' }, `Legend for ${where}`),
        h('p', {}, `This scenario has no values at ${level} level.`));
      return;
    }
    // A <details> so the legend can be folded away where it covers too much (projector, pc6 bands).
    fill(this.legendEl, h('details', { open: this.legendOpen },
      h('summary', { class: 'legend-title', 'data-testid': 'legend-title' }, lg.title),
      h('div', { class: 'legend-level', 'data-testid': 'legend-level' }, `Legend for ${where}`),
      h('ul', { class: lg.classes.length > 6 ? 'legend-classes many' : 'legend-classes' },
        lg.classes.map((c) => h('li', { 'data-testid': 'legend-class' },
          h('span', { class: 'swatch', style: { background: c.color } }), c.label)),
        h('li', { class: 'legend-null' }, h('span', { class: 'swatch', style: { background: lg.null_color || '#bdbdbd' } }),
          lg.null_label || 'not published'))));
    this.legendEl.firstChild.addEventListener('toggle', (e) => { this.legendOpen = e.target.open; });
  }

  redraw() {
    this.layer.changed();
  }

  dispose() {
    this.map.setTarget(undefined);
    this.el.remove();
  }
}
