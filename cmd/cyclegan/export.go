package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/cyclegan/checkpoint"
)

// runExport writes a run's four networks as PyTorch state dicts, named as
// pytorch-CycleGAN-and-pix2pix's save_networks names them.
func runExport(args []string, stdout, stderr io.Writer) int {
	o := defaultOptions()
	fs := newFlags("export", gDirs|gModel, &o, stderr)
	out := fs.String("out", "", "folder to write {epoch}_net_{G_A,G_B,D_A,D_B}.pth into (default: the run's folder, CHECKPOINTS/NAME)")
	if st, ok := parse(fs, args, "export", stderr); !ok {
		return st
	}
	if err := export(fs, &o, *out, stdout); err != nil {
		return failf(stderr, "export", "%v", err)
	}
	return 0
}

// export loads the run's checkpoint -epoch into networks built with the
// run's options (so that every name and shape is checked) and writes each
// network's state dict to DIR/{epoch}_net_{G_A,…}.pth.
func export(fs *flag.FlagSet, o *options, out string, stdout io.Writer) error {
	if _, err := loadRunOptions(fs, o); err != nil {
		return err
	}
	m, err := loadModel(o, cyclegan.NetNames[:]...)
	if err != nil {
		return err
	}
	if out == "" {
		out = o.checkpointDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("-out %s: %w", out, err)
	}
	for i, n := range m.Nets() {
		path := filepath.Join(out, fmt.Sprintf("%s_net_%s.pth", o.epoch, cyclegan.NetNames[i]))
		if err := checkpoint.WritePth(path, checkpoint.ForPyTorch(checkpoint.StateDict(n.State()))); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(stdout, "PyTorch (pytorch-CycleGAN-and-pix2pix) reads them with --checkpoints_dir %s --name %s --epoch %s\n",
		filepath.Dir(filepath.Clean(out)), filepath.Base(filepath.Clean(out)), o.epoch)
	return nil
}
