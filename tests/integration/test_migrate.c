/* Migrations: applied in order, recorded, idempotent, guarded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/xalloc.h"
#include "support.h"

/* Everything init creates in the schema, as one text: tables, columns,
 * constraints, indexes, and the migration ledger with its times. */
static char *snapshot(struct db *db, const char *schema)
{
	char *sql = xasprintf(
		"SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
		" SELECT format('col %%s.%%s %%s %%s', table_name, column_name, data_type, is_nullable) AS x"
		"  FROM information_schema.columns WHERE table_schema = '%s'"
		" UNION ALL SELECT format('idx %%s', indexdef) FROM pg_indexes WHERE schemaname = '%s'"
		" UNION ALL SELECT format('con %%s %%s', conname, pg_get_constraintdef(c.oid))"
		"  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = '%s'"
		" UNION ALL SELECT format('mig %%s %%s %%s %%s', version, name, checksum, applied_at)"
		"  FROM %s.schema_migration) s",
		schema, schema, schema, schema);
	char *v = t_query1(db, sql);

	free(sql);
	return v;
}

Test(migrate, applying_twice_changes_nothing)
{
	char *schema = t_schema("t_mig");
	struct t_run r = t_pc6risk((const char *[]){"init", "--schema", schema, NULL});
	struct db *db;
	char *before, *after;

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "applied migration 001_schema.sql"), "%s", r.err);
	{
		char want[32];

		snprintf(want, sizeof want, " applied=%d", (int)db_nmigrations);
		cr_assert(strstr(r.err, want), "%s", r.err);
	}
	t_run_free(&r);
	db = t_db(schema);
	before = snapshot(db, schema);
	cr_assert(strstr(before, "col buurt.geom USER-DEFINED NO"), "the tree is there: %s", before);
	cr_assert(strstr(before, "mig 1 001_schema.sql"), "the migration is recorded");

	r = t_pc6risk((const char *[]){"init", "--schema", schema, NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, " applied=0"), "%s", r.err);
	cr_assert_null(strstr(r.err, "applied migration"), "%s", r.err);
	t_run_free(&r);
	after = snapshot(db, schema);
	cr_assert_str_eq(before, after);

	free(before);
	free(after);
	db_close(db);
	t_drop_schema(schema);
	free(schema);
}

Test(migrate, a_changed_migration_is_refused)
{
	char *schema = t_schema("t_mig");
	char *sql = xasprintf("UPDATE %s.schema_migration SET checksum = 'edited' WHERE version = 1", schema);
	struct t_run r = t_pc6risk((const char *[]){"init", "--schema", schema, NULL});
	struct db *db;
	struct err e;

	cr_assert_eq(r.status, 0, "%s", r.err);
	t_run_free(&r);
	db = t_db(schema);
	cr_assert_eq(db_exec(db, sql, &e), 0, "%s", e.message);
	r = t_pc6risk((const char *[]){"init", "--schema", schema, NULL});
	cr_assert_eq(r.status, 5, "%s", r.err);
	cr_assert(strstr(r.err, "001_schema.sql: migration 1 was changed after it was applied"), "%s", r.err);
	t_run_free(&r);
	db_close(db);
	t_drop_schema(schema);
	free(sql);
	free(schema);
}

Test(migrate, stage_commands_want_an_initialised_schema)
{
	char *schema = t_schema("t_mig");
	char *config = t_repo_path("demo/pc6risk.json");
	struct t_run r = t_pc6risk((const char *[]){"load", "-c", config, "--schema", schema, NULL});
	struct db *db;
	char *exists, *sql = xasprintf("SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", schema);

	cr_assert_eq(r.status, 5, "%s", r.err);
	{
		char want[64];

		snprintf(want, sizeof want, "is at version 0, this pc6risk needs version %d", db_latest_version());
		cr_assert(strstr(r.err, want), "%s", r.err);
	}
	cr_assert(strstr(r.err, "hint: run `pc6risk init`"), "%s", r.err);
	t_run_free(&r);
	db = t_db("public");
	exists = t_query1(db, sql);
	cr_assert_str_eq(exists, "0", "a refused command creates nothing");
	free(exists);
	free(sql);
	db_close(db);
	free(config);
	free(schema);
}
