/*
 * audit: named attacks on small releases (each caught in its weak form and
 * passing once protected), malformed files, and the exact differencing check
 * against a dense rank computation on random trees.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pc6risk/audit.h"
#include "pc6risk/fsx.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

static const char policy_public[] =
	"{\"policy\": \"public\", \"size\": [{\"variable\": \"inhabitants\", \"min\": 5}],\n"
	" \"kinds\": {\"person\": {\"base\": 5, \"k\": 5}, \"dwelling\": {\"base\": 5, \"k\": 5},\n"
	"  \"income\": {\"base\": 100, \"k\": 100, \"min_variable\": \"households\", \"min\": 100, \"dominance\": 0.3}},\n"
	" \"range\": 0.5, \"bands\": 10}\n";

static const char fig_header[] = "level,region,variable,kind,status,value,base,reason\n";

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* A release dir holding disclosure/ with the three files; the caller frees
 * the path and removes it with release_rm. */
static char *release(const char *groups, const char *figures, const char *policy)
{
	char tmpl[] = "/tmp/pc6risk-audit-XXXXXX";
	char *dir, *disc;

	cr_assert(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	disc = xasprintf("%s/disclosure", dir);
	cr_assert_eq(mkdir(disc, 0700), 0);
	write_file(disc, "groups.csv", groups);
	write_file(disc, "figures.csv", figures);
	write_file(disc, "policy.json", policy ? policy : policy_public);
	free(disc);
	return dir;
}

static void release_rm(char *dir)
{
	struct err e;

	cr_assert_eq(fsx_rmtree(dir, &e), 0, "%s", e.message);
	free(dir);
}

/* Audit dir (with public totals when public is not NULL); return audit_dir's result. */
static int run(const char *dir, const char *public, int threads, struct audit_report *r, struct err *e)
{
	struct audit_opts o = {.threads = threads};
	char *pub = NULL;
	int rc;

	if (public) {
		char *disc = xasprintf("%s/disclosure", dir);

		write_file(disc, "public.csv", public);
		pub = xasprintf("%s/public.csv", disc);
		free(disc);
	}
	o.public_csv = pub;
	err_clear(e);
	rc = audit_dir(dir, &o, r, e);
	free(pub);
	return rc;
}

/* Whether r holds a failure of check about region (any region when NULL). */
static bool failed(const struct audit_report *r, enum audit_check check, const char *region)
{
	for (size_t i = 0; i < r->nfailures; i++)
		if (r->failures[i].check == check && (!region || strcmp(r->failures[i].region, region) == 0))
			return true;
	return false;
}

static void dump(const struct audit_report *r)
{
	for (size_t i = 0; i < r->nfailures; i++)
		fprintf(stderr, "  %s: %s\n", audit_check_name(r->failures[i].check), r->failures[i].message);
}

/* Run an attack: weak must fail check on region, protected must pass. */
static void attack(const char *groups, const char *weak, const char *weak_public, const char *protected,
		   const char *protected_public, const char *policy, enum audit_check check, const char *region)
{
	struct audit_report r;
	struct err e;
	char *dir = release(groups, weak, policy);
	int rc = run(dir, weak_public, 0, &r, &e);

	cr_assert_eq(rc, 1, "the weak release must fail (rc %d: %s)", rc, e.message);
	if (!failed(&r, check, region))
		dump(&r);
	cr_assert(failed(&r, check, region), "expected a %s failure on %s", audit_check_name(check), region);
	audit_report_free(&r);
	release_rm(dir);

	dir = release(groups, protected, policy);
	rc = run(dir, protected_public, 0, &r, &e);
	if (rc != 0)
		dump(&r);
	cr_assert_eq(rc, 0, "the protected release must pass (rc %d: %s)", rc, e.message);
	audit_report_free(&r);
	release_rm(dir);
}

static const char groups_one_buurt[] = "group,buurt,wijk,gemeente,members\n"
				       "GA1,BU1,WK1,GM1,1000AA\n"
				       "GA2,BU1,WK1,GM1,1000AB\n"
				       "GA3,BU1,WK1,GM1,1000AC 1000AD\n";

Test(audit, one_suppressed_group_in_a_published_buurt)
{
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,published,50,5,\n"
	       "group,GA3,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n"
	       "buurt,BU1,inhabitants,person,published,155,5,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,suppressed,,5,secondary: GA3 would follow from BU1\n"
	       "group,GA3,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n"
	       "buurt,BU1,inhabitants,person,published,155,5,\n",
	       NULL, NULL, AUDIT_DIFFERENCING, "GA3");
}

