// Command ferretdb-embedded runs FerretDB v1 as a MongoDB-compatible server for development and
// tests: on PostgreSQL when -postgresql-url is given (the embedded default: real indexes), else on
// SQLite files in -data-dir. It embeds the ferretdb package because a plain
// `go install` of FerretDB's own cmd panics at start (its version file is generated at build).
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "./data", "directory holding the SQLite files (SQLite backend)")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL connection string; selects the PostgreSQL backend")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		log.Fatal(err)
	}

	config := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	}
	if *postgresURL != "" {
		config.Handler = "postgresql"
		config.SQLiteURL = ""
		config.PostgreSQLURL = *postgresURL
	}
	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Warn("ferretdb listening", "addr", *listen, "backend", config.Handler)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
