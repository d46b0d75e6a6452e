/*
 * pc6gen — the synthetic PC6 model: PC6 sizes drawn from a real PC6 size
 * distribution, the figures of all PC6 of one buurt drawn so that they add up
 * to the buurt's totals, and PC6 rows written as CBS writes them.
 *
 * Pure code: no files, no database. A struct pc6gen_sizes is filled by the
 * caller (pc6gen_sizes_add) and freed with pc6gen_sizes_free. pc6gen_buurt
 * reads the inputs of an array of struct pc6gen_pc6 the caller owns and fills
 * in their outputs. All randomness comes from the struct gen_rng passed in.
 */
#ifndef PC6RISK_PC6GEN_H
#define PC6RISK_PC6GEN_H

#include <stddef.h>

#include "pc6risk/gen.h"

struct sbuf;

/* Published PC6 sizes: (households, inhabitants) pairs as CBS publishes them,
 * rounded to 5, with -1 for a secret value. */
struct pc6gen_sizes {
	size_t n, cap;
	long *households;
	long *inhabitants;
};

void pc6gen_sizes_add(struct pc6gen_sizes *s, long households, long inhabitants);
void pc6gen_sizes_free(struct pc6gen_sizes *s);

/* Draw one PC6's true size: a published pair picked at random and
 * "de-rounded". A published value v becomes a whole number in
 * [max(5, v - 2), v + 2]; a secret number of inhabitants one in [0, 4] (with
 * 1 to that many households, none when there is nobody); a secret number of
 * households beside known inhabitants one in [0, 4]. Never fewer inhabitants
 * than households. s must hold at least one pair. */
void pc6gen_draw_size(const struct pc6gen_sizes *s, struct gen_rng *r, long *households, long *inhabitants);

/* The age bands of INW_014 .. INW_65PL. */
enum { PC6GEN_AGES = 5 };

/* What is known of a buurt. The totals are met exactly by the PC6 figures
 * before rounding; -1 marks a total that is not known (the PC6 figures are
 * then drawn from the model alone). */
struct pc6gen_buurt {
	long households;
	long inhabitants;
	long benefits;       /* bijstand (WWB) benefits, or -1 */
	long other_benefits; /* AO + WW benefits, or -1 */
	double age[PC6GEN_AGES]; /* % (or any weights) 0-14, 15-24, 25-44, 45-64, 65+; all 0: Dutch averages */
	double hhtype[3];        /* % one-person, without children, with children; all 0: Dutch averages */
	double deprivation;      /* logit of the bijstand benefits per household */
	double old_stock;        /* share of dwellings built before 1945; 0: derived */
	double postwar;          /* share built 1945-1964; 0: derived */
	double woz;              /* mean WOZ value in EUR 1,000; 0: derived from deprivation */
};

/* One PC6: the caller sets the inputs, pc6gen_buurt draws the rest. Counts
 * are true values, before CBS rounding and secrecy. */
struct pc6gen_pc6 {
	/* inputs */
	double w_households, w_inhabitants; /* size weights: a drawn size */
	double z;                           /* the spatial field here, standard normal */

	long households, inhabitants;
	long age[PC6GEN_AGES];
	long age_0_17;
	long one_person, no_children, one_parent, two_parent;
	long dwellings, before1945, from1945to1964, corporation, unoccupied, rented;
	long benefits;     /* bijstand (WWB_UITTOT) */
	long benefits_all; /* bijstand, AO and WW below AOW age (UITKMINAOW) */
	double woz;        /* mean WOZ value, EUR 1,000 */
	double gas;        /* mean gas use per dwelling, m3 */
	double low_income, high_income; /* % of households in the national bottom 40 % / top 20 % */
	int income_class;  /* M_INKHH: 1 (low) .. 5 (high) */
};

/* Draw the figures of the n PC6 of one buurt. Households and inhabitants are
 * shared out in proportion to the size weights; bijstand in proportion to
 * households times a rate that rises with deprivation + 0.45 z + 0.3 e (e
 * independent standard normal noise per PC6); the other
 * figures follow the buurt's shares, tilted by household size and z so that
 * neighbours resemble each other. Every known total is met exactly. Returns
 * -1 when n is 0 but the buurt has households or inhabitants. */
int pc6gen_buurt(struct gen_rng *r, const struct pc6gen_buurt *b, size_t n, struct pc6gen_pc6 *p);

/* Buurt figures that exist only at buurt level (education, health), drawn
 * around the Dutch averages and rising with deprivation. */
struct pc6gen_extras {
	double low_education; /* % of inhabitants 15-74 with at most lower secondary education */
	double poor_health;   /* % of adults rating their health (very) poor */
	double below110;      /* % of households below 110 % of the social minimum */
	double below120;      /* % of households below 120 % of the social minimum */
	double crime;         /* registered crimes per 1,000 inhabitants */
	double child_outcome; /* % of children from low-income households with a low income as adults */
};

void pc6gen_extras(struct gen_rng *r, double deprivation, struct pc6gen_extras *x);

/* The outcome layer (as the Kansenkaart's outcomes of children of low-income
 * parents) into x->child_outcome: around a Dutch 45 %, rising with the buurt's
 * deprivation but saturating (tanh), plus a local and a regional spatial field
 * (standard normal, the caller's, shared with neighbouring buurten) and noise
 * of its own, so it ranks buurten differently from present poverty. */
void pc6gen_outcome(struct gen_rng *r, double deprivation, double local, double regional, struct pc6gen_extras *x);

/* Below this many inhabitants a buurt's child_outcome is secret: the cohort of
 * children of low-income parents behind it would be a handful. */
#define PC6GEN_OUTCOME_MIN_INHABITANTS 100

/* A PC6 figure, as CBS publishes it: what is secret (fewer than 5 inhabitants
 * for person figures, also fewer than 5 households for household figures,
 * fewer than 5 dwellings for dwelling figures) is -99997, counts are rounded
 * to 5, percentages to whole numbers. */
void pc6gen_csv_header(struct sbuf *b);
void pc6gen_csv_row(struct sbuf *b, const char *code, const struct pc6gen_pc6 *p);

/* The CBS column of each figure in the PC6 CSV, with its canonical indicator
 * name and kind ("count", "share", "amount"), for writing configs. NULL-ended. */
struct pc6gen_column {
	const char *column;
	const char *indicator;
	const char *kind;
};
extern const struct pc6gen_column pc6gen_columns[];

/* The value every synthetic file carries in its BRON column. */
#define PC6GEN_BRON "synthetisch"

/* logit of the Dutch bijstand benefits per household, the model's reference. */
#define PC6GEN_NL_DEPRIVATION (-3.05)

#endif