Test(audit, one_suppressed_group_and_a_public_buurt_total)
{
	static const char weak[] = "level,region,variable,kind,status,value,base,reason\n"
				   "group,GA1,inhabitants,person,published,100,5,\n"
				   "group,GA2,inhabitants,person,published,50,5,\n"
				   "group,GA3,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n";
	static const char pub[] = "level,code,variable,value,base\nbuurt,BU1,inhabitants,153,1\n";
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt, weak, NULL);

	/* without the public total nothing gives GA3 away */
	cr_assert_eq(run(dir, NULL, 0, &r, &e), 0);
	audit_report_free(&r);
	release_rm(dir);
	attack(groups_one_buurt, weak, pub,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,suppressed,,5,secondary: GA3 would follow from the CBS total\n"
	       "group,GA3,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n",
	       pub, NULL, AUDIT_DIFFERENCING, "GA3");
}

/* GA2 + GB2 follow from the unit BU1+BU2; the public BU1 then gives GA2. */
Test(audit, a_sum_known_through_a_merged_unit_and_one_recovered_through_a_public_buurt)
{
	static const char groups[] = "group,buurt,wijk,gemeente,members\n"
				     "GA1,BU1,WK1,GM1,1000AA\n"
				     "GA2,BU1,WK1,GM1,1000AB\n"
				     "GA3,BU1,WK1,GM1,1000AC\n"
				     "GB1,BU2,WK1,GM1,1000BA\n"
				     "GB2,BU2,WK1,GM1,1000BB\n";
	static const char pub[] = "level,code,variable,value,base\nbuurt,BU1,inhabitants,150,1\n";

	attack(groups,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
	       "group,GA3,inhabitants,person,published,25,5,\n"
	       "group,GB1,inhabitants,person,published,100,5,\n"
	       "group,GB2,inhabitants,person,suppressed,,5,primary: x\n"
	       "buurt,BU1+BU2,inhabitants,person,published,300,5,\n",
	       pub,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
	       "group,GA3,inhabitants,person,suppressed,,5,secondary: x\n"
	       "group,GB1,inhabitants,person,suppressed,,5,secondary: x\n"
	       "group,GB2,inhabitants,person,suppressed,,5,primary: x\n"
	       "buurt,BU1+BU2,inhabitants,person,published,250,5,\n",
	       pub, NULL, AUDIT_DIFFERENCING, "GA2");
}

/* Neither GA2 nor GA3 follows exactly, but together they are at most 5. */
Test(audit, two_suppressed_groups_in_a_narrow_interval)
{
	static const char weak[] = "level,region,variable,kind,status,value,base,reason\n"
				   "group,GA1,inhabitants,person,published,100,5,\n"
				   "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
				   "group,GA3,inhabitants,person,suppressed,,5,primary: x\n"
				   "buurt,BU1,inhabitants,person,published,100,5,\n";
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt, weak, NULL);

	cr_assert_eq(run(dir, NULL, 0, &r, &e), 1);
	cr_assert(!failed(&r, AUDIT_DIFFERENCING, NULL), "the exact check must not catch it");
	cr_assert(failed(&r, AUDIT_INTERVAL, "GA2") && failed(&r, AUDIT_INTERVAL, "GA3"));
	audit_report_free(&r);
	release_rm(dir);
	attack(groups_one_buurt, weak, NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,suppressed,,5,secondary: x\n"
	       "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
	       "group,GA3,inhabitants,person,suppressed,,5,primary: x\n"
	       "buurt,BU1,inhabitants,person,published,100,5,\n",
	       NULL, NULL, AUDIT_INTERVAL, "GA2");
}

Test(audit, a_group_below_its_size_minimum)
{
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,published,0,5,\n"
	       "group,GA2,score:x,score,published,3,,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA2,inhabitants,person,suppressed,,5,primary: fewer than 5 inhabitants\n"
	       "group,GA2,score:x,score,suppressed,,,primary: fewer than 5 inhabitants\n",
	       NULL, NULL, AUDIT_SIZE, "GA2");
}

Test(audit, a_count_not_a_multiple_of_its_base)
{
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,102,5,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n",
	       NULL, NULL, AUDIT_ROUNDING, "GA1");
	/* a base finer than the policy's is caught too */
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,102,1,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,10,\n",
	       NULL, NULL, AUDIT_ROUNDING, "GA1");
}

