package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is a subcommand: run parses args and returns the exit status.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"train", "train a CycleGAN (no -dataroot: a small run on built-in synthetic data)", runTrain},
		{"test", "translate test images with a trained model and write a results page", runTest},
		{"attention", "write GradCAM heatmaps of generator layers over test images", runAttention},
		{"bench", "time training iterations on random images; print one JSON line", runBench},
		{"fid", "FID (and KID) between two folders of images or statistics files, as pytorch-fid", runFID},
		{"eval", "translate a run's test images and score both directions with FID and KID", runEval},
		{"compare", "a page comparing runs: their FID/KID table and the same test images translated by each", runCompare},
		{"sweep", "train and evaluate presets × seeds, resumably, here or as a Slurm job array", runSweep},
		{"export", "write a run's networks as PyTorch .pth state dicts that pytorch-CycleGAN-and-pix2pix loads", runExport},
	}
}

// run is the program: it returns the exit status, so that tests can call
// it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := strings.TrimLeft(args[0], "-")
	if name == "help" || name == "h" {
		return help(args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "cyclegan: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cyclegan COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "help COMMAND lists its flags; help presets lists the attention presets")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Start with 'cyclegan train': it trains a small model on built-in synthetic data in %s.\n", mainJobTime)
}

// help prints the usage of a command, or the presets.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	if args[0] == "presets" || args[0] == "preset" {
		printPresets(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run([]string{"-h"}, stdout, stdout)
		}
	}
	fmt.Fprintf(stderr, "cyclegan help: unknown topic %q\n", args[0])
	usage(stderr)
	return 2
}

// failf prints a command's error and returns exit status 1.
func failf(stderr io.Writer, cmd string, format string, a ...any) int {
	fmt.Fprintf(stderr, "cyclegan %s: %s\n", cmd, fmt.Sprintf(format, a...))
	return 1
}

// parse parses args with fs: it returns 0 and true to go on, or the exit
// status (0 for -h, 2 for a bad flag or a stray argument).
func parse(fs *flag.FlagSet, args []string, cmd string, stderr io.Writer) (int, bool) {
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if rest := fs.Args(); len(rest) > 0 {
		fmt.Fprintf(stderr, "cyclegan %s: unexpected argument %q (flags are written -name value)\n", cmd, rest[0])
		return 2, false
	}
	return 0, true
}

// parseFlags parses args with fs. -h prints the command's usage; a bad flag
// prints the error, the flags of the command it may have meant and how to
// list them all, rather than the whole usage, which would push the error
// off the screen.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	if usage == nil {
		usage = fs.PrintDefaults
	}
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		usage()
	default:
		w := fs.Output()
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
			if near := nearFlags(fs, name); len(near) > 0 {
				fmt.Fprintf(w, "did you mean -%s?\n", strings.Join(near, " or -"))
			}
		}
		fmt.Fprintf(w, "'%s -h' or 'cyclegan help %s' lists the flags\n", fs.Name(), strings.TrimPrefix(fs.Name(), "cyclegan "))
	}
	return err
}

// nearFlags returns the names of fs's flags that name may have meant: those
// at the smallest edit distance from it, if that is at most two, and, when
// it is not one, those that start with it (at most four in all).
func nearFlags(fs *flag.FlagSet, name string) []string {
	best := 3
	fs.VisitAll(func(f *flag.Flag) { best = min(best, editDistance(strings.ToLower(name), strings.ToLower(f.Name))) })
	var near, prefixed []string
	fs.VisitAll(func(f *flag.Flag) {
		switch {
		case editDistance(strings.ToLower(name), strings.ToLower(f.Name)) == best:
			near = append(near, f.Name)
		case best != 1 && len(name) >= 2 && strings.HasPrefix(f.Name, name):
			prefixed = append(prefixed, f.Name)
		}
	})
	near = append(near, prefixed...)
	return near[:min(4, len(near))]
}

// editDistance is the Levenshtein distance between a and b (in bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
