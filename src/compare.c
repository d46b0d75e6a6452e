#include "pc6risk/compare.h"
#include "pc6risk/gen.h"
#include "pc6risk/log.h"
#include "pc6risk/publish.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/score.h"
#include "pc6risk/signals.h"
#include "pc6risk/stats.h"
#include "pc6risk/text.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const size_t tops[3] = {3, 5, 10};

/* One scenario's scores at a level: value, rank (NaN: not ranked). */
struct scored {
	double *value;
	double *rank;
	bool present;
};

/* What the Monte Carlo of one scenario needs and gives. */
struct mc {
	const struct score_model *m;
	const struct config_scenario *s;
	uint64_t seed;
	int draws, threads;
	size_t nb;        /* buurten */
	float *ranks;     /* draws x nb; NaN: not ranked in that draw */
	int failed;
	struct err e;
};

struct mc_worker {
	struct mc *mc;
	int first;
};

static void *mc_thread(void *arg)
{
	struct mc_worker *w = arg;
	struct mc *mc = w->mc;
	const struct config_scenario *s = mc->s;
	double *value = xmalloc((mc->nb ? mc->nb : 1) * sizeof *value);
	double *rank = xmalloc((mc->nb ? mc->nb : 1) * sizeof *rank);
	double *weights = xmalloc((s->ndomains ? s->ndomains : 1) * sizeof *weights);
	double *alpha = xmalloc((s->ndomains ? s->ndomains : 1) * sizeof *alpha);
	struct score_work *work = score_work_new();
	double wsum = 0;

	for (size_t d = 0; d < s->ndomains; d++)
		wsum += s->domains[d].weight;
	/* a Dirichlet around the scenario's own weights; its concentration keeps
	 * draws near them (each weight varies by about a third) */
	for (size_t d = 0; d < s->ndomains; d++)
		alpha[d] = 10.0 * (double)s->ndomains * s->domains[d].weight / wsum;
	for (int d = w->first; d < mc->draws && !mc->failed && !signals_pending(); d += mc->threads) {
		struct gen_rng rng;
		struct score_variation v = {.normalise = -1};
		struct err e;

		/* each draw has a stream of its own: the same draws whatever the
		 * number of threads */
		gen_seed(&rng, mc->seed, gen_stream(s->name) + (uint64_t)d);
		if (s->ndomains > 1) {
			stats_dirichlet(&rng, alpha, s->ndomains, weights);
			for (size_t k = 0; k < s->ndomains; k++)
				weights[k] *= wsum;
			v.domain_weights = weights;
		}
		v.flag_percentile = 0.75 + 0.15 * gen_uniform(&rng);
		v.flags_needed = 2 + (int)gen_below(&rng, 3);
		if ((size_t)v.flags_needed > s->ndomains)
			v.flags_needed = (int)s->ndomains;
		if (s->combine != COMBINE_RATE && s->combine != COMBINE_PCA)
			v.normalise = (int)gen_below(&rng, 4);
		v.shrink_draw = &rng;
		if (score_compute(mc->m, s, &v, LEVEL_BUURT, value, rank, work, &e) < 0) {
			mc->e = e;
			mc->failed = 1;
			break;
		}
		for (size_t b = 0; b < mc->nb; b++)
			mc->ranks[(size_t)d * mc->nb + b] = (float)rank[b];
	}
	free(value);
	free(rank);
	free(weights);
	free(alpha);
	score_work_free(work);
	return NULL;
}

static int run_mc(struct mc *mc, struct err *e)
{
	pthread_t tid[64];
	struct mc_worker w[64];
	int started = 0;

	mc->ranks = xmalloc((size_t)mc->draws * (mc->nb ? mc->nb : 1) * sizeof *mc->ranks);
	for (int t = 0; t < mc->threads; t++) {
		w[t].mc = mc;
		w[t].first = t;
		if (pthread_create(&tid[t], NULL, mc_thread, &w[t]) != 0)
			break;
		started++;
	}
	if (started == 0)
		return err_set(e, ERR_SYSTEM, NULL, "cannot start a thread for the Monte Carlo");
	mc->threads = started;
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (mc->failed) {
		*e = mc->e;
		return -1;
	}
	if (signals_pending())
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; nothing was changed", signals_pending());
	return 0;
}