Test(audit, income_where_households_are_fewer_than_100)
{
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,benefit_recipients,income,published,100,100,\n"
	       "group,GA1,households,person,published,95,5,\n"
	       "group,GA1,inhabitants,person,published,200,5,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,benefit_recipients,income,suppressed,,100,primary: fewer than 100 households\n"
	       "group,GA1,households,person,published,95,5,\n"
	       "group,GA1,inhabitants,person,published,200,5,\n",
	       NULL, NULL, AUDIT_KIND, "GA1");
}

Test(audit, a_group_score_that_is_not_a_band)
{
	attack(groups_one_buurt,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA1,score:kinderarmoede-kern,score,published,3.7,,\n",
	       NULL,
	       "level,region,variable,kind,status,value,base,reason\n"
	       "group,GA1,inhabitants,person,published,100,5,\n"
	       "group,GA1,score:kinderarmoede-kern,score,published,4,,\n",
	       NULL, NULL, AUDIT_ROUNDING, "GA1");
}

Test(audit, exact_group_scores_only_where_the_policy_allows_them)
{
	static const char figs[] = "level,region,variable,kind,status,value,base,reason\n"
				   "group,GA1,inhabitants,person,published,100,5,\n"
				   "group,GA1,score:x,score,published,3.7,,\n";
	const char *restricted = "{\"policy\": \"restricted\", \"exact_scores\": true, \"size\": [],"
				 " \"kinds\": {\"person\": {\"base\": 5, \"k\": 5}}, \"range\": 0.5, \"bands\": 10}";
	const char *public_exact = "{\"policy\": \"public\", \"exact_scores\": true, \"size\": [],"
				   " \"kinds\": {\"person\": {\"base\": 5, \"k\": 5}}, \"range\": 0.5, \"bands\": 10}";
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt, figs, restricted);

	cr_assert_eq(run(dir, NULL, 1, &r, &e), 0);
	audit_report_free(&r);
	release_rm(dir);
	dir = release(groups_one_buurt, figs, public_exact);
	cr_assert_eq(run(dir, NULL, 1, &r, &e), 1);
	cr_assert(failed(&r, AUDIT_POLICY, NULL));
	audit_report_free(&r);
	release_rm(dir);
}

Test(audit, public_policy_needs_a_dominance_share_of_at_most_030)
{
	const char *p = "{\"policy\": \"public\", \"size\": [], \"kinds\": {\"person\": {\"base\": 5, \"k\": 5},"
			" \"income\": {\"base\": 100, \"k\": 100, \"dominance\": 0.5}}, \"range\": 0.5, \"bands\": 10}";
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt, "level,region,variable,kind,status,value,base,reason\n"
					      "group,GA1,inhabitants,person,published,100,5,\n", p);

	cr_assert_eq(run(dir, NULL, 1, &r, &e), 1);
	cr_assert(failed(&r, AUDIT_POLICY, NULL));
	audit_report_free(&r);
	release_rm(dir);
}

Test(audit, the_certificate_names_the_smallest_group_and_narrowest_interval)
{
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt,
			    "level,region,variable,kind,status,value,base,reason\n"
			    "group,GA1,inhabitants,person,published,100,5,\n"
			    "group,GA2,inhabitants,person,suppressed,,5,secondary: x\n"
			    "group,GA3,inhabitants,person,suppressed,,5,primary: x\n"
			    "buurt,BU1,inhabitants,person,published,155,5,\n",
			    NULL);

	cr_assert_eq(run(dir, NULL, 2, &r, &e), 0);
	cr_assert_eq(r.regions[0], 3);
	cr_assert_eq(r.regions[1], 1);
	cr_assert_eq(r.suppressed_counts, 2);
	cr_assert_eq(r.primary, 1);
	cr_assert_eq(r.secondary, 1);
	cr_assert_eq(r.nsmallest, 1);
	cr_assert_str_eq(r.smallest[0].group, "GA1");
	cr_assert(r.has_narrowest);
	/* GA2 + GA3 = 155 - GA1 lies in [50, 60]; each one in [0, 60] */
	cr_assert_float_eq(r.narrowest.lo, 0, 1e-9);
	cr_assert_float_eq(r.narrowest.hi, 60, 1e-6);
	cr_assert_float_eq(r.narrowest.required, 30, 1e-6);
	cr_assert(r.has_dominance);
	audit_report_free(&r);
	release_rm(dir);
}

