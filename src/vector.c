#include "pc6risk/vector.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vec {
	GDALDatasetH ds;
	OGRLayerH layer;
	OGRCoordinateTransformationH ct; /* NULL when already in EPSG:28992 */
	char *path;
	int code_idx, name_idx, parent_idx;
	OGRFeatureH feat; /* the current feature */
	char where[512];
	char *code, *name, *parent;
	unsigned char *wkb;
	size_t wkb_cap;
	struct sbuf ewkb;
	struct sbuf hex;
	bool want_hex;
};

/* GDAL reports through a callback; send it to our log rather than stderr. The
 * message of a failed call is read back with CPLGetLastErrorMsg. */
static void CPL_STDCALL gdal_log(CPLErr cls, CPLErrorNum no, const char *msg)
{
	(void)no;
	if (cls == CE_Warning)
		log_msg(LOG_DEBUG, "gdal: %s", msg);
}

static void gdal_init(void)
{
	static int done;

	if (done)
		return;
	GDALAllRegister();
	CPLSetErrorHandler(gdal_log);
	done = 1;
}

static int field_index(struct vec *v, const char *field, struct err *e)
{
	OGRFeatureDefnH defn = OGR_L_GetLayerDefn(v->layer);
	int idx = OGR_FD_GetFieldIndex(defn, field);
	struct sbuf names = {0};

	if (idx >= 0)
		return idx;
	for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++)
		sbuf_printf(&names, "%s%s", i ? ", " : "", OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
	err_set(e, ERR_INPUT, v->path, "layer \"%s\" has no field \"%s\"", OGR_L_GetName(v->layer), field);
	err_detail(e, "its fields are: %s", names.s ? names.s : "(none)");
	sbuf_free(&names);
	return -1;
}

static int setup_transform(struct vec *v, const char *srs, struct err *e)
{
	OGRSpatialReferenceH src = NULL, dst = OSRNewSpatialReference(NULL);
	int rc = -1;

	if (srs) {
		src = OSRNewSpatialReference(NULL);
		if (OSRSetFromUserInput(src, srs) != OGRERR_NONE) {
			err_set(e, ERR_CONFIG, v->path, "unknown coordinate reference system \"%s\"", srs);
			err_hint(e, "name it as GDAL does, for example \"EPSG:28992\" (RD New) or \"EPSG:4326\"");
			goto out;
		}
	} else {
		OGRSpatialReferenceH own = OGR_L_GetSpatialRef(v->layer);

		if (!own) {
			err_set(e, ERR_INPUT, v->path, "layer \"%s\" has no coordinate reference system",
				OGR_L_GetName(v->layer));
			err_hint(e, "set \"srs\" for this input in the config, for example \"EPSG:28992\" for RD New");
			goto out;
		}
		src = OSRClone(own);
	}
	OSRImportFromEPSG(dst, 28992);
	OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
	OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
	if (OSRIsSame(src, dst)) {
		rc = 0;
		goto out;
	}
	v->ct = OCTNewCoordinateTransformation(src, dst);
	if (!v->ct) {
		err_set(e, ERR_INPUT, v->path, "cannot reproject from its coordinate reference system to EPSG:28992");
		err_detail(e, "%s", CPLGetLastErrorMsg());
		goto out;
	}
	rc = 0;
out:
	OSRDestroySpatialReference(src);
	OSRDestroySpatialReference(dst);
	return rc;
}