/* value where rank is known, else NaN: what the scenario ranks. */
static double *ranked_values(const struct scored *sc, size_t n)
{
	double *v = xmalloc((n ? n : 1) * sizeof *v);

	for (size_t i = 0; i < n; i++)
		v[i] = isnan(sc->rank[i]) ? NAN : sc->value[i];
	return v;
}

static int write_pairs(struct db *db, const struct config *cfg, enum level level, struct scored *sc, size_t n,
		       struct compare_stats *st, struct err *e)
{
	for (size_t a = 0; a < cfg->nscenarios; a++) {
		for (size_t b = a + 1; b < cfg->nscenarios; b++) {
			double *va, *vb, rho, tau, jac[3];
			size_t both = 0;
			char nb[24], r1[32], r2[32], j[3][32];
			const char *p[9];

			if (!sc[a].present || !sc[b].present)
				continue;
			va = ranked_values(&sc[a], n);
			vb = ranked_values(&sc[b], n);
			for (size_t i = 0; i < n; i++)
				both += !isnan(va[i]) && !isnan(vb[i]);
			rho = stats_spearman(va, vb, n);
			tau = stats_kendall(va, vb, n);
			for (int k = 0; k < 3; k++)
				jac[k] = stats_jaccard_top(va, vb, n, tops[k]);
			free(va);
			free(vb);
			snprintf(nb, sizeof nb, "%zu", both);
			snprintf(r1, sizeof r1, "%.17g", rho);
			snprintf(r2, sizeof r2, "%.17g", tau);
			for (int k = 0; k < 3; k++)
				snprintf(j[k], sizeof j[k], "%.17g", jac[k]);
			p[0] = level_name(level), p[1] = cfg->scenarios[a].name, p[2] = cfg->scenarios[b].name, p[3] = nb;
			p[4] = isnan(rho) ? NULL : r1, p[5] = isnan(tau) ? NULL : r2;
			for (int k = 0; k < 3; k++)
				p[6 + k] = j[k];
			if (db_execp(db,
				     "INSERT INTO compare_pair (level, a, b, areas, spearman, kendall, jaccard_3, jaccard_5,"
				     " jaccard_10) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
				     9, p, e) < 0)
				return -1;
			st->pairs++;
		}
	}
	return 0;
}

/* The buurten of the selected pilot areas, with the label of their area. */
struct pilot {
	size_t buurt;
	const char *label;
};

static size_t pilot_buurten(struct db *db, const struct score_model *m, const char *const *queries, size_t nq,
			    struct pilot **out, struct err *e)
{
	struct db_result *r = db_query(db,
				       "SELECT 'wijk', code, name FROM wijk UNION ALL SELECT 'buurt', code, name FROM buurt"
				       " ORDER BY 1 DESC, 2",
				       0, NULL, e);
	struct area_ref *refs;
	size_t nrefs, np = 0;

	*out = NULL;
	if (!r)
		return 0;
	nrefs = (size_t)db_nrows(r);
	refs = xcalloc(nrefs ? nrefs : 1, sizeof *refs);
	for (size_t i = 0; i < nrefs; i++) {
		refs[i].level = db_value(r, (int)i, 0);
		refs[i].code = db_value(r, (int)i, 1);
		refs[i].name = db_value(r, (int)i, 2);
	}
	for (size_t q = 0; q < nq; q++) {
		size_t k;
		struct err ignored;

		if (publish_select(refs, nrefs, queries[q], &k, &ignored) < 0) {
			log_msg(LOG_WARN, "no pilot area for \"%s\": %s", queries[q], ignored.message);
			continue;
		}
		for (size_t b = 0; b < score_model_count(m, LEVEL_BUURT); b++) {
			bool in = strcmp(refs[k].level, "buurt") == 0
					  ? strcmp(score_model_code(m, LEVEL_BUURT, b), refs[k].code) == 0
					  : strcmp(score_model_code(m, LEVEL_WIJK,
								    (size_t)score_model_ancestor(m, LEVEL_BUURT, b, LEVEL_WIJK)),
						   refs[k].code) == 0;

			if (!in)
				continue;
			*out = xrealloc(*out, (np + 1) * sizeof **out);
			(*out)[np].buurt = b;
			(*out)[np].label = queries[q];
			np++;
		}
	}
	free(refs);
	db_result_free(r);
	return np;
}