/* ---- malformed files --------------------------------------------------- */

static void malformed(const char *groups, const char *figures, const char *policy, const char *public,
		      const char *where_suffix, const char *message_part)
{
	struct audit_report r;
	struct err e;
	char *dir = release(groups, figures, policy);
	int rc = run(dir, public, 1, &r, &e);
	size_t n = strlen(e.where), m = strlen(where_suffix);

	cr_assert_eq(rc, -1, "expected an error, got %d", rc);
	cr_assert_eq(e.cls, ERR_INPUT);
	cr_assert(n >= m && strcmp(e.where + n - m, where_suffix) == 0, "where is %s, expected ...%s", e.where,
		  where_suffix);
	cr_assert(strstr(e.message, message_part), "message \"%s\" lacks \"%s\"", e.message, message_part);
	audit_report_free(&r);
	release_rm(dir);
}

Test(audit, malformed_files_are_named_by_line_and_column)
{
	static const char one[] = "group,GA1,inhabitants,person,published,100,5,\n";
	char *f;

	f = xasprintf("%s%s%s", fig_header, one, "town,GA1,inhabitants,person,published,100,5,\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:3:1", "unknown level");
	free(f);
	malformed("group,buurt,wijk,gemeente,members\nGA1,BU1,WK1,GM1,1000AA\nGA1,BU1,WK1,GM1,1000AB\n", fig_header,
		  NULL, NULL, "groups.csv:3:1", "two rows");
	malformed("group,buurt,wijk,gemeente,members\nGA1,BU1,WK1,GM1,1000AA\nGA2,BU1,WK2,GM1,1000AB\n", fig_header,
		  NULL, NULL, "groups.csv:3:5", "lies in wijk WK2 here but in wijk WK1 before");
	f = xasprintf("%s%s", fig_header, "buurt,BU1+BU9,inhabitants,person,published,100,5,\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:2:7", "buurt BU9 has no groups");
	free(f);
	f = xasprintf("%s%s", fig_header, "group,GA1,inhabitants,people,published,100,5,\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:2:23", "unknown kind");
	free(f);
	f = xasprintf("%s%s", fig_header, "group,GA1,inhabitants,person,published,1OO,5,\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:2:40", "expected a number");
	free(f);
	f = xasprintf("%s%s", fig_header, "group,GA1,inhabitants,person,published,100,0,\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:2:44", "base > 0");
	free(f);
	f = xasprintf("%s%s%s", fig_header, one, one);
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:3:7", "two rows");
	free(f);
	f = xasprintf("%s%s", fig_header, "group,GA1,inhabitants,person,published,100\n");
	malformed(groups_one_buurt, f, NULL, NULL, "figures.csv:2:1", "expected 8 comma-separated fields");
	free(f);
	malformed(groups_one_buurt, "level,region,variable\n", NULL, NULL, "figures.csv:1:14", "expected column \"kind\" next");
	malformed(groups_one_buurt, fig_header, "{\"policy\": \"public\",\n  \"size\": [}", NULL, "policy.json:2:12",
		  "not valid JSON");
	malformed(groups_one_buurt, fig_header,
		  "{\"policy\": \"public\", \"size\": [], \"kinds\": {\"person\": {\"base\": 0, \"k\": 5}},"
		  " \"range\": 0.5, \"bands\": 10}",
		  NULL, "policy.json", "kinds.person.base");
	malformed(groups_one_buurt, fig_header, NULL, "level,code,variable,value,base\nstad,X,inhabitants,1,1\n",
		  "public.csv:2:1", "unknown level");
}

/* ---- the exact check against dense rank -------------------------------- */

#define MAXG 24
#define P61 ((1ULL << 61) - 1)

static uint64_t rng(uint64_t *s)
{
	*s += 0x9E3779B97F4A7C15ULL;
	uint64_t z = *s;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t mulmod(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) % P61);
}

static uint64_t powmod(uint64_t a, uint64_t e)
{
	uint64_t r = 1;

	for (; e; e >>= 1, a = mulmod(a, a))
		if (e & 1)
			r = mulmod(r, a);
	return r;
}

/* Rank of 0/1 rows over GF(2^61 - 1). Every minor of a 0/1 matrix with at most
 * 24 columns is below 25^12.5 / 2^24 < 2^61 in magnitude (Hadamard), so a minor
 * vanishes mod p only when it is 0: this is the rank over the rationals. */