struct vec *vec_open(const char *path, const char *layer, const char *srs, const char *code_field,
		     const char *name_field, const char *parent_field, struct err *e)
{
	struct vec *v;

	gdal_init();
	v = xcalloc(1, sizeof *v);
	v->path = xstrdup(path);
	v->name_idx = v->parent_idx = -1;
	v->want_hex = true;
	CPLErrorReset();
	v->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
	if (!v->ds) {
		const char *m = CPLGetLastErrorMsg();

		err_set(e, ERR_INPUT, path, "cannot open as a vector data source%s%s", m[0] ? ": " : "", m);
		goto fail;
	}
	if (layer) {
		v->layer = GDALDatasetGetLayerByName(v->ds, layer);
		if (!v->layer) {
			struct sbuf names = {0};

			for (int i = 0; i < GDALDatasetGetLayerCount(v->ds); i++)
				sbuf_printf(&names, "%s%s", i ? ", " : "",
					    OGR_L_GetName(GDALDatasetGetLayer(v->ds, i)));
			err_set(e, ERR_INPUT, path, "has no layer \"%s\"", layer);
			err_detail(e, "its layers are: %s", names.s ? names.s : "(none)");
			sbuf_free(&names);
			goto fail;
		}
	} else {
		if (GDALDatasetGetLayerCount(v->ds) < 1) {
			err_set(e, ERR_INPUT, path, "holds no vector layer");
			goto fail;
		}
		v->layer = GDALDatasetGetLayer(v->ds, 0);
	}
	if ((v->code_idx = field_index(v, code_field, e)) < 0)
		goto fail;
	if (name_field && (v->name_idx = field_index(v, name_field, e)) < 0)
		goto fail;
	if (parent_field && (v->parent_idx = field_index(v, parent_field, e)) < 0)
		goto fail;
	if (setup_transform(v, srs, e) < 0)
		goto fail;
	OGR_L_ResetReading(v->layer);
	return v;
fail:
	vec_close(v);
	return NULL;
}

long long vec_count(const struct vec *v)
{
	return (long long)OGR_L_GetFeatureCount(v->layer, FALSE);
}

/* A trimmed copy of a field, or NULL when unset or blank. */
static char *field_text(OGRFeatureH f, int idx)
{
	const char *s;
	size_t a = 0, n;

	if (idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx))
		return NULL;
	s = OGR_F_GetFieldAsString(f, idx);
	while (s[a] == ' ')
		a++;
	n = strlen(s + a);
	while (n > 0 && s[a + n - 1] == ' ')
		n--;
	if (n == 0)
		return NULL;
	return xasprintf("%.*s", (int)n, s + a);
}

