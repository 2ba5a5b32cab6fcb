// The Temporal CLI v1.5.1 (`temporal server start-dev`), built with one change to its SQLite
// driver: each connection keeps its prepared statements (see _sqlite/stmtcache.go).
package main

import (
	"context"

	"github.com/temporalio/cli/temporalcli"

	// The CLI pins this driver version (see its cmd/temporal/main.go); _sqlite's patch is made against it.
	_ "modernc.org/sqlite"
	// Time zones for the server's schedules when the platform has none.
	_ "time/tzdata"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	temporalcli.Execute(ctx, temporalcli.CommandOptions{})
}