static int rank(uint64_t m[][MAXG], int rows, int cols)
{
	int r = 0;

	for (int c = 0; c < cols && r < rows; c++) {
		int p = -1;

		for (int i = r; i < rows; i++)
			if (m[i][c]) {
				p = i;
				break;
			}
		if (p < 0)
			continue;
		for (int k = 0; k < cols; k++) {
			uint64_t t = m[p][k];

			m[p][k] = m[r][k];
			m[r][k] = t;
		}
		uint64_t inv = powmod(m[r][c], P61 - 2);
		for (int i = r + 1; i < rows; i++) {
			uint64_t f = mulmod(m[i][c], inv);

			if (!f)
				continue;
			for (int k = c; k < cols; k++)
				m[i][k] = (m[i][k] + P61 - mulmod(f, m[r][k])) % P61;
		}
		r++;
	}
	return r;
}

/* A random small tree with random statuses; each region's groups as a bitmask. */
struct inst {
	int ng, nb, nw, nm;
	int gb[MAXG], bw[MAXG], wm[MAXG], bu[MAXG];
	uint32_t unit_mask[MAXG];
	int nunits;
};

static uint32_t mask_buurten(const struct inst *t, uint32_t bset)
{
	uint32_t m = 0;

	for (int g = 0; g < t->ng; g++)
		if (bset >> t->gb[g] & 1)
			m |= 1u << g;
	return m;
}

