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

// freeAll frees the bound values' memory once the statement no longer points at it.
func (c *conn) freeAll(allocs []uintptr) {
	for _, p := range allocs {
		c.free(p)
	}
}

// stepCached takes the connection's cached statement for s, binds args and steps it once, ctx able
// to interrupt the step as in stmt.exec and stmt.query. ok is false when there is none to use and
// the caller prepares the query as before. On success the statement stays taken and its bound
// values allocated: the caller releases both (releaseCachedStmt, freeAll) or hands them to rows.
func (s *stmt) stepCached(ctx context.Context, args []driver.NamedValue) (e *cachedStmt, allocs []uintptr, rc int, ok bool, err error) {
	if e, err = s.c.takeCachedStmt(s.sql); e == nil {
		return nil, nil, 0, err != nil, err
	}
	defer func() {
		if err != nil {
			s.c.releaseCachedStmt(e.pstmt)
			s.c.freeAll(allocs)
		}
	}()
	var done int32
	if ctx != nil && ctx.Done() != nil {
		select {
		case <-ctx.Done():
			return e, nil, 0, true, ctx.Err()
		default:
		}
		defer interruptOnDone(ctx, s.c, &done)()
	}
	if n, _ := s.c.bindParameterCount(e.pstmt); n != 0 {
		if allocs, err = s.c.bind(e.pstmt, n, args); err != nil {
			return e, nil, 0, true, err
		}
	}
	rc, err = s.c.step(e.pstmt)
	switch {
	case atomic.LoadInt32(&done) != 0:
		err = ctx.Err()
	case err == nil && rc&0xff != sqlite3.SQLITE_ROW && rc&0xff != sqlite3.SQLITE_DONE:
		err = s.c.errstr(int32(rc))
	}
	return e, allocs, rc & 0xff, true, err
}

// execCached runs a single-statement query on the connection's cached statement; handled is
// false when there is none to use.
func (s *stmt) execCached(ctx context.Context, args []driver.NamedValue) (r driver.Result, handled bool, err error) {
	e, allocs, _, ok, err := s.stepCached(ctx, args)
	if !ok || err != nil {
		return nil, ok, err
	}
	defer func() {
		s.c.releaseCachedStmt(e.pstmt)
		s.c.freeAll(allocs)
	}()
	r, err = newResult(s.c)
	return r, true, err
}

// queryCached is execCached for queries that return rows: the rows hold the statement and the
// bound values until they are closed (rows.Close releases the statement).
func (s *stmt) queryCached(ctx context.Context, args []driver.NamedValue) (r driver.Rows, handled bool, err error) {
	e, allocs, rc, ok, err := s.stepCached(ctx, args)
	if !ok || err != nil {
		return nil, ok, err
	}
	// newRows closes what it made when it fails, and closing rows releases the statement.
	rows, err := newRows(s.c, e.pstmt, allocs, rc == sqlite3.SQLITE_DONE)
	if err != nil {
		return nil, true, err
	}
	return rows, true, nil
}
