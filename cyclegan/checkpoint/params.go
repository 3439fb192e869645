package checkpoint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// StateDict returns the parameters as named tensors, in order, ready for
// Save: the PyTorch state dict of the network.
func StateDict(params []layers.NamedParam) []Named {
	out := make([]Named, len(params))
	for i, p := range params {
		out[i] = Named{Name: p.Name, T: p.Var.Value}
	}
	return out
}

// ForPyTorch returns a network's state dict (parameters, then buffers,
// as layers' State lists them) as torch's state_dict() lays it out: each
// module's buffers right after its parameters, and the entries PyTorch
// keeps as int64 (BatchNorm2d's num_batches_tracked) marked for WritePth.
func ForPyTorch(sd []Named) []Named {
	module := func(name string) string { return name[:max(strings.LastIndex(name, "."), 0)] }
	var order []string
	byModule := map[string][]Named{}
	for _, nt := range sd {
		m := module(nt.Name)
		if _, ok := byModule[m]; !ok {
			order = append(order, m)
		}
		nt.Int64 = strings.HasSuffix("."+nt.Name, ".num_batches_tracked")
		byModule[m] = append(byModule[m], nt)
	}
	out := make([]Named, 0, len(sd))
	for _, m := range order {
		out = append(out, byModule[m]...)
	}
	return out
}

// ignoredSuffixes are state-dict entries that LoadParams skips: the running
// statistics that InstanceNorm2d layers of old PyTorch versions stored
// although CycleGAN's instance norm does not use them (pytorch-CycleGAN-and-
// pix2pix deletes them on load too).
var ignoredSuffixes = []string{".running_mean", ".running_var", ".num_batches_tracked"}

func ignored(name string) bool {
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// LoadParams sets each parameter to the tensor of the same name, converted
// to the parameter's dtype and moved to its backend; each gets its own copy
// and its gradient is cleared. source (the file name) is used in errors.
//
// Every name and shape is checked before anything changes: if a parameter
// has no tensor, a tensor has no parameter, or a shape differs, LoadParams
// returns one error listing all of them and leaves every parameter as it
// was. Entries ending in .running_mean, .running_var or
// .num_batches_tracked (see ignoredSuffixes) are skipped.
func LoadParams(params []layers.NamedParam, tensors map[string]*tensor.Tensor, source string) error {
	var missing, unexpected, shapes []string
	want := make(map[string]bool, len(params))
	for _, p := range params {
		want[p.Name] = true
		t, ok := tensors[p.Name]
		switch {
		case !ok:
			missing = append(missing, p.Name)
		case !t.Shape().Equal(p.Var.Shape()):
			shapes = append(shapes, fmt.Sprintf("%s: file has %v, model wants %v", p.Name, t.Shape(), p.Var.Shape()))
		}
	}
	for name := range tensors {
		if !want[name] && !ignored(name) {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing)+len(unexpected)+len(shapes) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "checkpoint: %s does not fit the network (nothing was loaded):", source)
		list(&b, "missing", missing)
		list(&b, "unexpected", unexpected)
		list(&b, "wrong shape", shapes)
		return fmt.Errorf("%s", b.String())
	}
	for _, p := range params {
		v := tensor.CPU.Cast(hostCopy(tensors[p.Name]), p.Var.DType())
		p.Var.Value = v.To(p.Var.Backend())
		p.Var.Grad = nil
	}
	return nil
}

// list appends "\n  what (n): a, b, …" to b, at most 8 items, sorted.
func list(b *strings.Builder, what string, items []string) {
	if len(items) == 0 {
		return
	}
	slices.Sort(items)
	const most = 8
	fmt.Fprintf(b, "\n  %s (%d): %s", what, len(items), strings.Join(items[:min(len(items), most)], "; "))
	if len(items) > most {
		fmt.Fprintf(b, "; and %d more", len(items)-most)
	}
}

// hostCopy returns a CPU copy of t that shares no storage with it, so that
// an optimiser updating a parameter never changes the loaded tensors.
func hostCopy(t *tensor.Tensor) *tensor.Tensor {
	h := t.To(tensor.CPU)
	if h.DType() == tensor.Float64 {
		return tensor.FromFloat64s(slices.Clone(h.Float64s()), h.Shape()...)
	}
	return tensor.FromFloat32s(slices.Clone(h.Float32s()), h.Shape()...)
}