Test(audit, exact_check_agrees_with_dense_rank_on_random_trees)
{
	uint64_t seed = 20261123;
	int determined_seen = 0, free_seen = 0;

	for (int iter = 0; iter < 300; iter++) {
		struct inst t = {0};
		struct sbuf groups = {0}, figs = {0}, pub = {0};
		uint64_t known[4 * MAXG][MAXG];
		uint32_t rows[4 * MAXG], target_mask[4 * MAXG];
		char target_name[4 * MAXG][64];
		int target_level[4 * MAXG];
		int nk = 0, nt = 0, pub_start;
		struct audit_report r;
		struct err e;
		char *dir;

		/* the tree: gemeenten > wijken > buurten > groups, at most MAXG groups */
		t.nm = 1 + (int)(rng(&seed) % 2);
		for (int m = 0; m < t.nm; m++) {
			int nw = 1 + (int)(rng(&seed) % 2);

			for (int w = 0; w < nw; w++) {
				int wi = t.nw++, nbw = 1 + (int)(rng(&seed) % 3);

				t.wm[wi] = m;
				for (int b = 0; b < nbw && t.ng < MAXG; b++) {
					int bi = t.nb++, ngb = 1 + (int)(rng(&seed) % 3);

					t.bw[bi] = wi;
					t.bu[bi] = -1;
					for (int g = 0; g < ngb && t.ng < MAXG; g++)
						t.gb[t.ng++] = bi;
				}
			}
		}
		/* buurt units: runs of adjacent buurten of one wijk */
		for (int b = 0; b < t.nb;) {
			int len = 1;

			while (b + len < t.nb && t.bw[b + len] == t.bw[b] && rng(&seed) % 3 == 0)
				len++;
			t.unit_mask[t.nunits] = 0;
			for (int k = 0; k < len; k++) {
				t.bu[b + k] = t.nunits;
				t.unit_mask[t.nunits] |= 1u << (b + k);
			}
			t.nunits++;
			b += len;
		}
		sbuf_puts(&groups, "group,buurt,wijk,gemeente,members\n");
		for (int g = 0; g < t.ng; g++)
			sbuf_printf(&groups, "G%02d,BU%02d,WK%02d,GM%02d,P%02d\n", g, t.gb[g], t.bw[t.gb[g]],
				    t.wm[t.bw[t.gb[g]]], g);
		sbuf_puts(&figs, fig_header);
		sbuf_puts(&pub, "level,code,variable,value,base\n");
		/* every region: published (known), suppressed (a target) or absent */
		for (int lv = 0; lv < 4; lv++) {
			int n = lv == 0 ? t.ng : lv == 1 ? t.nunits : lv == 2 ? t.nw : t.nm;

			for (int i = 0; i < n; i++) {
				uint32_t set = 0, bset = 0;
				char name[64];
				int roll = (int)(rng(&seed) % 10);

				if (lv == 0) {
					set = 1u << i;
					snprintf(name, sizeof name, "G%02d", i);
				} else if (lv == 1) {
					set = mask_buurten(&t, t.unit_mask[i]);
					name[0] = '\0';
					for (int b = 0; b < t.nb; b++)
						if (t.unit_mask[i] >> b & 1)
							snprintf(name + strlen(name), sizeof name - strlen(name), "%sBU%02d",
								 name[0] ? "+" : "", b);
				} else {
					for (int b = 0; b < t.nb; b++)
						if (lv == 2 ? t.bw[b] == i : t.wm[t.bw[b]] == i)
							bset |= 1u << b;
					set = mask_buurten(&t, bset);
					snprintf(name, sizeof name, "%s%02d", lv == 2 ? "WK" : "GM", i);
				}
				if (roll < 5) {
					sbuf_printf(&figs, "%s,%s,inhabitants,person,published,10,1,\n",
						    (const char *[]){"group", "buurt", "wijk", "gemeente"}[lv], name);
					rows[nk++] = set;
				} else if (roll < 9) {
					sbuf_printf(&figs, "%s,%s,inhabitants,person,suppressed,,1,primary: x\n",
						    (const char *[]){"group", "buurt", "wijk", "gemeente"}[lv], name);
					target_mask[nt] = set;
					target_level[nt] = lv;
					snprintf(target_name[nt++], sizeof target_name[0], "%s", name);
				}
			}
		}
		/* public totals of single buurten, wijken and gemeenten */
		pub_start = nk;
		for (int b = 0; b < t.nb; b++)
			if (rng(&seed) % 4 == 0) {
				sbuf_printf(&pub, "buurt,BU%02d,inhabitants,10,1\n", b);
				rows[nk++] = mask_buurten(&t, 1u << b);
			}
		for (int w = 0; w < t.nw; w++)
			if (rng(&seed) % 4 == 0) {
				uint32_t bset = 0;

				for (int b = 0; b < t.nb; b++)
					bset |= (uint32_t)(t.bw[b] == w) << b;
				sbuf_printf(&pub, "wijk,WK%02d,inhabitants,10,1\n", w);
				rows[nk++] = mask_buurten(&t, bset);
			}
		dir = release(groups.s,
			      figs.s, "{\"policy\": \"public\", \"size\": [], \"kinds\": {\"person\": {\"base\": 1, \"k\": 0}},"
				      " \"range\": 0, \"bands\": 10}");
		cr_assert_geq(run(dir, pub.s, 1 + iter % 2, &r, &e), 0, "iteration %d: %s %s", iter, e.where, e.message);
		for (int i = 0; i < nt; i++) {
			int rk, rkt;

			for (int k = 0; k < nk; k++)
				for (int g = 0; g < MAXG; g++)
					known[k][g] = rows[k] >> g & 1;
			rk = rank(known, nk, t.ng);
			for (int k = 0; k < nk; k++)
				for (int g = 0; g < MAXG; g++)
					known[k][g] = rows[k] >> g & 1;
			for (int g = 0; g < MAXG; g++)
				known[nk][g] = target_mask[i] >> g & 1;
			rkt = rank(known, nk + 1, t.ng);
			/* a target the public totals alone determine is CBS's, not ours:
			 * a sum of buurten, or a group alone in its buurt */
			if (rkt == rk) {
				bool eligible = target_level[i] != 0, pub_alone;
				int prk, prkt;

				if (!eligible) {
					int g = __builtin_ctz(target_mask[i]), others = 0;

					for (int h = 0; h < t.ng; h++)
						others += h != g && t.gb[h] == t.gb[g];
					eligible = others == 0;
				}
				for (int k = pub_start; k < nk; k++)
					for (int g = 0; g < MAXG; g++)
						known[k - pub_start][g] = rows[k] >> g & 1;
				prk = rank(known, nk - pub_start, t.ng);
				for (int k = pub_start; k < nk; k++)
					for (int g = 0; g < MAXG; g++)
						known[k - pub_start][g] = rows[k] >> g & 1;
				for (int g = 0; g < MAXG; g++)
					known[nk - pub_start][g] = target_mask[i] >> g & 1;
				prkt = rank(known, nk - pub_start + 1, t.ng);
				pub_alone = eligible && prkt == prk;
				if (pub_alone)
					rkt = rk + 1; /* not a failure */
			}
			cr_assert_eq(failed(&r, AUDIT_DIFFERENCING, target_name[i]), rkt == rk,
				     "iteration %d: %s is %sdetermined by rank, audit says otherwise", iter,
				     target_name[i], rkt == rk ? "" : "not ");
			determined_seen += rkt == rk;
			free_seen += rkt != rk;
		}
		audit_report_free(&r);
		release_rm(dir);
		sbuf_free(&groups);
		sbuf_free(&figs);
		sbuf_free(&pub);
	}
	/* the instances must exercise both answers */
	cr_assert_gt(determined_seen, 50);
	cr_assert_gt(free_seen, 50);
}

