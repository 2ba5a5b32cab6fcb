// Command temporal-sqlite prepares the embedded Temporal dev server's SQLite file before the server
// starts. A new file gets the schema the dev server would create itself (the same Go package, at the
// server version the pinned Temporal CLI embeds); then every file loses the visibility indexes on
// columns that neither the service nor the Temporal UI's usual lists search by, and the keyword
// columns' indexes hold only the rows with a value there.
//
// Why: every run writes a visibility row when it starts (if still running when the row is written)
// and again when it closes, and each row updates every index of executions_visibility: 45 B-trees,
// each also keyed on an expression of close_time. In a burst, visibility was half of the dev server's
// CPU. Searches on a dropped column still work, by reading the table.
//
// Usage: temporal-sqlite <database file>
//
//	temporal-sqlite --list <database file>   (prints the visibility table's indexes, one a line,
//	                                          with the WHERE of a partial one)
package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	_ "modernc.org/sqlite"
)

// Kept: the default list, execution time, workflow id, type, status and task queue, and the ten
// keyword columns (the service's keyword search attributes land on any of them).
var unusedIndexes = []string{
	"by_history_length", "by_history_size_bytes", "by_execution_duration", "by_state_transition_count",
	"by_parent_workflow_id", "by_parent_run_id", "by_root_workflow_id", "by_root_run_id",
	"by_batcher_user", "by_temporal_scheduled_start_time", "by_temporal_scheduled_by_id",
	"by_temporal_schedule_paused", "by_temporal_namespace_division", "by_temporal_pause_info",
	"by_temporal_worker_deployment_version", "by_temporal_workflow_versioning_behavior",
	"by_temporal_worker_deployment",
	"by_bool_01", "by_bool_02", "by_bool_03", "by_datetime_01", "by_datetime_02", "by_datetime_03",
	"by_double_01", "by_double_02", "by_double_03", "by_int_01", "by_int_02", "by_int_03",
}

func run(file string) error {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return create(file)
	} else if err != nil {
		return err
	}
	return dropUnusedIndexes(file)
}

// create makes the schema beside file and moves it into place only when whole: the dev server
// makes no schema for a file that exists, so a half-made one must never be there.
func create(file string) error {
	tmp := file + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	conf := config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: tmp,
		// A rollback journal, not a write-ahead log: every transaction is in the file itself when
		// it is moved (the dev server turns the log on when it opens the file).
		ConnectAttributes: map[string]string{"mode": "rwc"},
	}
	if err := sqliteschema.SetupSchema(&conf); err != nil {
		return fmt.Errorf("creating the schema: %w", err)
	}
	if err := dropUnusedIndexes(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func dropUnusedIndexes(file string) error {
	db, err := open(file)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, index := range unusedIndexes {
		if _, err := db.Exec("DROP INDEX IF EXISTS " + index); err != nil {
			return fmt.Errorf("dropping index %s: %w", index, err)
		}
	}
	return keywordIndexesPartial(db)
}

// keywordIndexesPartial makes each keyword column's index hold only the rows with a value there:
// the service's four keyword search attributes fill four of the ten columns (which four, the server
// decides), and a row still costs an entry in every index of a column it leaves empty. A search
// by a keyword (Keyword05 = ...) still uses the index: SQLite knows it implies IS NOT NULL.
func keywordIndexesPartial(db *sql.DB) error {
	for i := 1; i <= 10; i++ {
		name, column := fmt.Sprintf("by_keyword_%02d", i), fmt.Sprintf("Keyword%02d", i)
		var def string
		err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", name).Scan(&def)
		if errors.Is(err, sql.ErrNoRows) || strings.Contains(def, " WHERE ") {
			continue
		} else if err != nil {
			return fmt.Errorf("reading index %s: %w", name, err)
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		_, err = tx.Exec("DROP INDEX " + name)
		if err == nil {
			_, err = tx.Exec(def + " WHERE " + column + " IS NOT NULL")
		}
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("making index %s partial: %w", name, err)
		}
	}
	return nil
}

func open(file string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
}

func listIndexes(file string) error {
	db, err := open(file)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions_visibility' ORDER BY name")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return err
		}
		if _, where, partial := strings.Cut(def, " WHERE "); partial {
			name += " WHERE " + where
		}
		fmt.Println(name)
	}
	return rows.Err()
}

func main() {
	args := os.Args[1:]
	do := run
	if len(args) == 2 && args[0] == "--list" {
		do, args = listIndexes, args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: temporal-sqlite [--list] <database file>")
		os.Exit(2)
	}
	if err := do(args[0]); err != nil {
		fmt.Fprintf(os.Stderr, "temporal-sqlite: %s: %v\n", args[0], err)
		os.Exit(1)
	}
}