/* The two highest domains of each buurt, from what score wrote. */
static char **drivers(struct db *db, const struct score_model *m, const char *scenario, struct err *e)
{
	const char *params[1] = {scenario};
	size_t nb = score_model_count(m, LEVEL_BUURT);
	char **out = xcalloc(nb ? nb : 1, sizeof *out);
	struct db_result *r = db_query(
		db,
		"SELECT s.code, (SELECT string_agg(p.name, ', ' ORDER BY d.v DESC, p.position) FROM"
		"  (SELECT v, i FROM unnest(s.domains) WITH ORDINALITY AS u(v, i) WHERE v IS NOT NULL"
		"   ORDER BY v DESC, i LIMIT 2) d"
		"  JOIN score_part p ON p.scenario = s.scenario AND p.kind = 'domain' AND p.position = d.i)"
		" FROM score s WHERE s.scenario = $1 AND s.level = 'buurt' AND cardinality(s.domains) > 1",
		1, params, e);

	if (!r) {
		free(out);
		return NULL;
	}
	for (int i = 0; i < db_nrows(r); i++) {
		long b = score_model_find(m, LEVEL_BUURT, db_value(r, i, 0));

		if (b >= 0 && db_value(r, i, 1))
			out[b] = xstrdup(db_value(r, i, 1));
	}
	db_result_free(r);
	return out;
}

static void put_num(struct sbuf *b, double v)
{
	if (isnan(v))
		sbuf_puts(b, "\\N");
	else
		sbuf_printf(b, "%.17g", v);
}

static void print_agreement(const struct config *cfg, struct scored *sc, size_t n, const char *what)
{
	bool header = false;

	for (size_t a = 0; a < cfg->nscenarios; a++) {
		for (size_t b = a + 1; b < cfg->nscenarios; b++) {
			double *va, *vb;
			size_t both = 0;

			if (!sc[a].present || !sc[b].present)
				continue;
			if (!header) {
				printf("\nAgreement of the scenarios over the %s (Spearman rho, Kendall tau-b, overlap of the "
				       "top 3, 5, 10):\n\n",
				       what);
				printf("  %-22s %-22s %7s %6s %6s %6s %6s %6s\n", "scenario", "with", "areas", "rho", "tau",
				       "top 3", "top 5", "top 10");
				header = true;
			}
			va = ranked_values(&sc[a], n);
			vb = ranked_values(&sc[b], n);
			for (size_t i = 0; i < n; i++)
				both += !isnan(va[i]) && !isnan(vb[i]);
			printf("  %-22s %-22s %7zu %6.2f %6.2f %6.2f %6.2f %6.2f\n", cfg->scenarios[a].name,
			       cfg->scenarios[b].name, both, stats_spearman(va, vb, n), stats_kendall(va, vb, n),
			       stats_jaccard_top(va, vb, n, 3), stats_jaccard_top(va, vb, n, 5),
			       stats_jaccard_top(va, vb, n, 10));
			free(va);
			free(vb);
		}
	}
}

/* The names of the buurten of the model, by index (NULL when unknown). */
static char **buurt_names(struct db *db, const struct score_model *m, struct err *e)
{
	size_t nb = score_model_count(m, LEVEL_BUURT);
	struct db_result *r = db_query(db, "SELECT code, name FROM buurt", 0, NULL, e);
	char **out;

	if (!r)
		return NULL;
	out = xcalloc(nb ? nb : 1, sizeof *out);
	for (int i = 0; i < db_nrows(r); i++) {
		long b = score_model_find(m, LEVEL_BUURT, db_value(r, i, 0));

		if (b >= 0 && db_value(r, i, 1))
			out[b] = xstrdup(db_value(r, i, 1));
	}
	db_result_free(r);
	return out;
}

/* The draws' ranks of buurt b, as doubles. */
static double *draw_ranks_of(const struct mc *mc, size_t nb, int draws, size_t b)
{
	double *dr = xmalloc((size_t)(draws > 0 ? draws : 1) * sizeof *dr);

	for (int d = 0; d < draws; d++)
		dr[d] = mc->ranks[(size_t)d * nb + b];
	return dr;
}

/* Each scenario's top 5 buurten with how sure their places are and what
 * drives them. */