int vec_next(struct vec *v, struct vec_feature *out, struct err *e)
{
	OGRGeometryH g;
	OGRwkbGeometryType t;
	size_t size;

	if (v->feat)
		OGR_F_Destroy(v->feat);
	free(v->code);
	free(v->name);
	free(v->parent);
	v->code = v->name = v->parent = NULL;
	CPLErrorReset();
	v->feat = OGR_L_GetNextFeature(v->layer);
	if (!v->feat) {
		if (CPLGetLastErrorType() >= CE_Failure)
			return err_set(e, ERR_INPUT, v->path, "cannot read: %s", CPLGetLastErrorMsg());
		return 0;
	}
	memset(out, 0, sizeof *out);
	out->fid = (long long)OGR_F_GetFID(v->feat);
	/* "path#fid=N", per feature, without the cost of printf */
	{
		char digits[24], *d = digits + sizeof digits;
		unsigned long long fid = out->fid < 0 ? 0 : (unsigned long long)out->fid;
		size_t plen = strlen(v->path), dlen;

		*--d = '\0';
		do {
			*--d = (char)('0' + fid % 10);
			fid /= 10;
		} while (fid);
		dlen = strlen(d);
		if (plen + 5 + dlen < sizeof v->where) {
			memcpy(v->where, v->path, plen);
			memcpy(v->where + plen, "#fid=", 5);
			memcpy(v->where + plen + 5, d, dlen + 1);
		} else {
			snprintf(v->where, sizeof v->where, "%s#fid=%lld", v->path, out->fid);
		}
	}
	out->where = v->where;
	v->code = field_text(v->feat, v->code_idx);
	v->name = field_text(v->feat, v->name_idx);
	v->parent = field_text(v->feat, v->parent_idx);
	if (!v->code)
		return err_set(e, ERR_INPUT, v->where, "the code field \"%s\" is empty",
			       OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(v->feat, v->code_idx)));

	g = OGR_F_StealGeometry(v->feat);
	if (!g || OGR_G_IsEmpty(g)) {
		OGR_G_DestroyGeometry(g);
		return err_set(e, ERR_INPUT, v->where, "feature %s has no geometry", v->code);
	}
	t = wkbFlatten(OGR_G_GetGeometryType(g));
	if (t != wkbPolygon && t != wkbMultiPolygon && t != wkbCurvePolygon && t != wkbMultiSurface) {
		err_set(e, ERR_INPUT, v->where, "feature %s: expected a polygon or multipolygon, got %s", v->code,
			OGRGeometryTypeToName(t));
		OGR_G_DestroyGeometry(g);
		return -1;
	}
	g = OGR_G_ForceToMultiPolygon(g); /* also linearises curves */
	OGR_G_FlattenTo2D(g);
	OGR_G_CloseRings(g); /* PostGIS refuses open rings; GeoJSON writers do leave them */
	if (v->ct && OGR_G_Transform(g, v->ct) != OGRERR_NONE) {
		OGR_G_DestroyGeometry(g);
		return err_set(e, ERR_INPUT, v->where, "feature %s: cannot reproject to EPSG:28992: %s", v->code,
			       CPLGetLastErrorMsg());
	}
	size = (size_t)OGR_G_WkbSize(g);
	if (size > v->wkb_cap) {
		v->wkb_cap = size;
		v->wkb = xrealloc(v->wkb, size);
	}
	OGR_G_ExportToIsoWkb(g, wkbNDR, v->wkb);
	out->valid = OGR_G_IsValid(g) != 0;
	OGR_G_DestroyGeometry(g);
	/* EWKB: the byte order, the type with the SRID flag, the SRID, then the
	 * rest of the WKB as it is. */
	sbuf_reset(&v->ewkb);
	{
		unsigned char head[9] = {1, v->wkb[1], v->wkb[2], v->wkb[3], (unsigned char)(v->wkb[4] | 0x20),
					 28992 & 0xff, (28992 >> 8) & 0xff, 0, 0};

		sbuf_append(&v->ewkb, (const char *)head, sizeof head);
	}
	sbuf_append(&v->ewkb, (const char *)v->wkb + 5, size - 5);
	sbuf_reset(&v->hex);
	if (v->want_hex)
		sbuf_hex(&v->hex, (const unsigned char *)v->ewkb.s, v->ewkb.len);
	out->code = v->code;
	out->name = v->name;
	out->parent = v->parent;
	out->wkb = v->wkb;
	out->wkb_len = size;
	out->ewkb = (const unsigned char *)v->ewkb.s;
	out->ewkb_len = v->ewkb.len;
	out->ewkb_hex = v->hex.s;
	return 1;
}

void vec_close(struct vec *v)
{
	if (!v)
		return;
	if (v->feat)
		OGR_F_Destroy(v->feat);
	if (v->ct)
		OCTDestroyCoordinateTransformation(v->ct);
	if (v->ds)
		GDALClose(v->ds);
	free(v->code);
	free(v->name);
	free(v->parent);
	free(v->wkb);
	sbuf_free(&v->ewkb);
	sbuf_free(&v->hex);
	free(v->path);
	free(v);
}

const char *vec_gdal_version(void)
{
	return GDALVersionInfo("RELEASE_NAME");
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vec_files(const char *path, struct err *e)
{
	GDALDatasetH ds;
	char **list, **out;
	size_t n = 0;

	gdal_init();
	CPLErrorReset();
	ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
	if (!ds) {
		const char *m = CPLGetLastErrorMsg();

		err_set(e, ERR_INPUT, path, "cannot open as a vector data source%s%s", m[0] ? ": " : "", m);
		return NULL;
	}
	list = GDALGetFileList(ds);
	while (list && list[n])
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(list[i]);
	CSLDestroy(list);
	GDALClose(ds);
	if (n == 0) {
		/* a source that is no file (a database, a URL): hash its name */
		out = xrealloc(out, 2 * sizeof *out);
		out[0] = xstrdup(path);
		out[1] = NULL;
		n = 1;
	}
	qsort(out, n, sizeof *out, by_string);
	return out;
}

void vec_files_free(char **files)
{
	if (!files)
		return;
	for (char **f = files; *f; f++)
		free(*f);
	free(files);
}

void vec_want_hex(struct vec *v, bool on)
{
	v->want_hex = on;
}
