package main

import "github.com/google/go-jsonnet"

func version() string { return jsonnet.Version() }