static void print_tops(const struct config *cfg, const struct score_model *m, const struct scored *sc,
		       const struct mc *mc, size_t nb, int draws, char **names, char ***drive)
{
	size_t top[5];

	printf("\nTop 5 of each scenario, with the median rank, the 5-95 %% rank interval and the chance of a top-5 "
	       "place over %d draws, and the two domains that drive the score:\n",
	       draws);
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		double *v;
		size_t got;

		if (!sc[s].present)
			continue;
		printf("\n  %-40s %6s  %-9s %6s  %s\n", cfg->scenarios[s].name, "median", "5-95 %", "top 5", "drivers");
		v = ranked_values(&sc[s], nb);
		got = stats_top(v, nb, 5, top);
		for (size_t i = 0; i < got; i++) {
			size_t b = top[i];
			char med[16] = "", interval[32] = "", ptop[16] = "";

			if (mc[s].ranks && draws > 0) {
				double *dr = draw_ranks_of(&mc[s], nb, draws, b);
				size_t in = 0;

				for (int d = 0; d < draws; d++)
					in += !isnan(dr[d]) && dr[d] <= 5;
				snprintf(med, sizeof med, "%.0f", stats_quantile(dr, (size_t)draws, 0.5));
				snprintf(interval, sizeof interval, "%.0f-%.0f", stats_quantile(dr, (size_t)draws, 0.05),
					 stats_quantile(dr, (size_t)draws, 0.95));
				snprintf(ptop, sizeof ptop, "%.0f %%", 100.0 * (double)in / draws);
				free(dr);
			}
			printf("  %4.0f  %-11s %-22.22s %6s  %-9s %6s  %s\n", sc[s].rank[b],
			       score_model_code(m, LEVEL_BUURT, b), names[b] ? names[b] : "", med, interval, ptop,
			       drive[s] && drive[s][b] ? drive[s][b] : "");
		}
		free(v);
	}
}

int compare_run(struct db *db, const struct config *cfg, const struct compare_opts *opts, struct compare_stats *st,
		struct err *e)
{
	size_t ns = cfg->nscenarios, nb = 0, npc6 = 0, npilots = 0;
	struct score_model *m = NULL;
	struct scored *buurt = xcalloc(ns ? ns : 1, sizeof *buurt), *pc6 = xcalloc(ns ? ns : 1, sizeof *pc6);
	struct mc *mc = xcalloc(ns ? ns : 1, sizeof *mc);
	int *robust[3] = {NULL, NULL, NULL}, threads = opts->threads;
	struct pilot *pilots = NULL;
	char ***drive = xcalloc(ns ? ns : 1, sizeof *drive), **names = NULL;
	struct timespec t0, t1;
	struct score_work *work = NULL;
	int rc = -1;

	memset(st, 0, sizeof *st);
	if (db_begin(db, e) < 0)
		goto out;
	if (db_lock(db, "compare", false, e) < 0 || db_exec(db, "TRUNCATE compare_pair, compare_area, compare_run", e) < 0)
		goto out;
	if (!(m = score_model_load(db, cfg, e)))
		goto out;
	nb = score_model_count(m, LEVEL_BUURT);
	npc6 = score_model_count(m, LEVEL_PC6);
	if (nb == 0) {
		err_set(e, ERR_INPUT, NULL, "there are no buurten to compare");
		err_hint(e, "run `pc6risk load` first");
		goto out;
	}
	/* both levels of a scenario from one work space: the second reuses the
	 * first's sorted indicators and domain percentiles */
	work = score_work_new();
	for (size_t s = 0; s < ns; s++) {
		const struct config_scenario *sc = &cfg->scenarios[s];

		buurt[s].value = xmalloc(nb * sizeof(double));
		buurt[s].rank = xmalloc(nb * sizeof(double));
		if (sc->outputs[LEVEL_BUURT] || sc->level == LEVEL_BUURT) {
			if (score_compute(m, sc, NULL, LEVEL_BUURT, buurt[s].value, buurt[s].rank, work, e) < 0)
				goto out;
			buurt[s].present = true;
		}
		if (sc->level == LEVEL_PC6 && npc6 > 0) {
			pc6[s].value = xmalloc(npc6 * sizeof(double));
			pc6[s].rank = xmalloc(npc6 * sizeof(double));
			if (score_compute(m, sc, NULL, LEVEL_PC6, pc6[s].value, pc6[s].rank, work, e) < 0)
				goto out;
			pc6[s].present = true;
		}
	}
	score_work_free(work);
	work = NULL;
#ifdef __GLIBC__
	/* glibc keeps the work space's 100 MB from the main heap; the draws'
	 * threads allocate in heaps of their own */
	malloc_trim(0);
#endif
	if (write_pairs(db, cfg, LEVEL_BUURT, buurt, nb, st, e) < 0 ||
	    (npc6 > 0 && write_pairs(db, cfg, LEVEL_PC6, pc6, npc6, st, e) < 0))
		goto out;

