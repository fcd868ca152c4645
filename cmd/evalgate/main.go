// Command evalgate is a CI quality gate for LLM applications. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/evalgate/evalgate/internal/cli"
)

func main() {
	// The first SIGINT or SIGTERM cancels the run, which then writes every
	// finished record; stop() restores the default, so a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }()
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
