// Package cli wires the command line, the environment and standard streams into
// evalgate's subcommands. Nothing below this package reads os.Args or os.Getenv.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"sort"

	"github.com/evalgate/evalgate/internal/spelling"
)

// Env is what a command may use of the process: passed in, never global, so
// that every test runs in parallel with its own environment.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand. Flag parsing (flags) is split from the work (run)
// so each is tested alone.
type command struct {
	name    string
	summary string
	usage   string // arguments after the flags, for --help
	// more is help printed after the flags (the gate's environment).
	more string
	// flags defines the command's flags on fs and returns the function that
	// runs it once they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *Env, args []string) error
}

// commands is the table of subcommands.
func commands() []command {
	return []command{
		runCommand(),
		gateCommand(),
		compareCommand(),
		reportCommand(),
		validateCommand(),
		modelsCommand(),
		schemaCommand(),
		optimizeCommand(),
		exportCommand(),
		mergeCommand(),
	}
}

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

// Main runs evalgate with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	stdout, stderr = bidiFree{stdout}, bidiFree{stderr}
	e := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitPass
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(stdout, "evalgate", Version)
		return ExitPass
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "evalgate: unknown command %q%s\nRun 'evalgate --help' for the list.\n", args[0], suggest(args[0], commandNames()))
		return ExitUsage
	}
	fs := flag.NewFlagSet("evalgate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := cmd.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: evalgate %s [flags] %s\n\n%s\n\nFlags:\n", cmd.name, cmd.usage, cmd.summary)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			fmt.Fprintln(fs.Output(), "  none")
		}
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), cmd.more)
	}
	if wantsHelp(args[1:]) {
		// Help asked for is output, not an error: stdout, exit 0.
		fs.SetOutput(stdout)
		fs.Usage()
		return ExitPass
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitPass
		}
		return ExitUsage
	}
	if err := finiteFlags(fs); err != nil {
		fmt.Fprintf(stderr, "evalgate %s: %v\n", cmd.name, err)
		return ExitUsage
	}
	err := recovered(ctx, e, run, fs.Args())
	code := exitCode(err)
	if err != nil {
		fmt.Fprintf(stderr, "evalgate %s: %v\n", cmd.name, err)
	}
	var p panicked
	if errors.As(err, &p) {
		if getenv("EVALGATE_DEBUG") != "" {
			fmt.Fprintf(stderr, "%s\n", p.PanicStack())
		} else {
			fmt.Fprintln(stderr, "This is a bug in evalgate: run again with EVALGATE_DEBUG=1 to print the stack, and report it.")
		}
	}
	return code
}

// recovered runs a command and turns its panic into an error, so that the
// user gets a short message and an exit code, not a stack dump; deferred
// closes (the results file's) have run by then.
func recovered(ctx context.Context, e *Env, run func(context.Context, *Env, []string) error, args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return run(ctx, e, args)
}

// finiteFlags rejects NaN and infinity in every number flag given: the flag
// package parses them, and a NaN bound compares false with everything, so
// it would silently pass whatever it bounds.
func finiteFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || err != nil {
			return
		}
		if v, isFloat := g.Get().(float64); isFloat && (math.IsNaN(v) || math.IsInf(v, 0)) {
			err = fmt.Errorf("--%s %v: give a finite number", f.Name, v)
		}
	})
	return err
}

// wantsHelp reports whether the flags ask for help (before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "evalgate: a CI quality gate for LLM applications.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: evalgate <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'evalgate <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 pass, 1 regressed, 2 usage/config/data error, 3 provider failure, 4 incomplete.")
}

// suggest returns ", did you mean X?" for the name closest to s, or "".
func suggest(s string, names []string) string {
	if best := spelling.Closest(s, names); best != "" {
		return fmt.Sprintf(", did you mean %q?", best)
	}
	return ""
}
