// Added to modernc.org/sqlite v1.34.1 when hookrelay builds the Temporal dev server (see
// ../main.go and sqlite.go.patch, which calls into this file).
//
// The driver prepares (parses and compiles) every statement each time it runs, even a prepared
// one, and finalizes it after. The dev server runs the same few dozen statements on its one
// connection over and over: in a burst, parsing them was 17.5% of its CPU, all of it inside the
// one connection every request of the server queues for. So a connection keeps the statements
// it has prepared, by their text, and resets them after use instead of finalizing them.

package sqlite

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Past this many statements a connection prepares new ones each time, as the driver did.
const stmtCacheSize = 512

type cachedStmt struct {
	pstmt uintptr
	// In use by a statement being run or by open rows; a second use meanwhile prepares its own.
	busy bool
}

type stmtCache struct {
	byQuery  map[string]*cachedStmt
	byHandle map[uintptr]*cachedStmt
}

// takeCachedStmt returns the connection's prepared statement for query, marked busy, or nil when
// the query is not to be cached (several statements, or the cache is full) or its statement is busy.
func (c *conn) takeCachedStmt(query string) (*cachedStmt, error) {
	if e := c.stmts.byQuery[query]; e != nil {
		if e.busy {
			return nil, nil
		}
		e.busy = true
		return e, nil
	}
	if len(c.stmts.byQuery) >= stmtCacheSize {
		return nil, nil
	}
	psql, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer c.free(psql)
	tail := psql
	pstmt, err := c.prepareV2(&tail)
	if err != nil {
		return nil, err
	}
	if pstmt == 0 || *(*byte)(unsafe.Pointer(tail)) != 0 {
		if pstmt != 0 {
			c.finalize(pstmt)
		}
		return nil, nil
	}
	if c.stmts.byQuery == nil {
		c.stmts.byQuery = map[string]*cachedStmt{}
		c.stmts.byHandle = map[uintptr]*cachedStmt{}
	}
	e := &cachedStmt{pstmt: pstmt, busy: true}
	c.stmts.byQuery[query] = e
	c.stmts.byHandle[pstmt] = e
	return e, nil
}

// releaseCachedStmt resets pstmt for its next use when it is a cached statement, and says whether
// it was. Reset's result repeats the last step's error, which was reported already.
func (c *conn) releaseCachedStmt(pstmt uintptr) bool {
	e := c.stmts.byHandle[pstmt]
	if e == nil {
		return false
	}
	sqlite3.Xsqlite3_reset(c.tls, pstmt)
	// The bound values' memory is freed after use: no pointer to it stays in the statement.
	sqlite3.Xsqlite3_clear_bindings(c.tls, pstmt)
	e.busy = false
	return true
}

// finalizeCachedStmts is called as the connection closes.
func (c *conn) finalizeCachedStmts() {
	for pstmt := range c.stmts.byHandle {
		c.finalize(pstmt)
	}
	c.stmts = stmtCache{}
}

// bindCached binds args to a cached statement; the returned allocations are freed by the caller.
func (c *conn) bindCached(pstmt uintptr, args []driver.NamedValue) ([]uintptr, error) {
	n, err := c.bindParameterCount(pstmt)
	if err != nil || n == 0 {
		return nil, err
	}
	return c.bind(pstmt, n, args)
}

// watchContext interrupts the statement when ctx ends, as stmt.exec and stmt.query do.
func (c *conn) watchContext(ctx context.Context, done *int32) (stop func(), err error) {
	if ctx == nil || ctx.Done() == nil {
		return func() {}, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	default:
	}
	return interruptOnDone(ctx, c, done), nil
}

// execCached runs a single-statement query on the connection's cached statement; handled is
// false when there is none to use, and the caller prepares the query as before.
func (s *stmt) execCached(ctx context.Context, args []driver.NamedValue) (r driver.Result, handled bool, err error) {
	e, err := s.c.takeCachedStmt(s.sql)
	if e == nil {
		return nil, err != nil, err
	}
	var allocs []uintptr
	defer func() {
		s.c.releaseCachedStmt(e.pstmt)
		for _, p := range allocs {
			s.c.free(p)
		}
	}()
	var done int32
	stop, err := s.c.watchContext(ctx, &done)
	if err != nil {
		return nil, true, err
	}
	defer stop()
	if allocs, err = s.c.bindCached(e.pstmt, args); err != nil {
		return nil, true, err
	}
	rc, err := s.c.step(e.pstmt)
	if err == nil {
		switch rc & 0xff {
		case sqlite3.SQLITE_DONE, sqlite3.SQLITE_ROW:
			r, err = newResult(s.c)
		default:
			err = s.c.errstr(int32(rc))
		}
	}
	if atomic.LoadInt32(&done) != 0 {
		return nil, true, ctx.Err()
	}
	return r, true, err
}

// queryCached is execCached for queries that return rows: the rows hold the statement and the
// bound values until they are closed (rows.Close releases the statement).
func (s *stmt) queryCached(ctx context.Context, args []driver.NamedValue) (r driver.Rows, handled bool, err error) {
	e, err := s.c.takeCachedStmt(s.sql)
	if e == nil {
		return nil, err != nil, err
	}
	var allocs []uintptr
	owned := false
	defer func() {
		if owned {
			return
		}
		s.c.releaseCachedStmt(e.pstmt)
		for _, p := range allocs {
			s.c.free(p)
		}
	}()
	var done int32
	stop, err := s.c.watchContext(ctx, &done)
	if err != nil {
		return nil, true, err
	}
	defer stop()
	if allocs, err = s.c.bindCached(e.pstmt, args); err != nil {
		return nil, true, err
	}
	rc, err := s.c.step(e.pstmt)
	if atomic.LoadInt32(&done) != 0 {
		return nil, true, ctx.Err()
	}
	if err != nil {
		return nil, true, err
	}
	switch rc & 0xff {
	case sqlite3.SQLITE_ROW, sqlite3.SQLITE_DONE:
	default:
		return nil, true, s.c.errstr(int32(rc))
	}
	// newRows closes what it made when it fails, and closing rows releases the statement.
	owned = true
	rows, err := newRows(s.c, e.pstmt, allocs, rc&0xff == sqlite3.SQLITE_DONE)
	if err != nil {
		return nil, true, err
	}
	if atomic.LoadInt32(&done) != 0 {
		rows.Close()
		return nil, true, ctx.Err()
	}
	return rows, true, nil
}
