#include "pc6risk/vecw.h"
#include "pc6risk/log.h"
#include "pc6risk/text.h"
#include "pc6risk/xalloc.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The time written wherever a GeoPackage records one (gpkg_contents.last_change,
 * metadata references): a fixed value keeps the bytes reproducible. */
#define FIXED_DATE "2000-01-01T00:00:00.000Z"

struct vecw {
	GDALDatasetH ds;
	OGRSpatialReferenceH srs;
	OGRLayerH layer;
	int nfields;
	bool in_transaction;
	char *path;
	unsigned char *wkb;
	size_t wkb_cap;
	long long features;
};

static void CPL_STDCALL gdal_log(CPLErr cls, CPLErrorNum no, const char *msg)
{
	(void)no;
	if (cls == CE_Warning)
		log_msg(LOG_DEBUG, "gdal: %s", msg);
}

static int gdal_fail(struct vecw *w, const char *what, struct err *e)
{
	const char *m = CPLGetLastErrorMsg();

	return err_set(e, ERR_SYSTEM, w->path, "%s%s%s", what, m[0] ? ": " : "", m);
}

struct vecw *vecw_create(const char *path, const char *const *metadata, struct err *e)
{
	GDALDriverH drv;
	struct vecw *w;

	GDALAllRegister();
	CPLSetErrorHandler(gdal_log);
	CPLSetConfigOption("OGR_CURRENT_DATE", FIXED_DATE);
	w = xcalloc(1, sizeof *w);
	w->path = xstrdup(path);
	drv = GDALGetDriverByName("GPKG");
	if (!drv) {
		err_set(e, ERR_INTERNAL, path, "this GDAL has no GeoPackage driver");
		goto fail;
	}
	if (access(path, F_OK) == 0) {
		err_set(e, ERR_SYSTEM, path, "cannot create the GeoPackage: the file exists");
		goto fail;
	}
	CPLErrorReset();
	w->ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
	if (!w->ds) {
		gdal_fail(w, "cannot create the GeoPackage", e);
		goto fail;
	}
	for (const char *const *m = metadata; m && *m; m++) {
		const char *eq = strchr(*m, '=');
		char *key;

		if (!eq)
			continue;
		key = xasprintf("%.*s", (int)(eq - *m), *m);
		GDALSetMetadataItem(w->ds, key, eq + 1, NULL);
		free(key);
	}
	w->srs = OSRNewSpatialReference(NULL);
	OSRImportFromEPSG(w->srs, 28992);
	OSRSetAxisMappingStrategy(w->srs, OAMS_TRADITIONAL_GIS_ORDER);
	return w;
fail:
	vecw_abort(w);
	return NULL;
}

static int end_layer(struct vecw *w, struct err *e)
{
	if (w->in_transaction) {
		w->in_transaction = false;
		if (GDALDatasetCommitTransaction(w->ds) != OGRERR_NONE)
			return gdal_fail(w, "cannot write the layer", e);
	}
	w->layer = NULL;
	return 0;
}

int vecw_layer(struct vecw *w, const char *name, const char *description, const char *const *fields,
	       struct err *e)
{
	char *desc = xasprintf("DESCRIPTION=%s", description ? description : "");
	char *options[] = {desc, "FID=fid", "GEOMETRY_NAME=geom", NULL};

	if (end_layer(w, e) < 0) {
		free(desc);
		return -1;
	}
	CPLErrorReset();
	w->layer = GDALDatasetCreateLayer(w->ds, name, w->srs, wkbMultiPolygon, options);
	free(desc);
	if (!w->layer)
		return gdal_fail(w, "cannot create a layer", e);
	w->nfields = 0;
	for (const char *const *f = fields; f && *f; f++) {
		OGRFieldDefnH fd = OGR_Fld_Create(*f, OFTString);
		OGRErr rc = OGR_L_CreateField(w->layer, fd, TRUE);

		OGR_Fld_Destroy(fd);
		if (rc != OGRERR_NONE)
			return gdal_fail(w, "cannot create a field", e);
		w->nfields++;
	}
	if (GDALDatasetStartTransaction(w->ds, FALSE) != OGRERR_NONE)
		return gdal_fail(w, "cannot start writing the layer", e);
	w->in_transaction = true;
	return 0;
}

int vecw_add(struct vecw *w, const char *const *values, const char *wkb_hex, struct err *e)
{
	long n;
	OGRFeatureH f;
	OGRGeometryH g = NULL;
	int rc = 0;

	if (!w->layer)
		return err_set(e, ERR_INTERNAL, w->path, "a feature before any layer");
	n = text_unhex(wkb_hex, &w->wkb, &w->wkb_cap);
	if (n < 0)
		return err_set(e, ERR_INTERNAL, w->path, "a geometry that is not hex WKB");
	if (OGR_G_CreateFromWkb(w->wkb, w->srs, &g, (int)n) != OGRERR_NONE || !g)
		return err_set(e, ERR_INTERNAL, w->path, "a geometry GDAL cannot read");
	g = OGR_G_ForceToMultiPolygon(g);
	f = OGR_F_Create(OGR_L_GetLayerDefn(w->layer));
	for (int i = 0; i < w->nfields; i++)
		if (values[i])
			OGR_F_SetFieldString(f, i, values[i]);
	OGR_F_SetGeometryDirectly(f, g);
	CPLErrorReset();
	if (OGR_L_CreateFeature(w->layer, f) != OGRERR_NONE)
		rc = gdal_fail(w, "cannot write a feature", e);
	OGR_F_Destroy(f);
	w->features++;
	return rc;
}

static void release(struct vecw *w)
{
	if (w->srs)
		OSRDestroySpatialReference(w->srs);
	free(w->wkb);
	free(w->path);
	free(w);
}

int vecw_close(struct vecw *w, struct err *e)
{
	int rc = end_layer(w, e);

	CPLErrorReset();
	GDALClose(w->ds);
	w->ds = NULL;
	if (rc == 0 && CPLGetLastErrorType() >= CE_Failure)
		rc = gdal_fail(w, "cannot finish the GeoPackage", e);
	CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
	if (rc < 0)
		unlink(w->path);
	release(w);
	return rc;
}

void vecw_abort(struct vecw *w)
{
	if (!w)
		return;
	if (w->ds) {
		if (w->in_transaction)
			GDALDatasetRollbackTransaction(w->ds);
		GDALClose(w->ds);
		unlink(w->path);
	}
	CPLSetConfigOption("OGR_CURRENT_DATE", NULL);
	release(w);
}