/* The same failures and certificate with one thread or two. */
Test(audit, threads_do_not_change_the_report)
{
	struct sbuf groups = {0}, figs = {0};
	struct audit_report r1, r2;
	struct err e;
	uint64_t seed = 7;
	char *dir;

	sbuf_puts(&groups, "group,buurt,wijk,gemeente,members\n");
	sbuf_puts(&figs, fig_header);
	for (int m = 0; m < 6; m++) {
		long total = 0;

		for (int b = 0; b < 8; b++) {
			long bt = 0;

			for (int g = 0; g < 4; g++) {
				long v = (long)(rng(&seed) % 60);
				int sup = rng(&seed) % 3 == 0;

				sbuf_printf(&groups, "G%d%d%d,BU%d%d,WK%d,GM%d,P%d%d%d\n", m, b, g, m, b, m, m, m, b, g);
				if (sup)
					sbuf_printf(&figs, "group,G%d%d%d,inhabitants,person,suppressed,,5,primary: x\n", m, b, g);
				else
					sbuf_printf(&figs, "group,G%d%d%d,inhabitants,person,published,%ld,5,\n", m, b, g,
						    (v + 2) / 5 * 5 < 5 ? 5 : (v + 2) / 5 * 5);
				bt += v;
			}
			sbuf_printf(&figs, "buurt,BU%d%d,inhabitants,person,published,%ld,5,\n", m, b, (bt + 2) / 5 * 5);
			total += bt;
		}
		sbuf_printf(&figs, "gemeente,GM%d,inhabitants,person,published,%ld,5,\n", m, (total + 2) / 5 * 5);
	}
	dir = release(groups.s, figs.s, NULL);
	cr_assert_geq(run(dir, NULL, 1, &r1, &e), 0);
	cr_assert_geq(run(dir, NULL, 2, &r2, &e), 0);
	cr_assert_gt(r1.nfailures, 0);
	cr_assert_eq(r1.nfailures, r2.nfailures);
	for (size_t i = 0; i < r1.nfailures; i++)
		cr_assert_str_eq(r1.failures[i].message, r2.failures[i].message);
	cr_assert_eq(r1.lp_solves, r2.lp_solves);
	audit_report_free(&r1);
	audit_report_free(&r2);
	release_rm(dir);
	sbuf_free(&groups);
	sbuf_free(&figs);
}

/* A count hidden only to shield another (secondary) needs no protection range
 * of its own, and its size variable may be hidden too; the primary one does. */
Test(audit, secondary_counts_shield_and_need_no_range_of_their_own)
{
	static const char figs[] = "level,region,variable,kind,status,value,base,reason\n"
				   "group,GA1,inhabitants,person,suppressed,,5,secondary: x\n"
				   "group,GA1,households,person,published,40,5,\n"
				   "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
				   "group,GA3,inhabitants,person,published,20,5,\n"
				   "buurt,BU1,inhabitants,person,published,1000,5,\n";
	struct audit_report r;
	struct err e;
	char *dir = release(groups_one_buurt, figs, NULL);

	/* GA1 + GA2 = 980 (within rounding): GA1 in [0, ~985] is wide, and so is GA2 */
	cr_assert_eq(run(dir, NULL, 0, &r, &e), 0);
	audit_report_free(&r);
	release_rm(dir);

	/* the same hidden amount as primary on both and a small sum fails */
	dir = release(groups_one_buurt,
		      "level,region,variable,kind,status,value,base,reason\n"
		      "group,GA1,inhabitants,person,suppressed,,5,primary: x\n"
		      "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
		      "group,GA3,inhabitants,person,published,1000,5,\n"
		      "buurt,BU1,inhabitants,person,published,1000,5,\n",
		      NULL);
	cr_assert_eq(run(dir, NULL, 0, &r, &e), 1);
	cr_assert(failed(&r, AUDIT_INTERVAL, "GA1"));
	audit_report_free(&r);
	release_rm(dir);

	/* a secondary one pinned down is no failure; its primary partner is */
	dir = release(groups_one_buurt,
		      "level,region,variable,kind,status,value,base,reason\n"
		      "group,GA1,inhabitants,person,suppressed,,5,secondary: x\n"
		      "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
		      "group,GA3,inhabitants,person,published,1000,5,\n"
		      "buurt,BU1,inhabitants,person,published,1000,5,\n",
		      NULL);
	cr_assert_eq(run(dir, NULL, 0, &r, &e), 1);
	cr_assert(!failed(&r, AUDIT_INTERVAL, "GA1"));
	cr_assert(failed(&r, AUDIT_INTERVAL, "GA2"));
	audit_report_free(&r);
	release_rm(dir);
}

