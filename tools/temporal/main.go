// The Temporal CLI v1.5.1 (`temporal server start-dev`), built with two changes (src/stack/binaries.ts
// applies them): its SQLite driver's connections keep their prepared statements (_sqlite), and the
// server writes a run's started visibility row only once the run has been open 2 s, so runs that
// close sooner get only their close row (_server).
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
