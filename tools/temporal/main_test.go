package main

// The patched driver (see _sqlite) through database/sql, as the dev server uses it: one
// connection, the same statements again and again. Run by the build (src/stack/binaries.ts)
// before it keeps a binary.

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openOneConn(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, err := db.Exec(`CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStatementsRunAgainWithNewArguments(t *testing.T) {
	db := openOneConn(t)
	for i := 0; i < 200; i++ {
		var v any = "value"
		if i%2 == 1 {
			v = nil // a NULL after a bound text: the last use's bindings must not linger
		}
		if _, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, ?)`, i, v); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		var v sql.NullString
		if err := db.QueryRow(`SELECT v FROM kv WHERE k = ?`, i).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v.Valid != (i%2 == 0) {
			t.Fatalf("row %d: got %+v", i, v)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kv WHERE v IS NULL`).Scan(&n); err != nil || n != 100 {
		t.Fatalf("NULL rows: %d, %v", n, err)
	}
}

func TestAStatementInUseIsNotTakenBySecondUse(t *testing.T) {
	db := openOneConn(t)
	for i := 0; i < 5; i++ {
		if _, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, 'x')`, i); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT k FROM kv WHERE k >= ? ORDER BY k`
	outer, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var k int
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		// The same text while the first rows are open on the same connection.
		var inner int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM (`+q+`)`, k).Scan(&inner); err != nil {
			t.Fatal(err)
		}
		if inner != 5-k {
			t.Fatalf("inner count from %d: %d", k, inner)
		}
		innerRows, err := conn.QueryContext(ctx, q, 3)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for innerRows.Next() {
			n++
		}
		innerRows.Close()
		if n != 2 {
			t.Fatalf("inner rows: %d", n)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if len(got) != 5 {
		t.Fatalf("outer rows: %v", got)
	}
}

func TestAFailedStatementRunsAgain(t *testing.T) {
	db := openOneConn(t)
	const insert = `INSERT INTO kv (k, v) VALUES (?, 'x')`
	if _, err := db.Exec(insert, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(insert, 1); err == nil {
		t.Fatal("a duplicate key was inserted")
	}
	if _, err := db.Exec(insert, 2); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
}

func TestRowsClosedEarlyLeaveTheStatementReady(t *testing.T) {
	db := openOneConn(t)
	for i := 0; i < 10; i++ {
		if _, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, 'x')`, i); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT k FROM kv ORDER BY k`
	for round := 0; round < 3; round++ {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next()
		rows.Close()
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 10 {
		t.Fatalf("rows after early closes: %d", n)
	}
	// A statement not reset would still be running, and SQLite refuses to drop a table in use.
	if _, err := db.Exec(`DROP TABLE kv`); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionsRollBack(t *testing.T) {
	db := openOneConn(t)
	for round := 0; round < 3; round++ {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO kv (k, v) VALUES (?, 'x')`, round); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kv`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after rollbacks: %d, %v", n, err)
	}
}

func TestACancelledStatementRunsAgain(t *testing.T) {
	db := openOneConn(t)
	const slow = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c`
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var n int
	err := db.QueryRowContext(ctx, slow, 1_000_000_000).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cancelled query gave %v", err)
	}
	if err := db.QueryRow(slow, 1000).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("after a cancel: %d, %v", n, err)
	}
}

func TestSeveralStatementsInOneText(t *testing.T) {
	db := openOneConn(t)
	if _, err := db.Exec(`INSERT INTO kv (k, v) VALUES (1, 'a'); INSERT INTO kv (k, v) VALUES (2, 'b')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kv`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows: %d, %v", n, err)
	}
}