	/* robust top N: in the top N (rank <= N, so ties at the edge are all in)
	 * of every scenario but at most one */
	for (int k = 0; k < 3; k++) {
		size_t present = 0;

		robust[k] = xcalloc(nb, sizeof *robust[k]);
		for (size_t s = 0; s < ns; s++) {
			if (!buurt[s].present)
				continue;
			present++;
			for (size_t b = 0; b < nb; b++)
				robust[k][b] += !isnan(buurt[s].rank[b]) && buurt[s].rank[b] <= (double)tops[k];
		}
		for (size_t b = 0; b < nb; b++)
			robust[k][b] = present > 0 && (size_t)robust[k][b] >= (present > 1 ? present - 1 : 1);
	}

	/* Monte Carlo, each scenario's draws over the cores */
	if (threads <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cores > 0 ? (int)(cores > 64 ? 64 : cores) : 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t s = 0; s < ns && opts->draws > 0; s++) {
		if (!buurt[s].present)
			continue;
		mc[s] = (struct mc){.m = m, .s = &cfg->scenarios[s], .seed = opts->seed, .draws = opts->draws,
				    .threads = threads, .nb = nb};
		if (run_mc(&mc[s], e) < 0)
			goto out;
		st->draws += opts->draws;
		log_msg(LOG_INFO, "monte carlo scenario=%s draws=%d threads=%d", cfg->scenarios[s].name, opts->draws,
			mc[s].threads);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->draw_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	/* per scenario and buurt: the uncertainty of its rank */
	{
		struct sbuf rows = {0};
		double *draw_ranks = xmalloc((opts->draws > 0 ? (size_t)opts->draws : 1) * sizeof *draw_ranks);

		for (size_t s = 0; s < ns; s++) {
			if (!buurt[s].present)
				continue;
			if (!(drive[s] = drivers(db, m, cfg->scenarios[s].name, e)))
				goto out;
			for (size_t b = 0; b < nb; b++) {
				double med = NAN, p05 = NAN, p95 = NAN, ptop[3] = {NAN, NAN, NAN};

				if (mc[s].ranks) {
					size_t got = 0, in[3] = {0, 0, 0};

					for (int d = 0; d < opts->draws; d++) {
						float r = mc[s].ranks[(size_t)d * nb + b];

						draw_ranks[d] = r;
						if (!isnan(r)) {
							got++;
							for (int k = 0; k < 3; k++)
								in[k] += r <= (float)tops[k];
						}
					}
					med = stats_quantile(draw_ranks, (size_t)opts->draws, 0.5);
					p05 = stats_quantile(draw_ranks, (size_t)opts->draws, 0.05);
					p95 = stats_quantile(draw_ranks, (size_t)opts->draws, 0.95);
					for (int k = 0; k < 3; k++)
						ptop[k] = got ? (double)in[k] / (double)opts->draws : NAN;
				}
				db_copy_field(&rows, cfg->scenarios[s].name);
				sbuf_printf(&rows, "\tbuurt\t%s\t", score_model_code(m, LEVEL_BUURT, b));
				put_num(&rows, buurt[s].rank[b]);
				sbuf_putc(&rows, '\t');
				put_num(&rows, med);
				sbuf_putc(&rows, '\t');
				put_num(&rows, p05);
				sbuf_putc(&rows, '\t');
				put_num(&rows, p95);
				for (int k = 0; k < 3; k++) {
					sbuf_putc(&rows, '\t');
					put_num(&rows, ptop[k]);
				}
				for (int k = 0; k < 3; k++)
					sbuf_printf(&rows, "\t%s", robust[k][b] ? "t" : "f");
				sbuf_putc(&rows, '\t');
				db_copy_field(&rows, drive[s][b]);
				sbuf_putc(&rows, '\n');
				st->areas++;
			}
		}
		free(draw_ranks);
		rc = db_copy_begin(db,
				   "COPY compare_area (scenario, level, code, rank, median_rank, rank_p05, rank_p95,"
				   " p_top_3, p_top_5, p_top_10, robust_top_3, robust_top_5, robust_top_10, drivers)"
				   " FROM STDIN",
				   e);
		if (rc == 0 && rows.len)
			rc = db_copy_put(db, rows.s, rows.len, e);
		if (rc == 0)
			rc = db_copy_end(db, e);
		sbuf_free(&rows);
		rc = rc < 0 ? -1 : 0;
		if (rc < 0)
			goto out;
		rc = -1;
	}
	{
		char draws[16], seed[32], secs[32];
		const char *p[3] = {draws, seed, secs};

		snprintf(draws, sizeof draws, "%d", opts->draws);
		snprintf(seed, sizeof seed, "%lld", (long long)opts->seed);
		snprintf(secs, sizeof secs, "%.6f", st->draw_seconds);
		if (db_execp(db, "INSERT INTO compare_run (draws, seed, seconds) VALUES ($1, $2, $3)", 3, p, e) < 0 ||
		    db_commit(db, e) < 0)
			goto out;
	}

	if (opts->print) {
		const char *const *queries = opts->select ? opts->select : (const char *const *)cfg->neighbourhoods;
		size_t nq = opts->select ? opts->nselect : cfg->nneighbourhoods;

		print_agreement(cfg, buurt, nb, "buurten");
		print_agreement(cfg, pc6, npc6, "PC6");
		if (!(names = buurt_names(db, m, e)))
			goto out;
		printf("\nRobust top 5 (in the top 5 of all scenarios but at most one):");
		for (size_t b = 0, shown = 0; b < nb; b++)
			if (robust[1][b])
				printf("%s %s %s", shown++ ? "," : "", score_model_code(m, LEVEL_BUURT, b),
				       names[b] ? names[b] : "");
		printf("\n");
		print_tops(cfg, m, buurt, mc, nb, opts->draws, names, drive);
		npilots = pilot_buurten(db, m, queries, nq, &pilots, e);
		if (npilots > 0) {
			printf("\nPilot panel: rank among the buurten [5-95 %% interval over %d draws]\n\n", opts->draws);
			printf("  %-16s %-11s", "area", "buurt");
			for (size_t s = 0; s < ns; s++)
				if (buurt[s].present)
					printf(" %-20.20s", cfg->scenarios[s].name);
			printf("\n");
			for (size_t p = 0; p < npilots; p++) {
				size_t b = pilots[p].buurt;

				printf("  %-16.16s %-11s", pilots[p].label, score_model_code(m, LEVEL_BUURT, b));
				for (size_t s = 0; s < ns; s++) {
					char cell[64];

					if (!buurt[s].present)
						continue;
					if (isnan(buurt[s].rank[b]))
						snprintf(cell, sizeof cell, "-");
					else if (mc[s].ranks) {
						double *dr = draw_ranks_of(&mc[s], nb, opts->draws, b);

						snprintf(cell, sizeof cell, "%.0f [%.0f-%.0f]", buurt[s].rank[b],
							 stats_quantile(dr, (size_t)opts->draws, 0.05),
							 stats_quantile(dr, (size_t)opts->draws, 0.95));
						free(dr);
					} else {
						snprintf(cell, sizeof cell, "%.0f", buurt[s].rank[b]);
					}
					printf(" %-20s", cell);
				}
				printf("\n");
			}
		}
		if (opts->draws > 0)
			printf("\nMonte Carlo: %d draws per scenario, %lld in all, in %.1f s (%.0f draws/s, %d threads)\n",
			       opts->draws, st->draws, st->draw_seconds,
			       st->draw_seconds > 0 ? (double)st->draws / st->draw_seconds : 0.0, threads);
	}
	rc = 0;
out:
	if (rc < 0)
		db_rollback(db);
	for (size_t s = 0; s < ns; s++) {
		free(buurt[s].value);
		free(buurt[s].rank);
		free(pc6[s].value);
		free(pc6[s].rank);
		free(mc[s].ranks);
		for (size_t b = 0; drive[s] && b < nb; b++)
			free(drive[s][b]);
		free(drive[s]);
	}
	for (size_t b = 0; names && b < nb; b++)
		free(names[b]);
	free(drive);
	free(names);
	for (int k = 0; k < 3; k++)
		free(robust[k]);
	free(buurt);
	free(pc6);
	free(mc);
	free(pilots);
	score_work_free(work);
	score_model_free(m);
	return rc;
}