/* What CBS publishes itself is no disclosure of ours: a hidden buurt count
 * that is a public total, or the only group of a buurt with a public total.
 * A group beside published ones in that buurt still is. */
Test(audit, what_the_public_totals_alone_determine_is_not_ours)
{
	static const char groups[] = "group,buurt,wijk,gemeente,members\n"
				     "GA1,BU1,WK1,GM1,1000AA\n"
				     "GB1,BU2,WK1,GM1,1000BA\n"
				     "GB2,BU2,WK1,GM1,1000BB\n";
	static const char figs[] = "level,region,variable,kind,status,value,base,reason\n"
				   "group,GA1,inhabitants,person,suppressed,,5,primary: x\n"
				   "group,GB1,inhabitants,person,published,100,5,\n"
				   "group,GB2,inhabitants,person,published,100,5,\n"
				   "buurt,BU1,inhabitants,person,suppressed,,5,primary: x\n"
				   "buurt,BU2,inhabitants,person,published,200,5,\n";
	struct audit_report r;
	struct err e;
	char *dir = release(groups, figs, NULL);

	cr_assert_eq(run(dir, "level,code,variable,value,base\nbuurt,BU1,inhabitants,3,1\n", 0, &r, &e), 0);
	audit_report_free(&r);
	release_rm(dir);

	dir = release(groups,
		      "level,region,variable,kind,status,value,base,reason\n"
		      "group,GA1,inhabitants,person,published,100,5,\n"
		      "group,GB1,inhabitants,person,suppressed,,5,primary: x\n"
		      "group,GB2,inhabitants,person,published,100,5,\n",
		      NULL);
	cr_assert_eq(run(dir, "level,code,variable,value,base\nbuurt,BU2,inhabitants,103,1\n", 0, &r, &e), 1);
	cr_assert(failed(&r, AUDIT_DIFFERENCING, "GB1"));
	audit_report_free(&r);
	release_rm(dir);
}

/* A public buurt total of 0 (rounded to 10) pins its hidden groups to [0, 5]:
 * that is CBS's doing, and passes; a release that narrows it further fails. */
Test(audit, an_interval_the_public_totals_already_narrow_is_not_ours)
{
	static const char groups[] = "group,buurt,wijk,gemeente,members\n"
				     "GA1,BU1,WK1,GM1,1000AA\n"
				     "GA2,BU1,WK1,GM1,1000AB\n";
	static const char pub[] = "level,code,variable,value,base\nbuurt,BU1,inhabitants,0,10\n";
	struct audit_report r;
	struct err e;
	char *dir = release(groups,
			    "level,region,variable,kind,status,value,base,reason\n"
			    "group,GA1,inhabitants,person,suppressed,,5,primary: x\n"
			    "group,GA2,inhabitants,person,suppressed,,5,primary: x\n",
			    NULL);

	cr_assert_eq(run(dir, pub, 0, &r, &e), 0);
	audit_report_free(&r);
	release_rm(dir);
	dir = release(groups,
		      "level,region,variable,kind,status,value,base,reason\n"
		      "group,GA1,inhabitants,person,suppressed,,5,primary: x\n"
		      "group,GA2,inhabitants,person,suppressed,,5,primary: x\n"
		      "buurt,BU1,inhabitants,person,published,0,1,\n",
		      "{\"policy\": \"internal\", \"size\": [], \"kinds\": {\"person\": {\"base\": 1, \"k\": 5}},"
		      " \"range\": 0.5, \"bands\": 10}");
	cr_assert_eq(run(dir, pub, 0, &r, &e), 1, "the release's exact 0 narrows CBS's [0, 5]");
	cr_assert(failed(&r, AUDIT_INTERVAL, "GA1"));
	audit_report_free(&r);
	release_rm(dir);
}
