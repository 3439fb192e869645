package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/tensor"
)

// TestBToA: -direction BtoA reads domain A from trainB and domain B from
// trainA; the folder trainA (now domain B) is still the one visited once
// per epoch in shuffled order, trainB drawn at random; the epoch's length
// is the same.
func TestBToA(t *testing.T) {
	root := makeDataset(t, 7, 4, 4, 4)
	o := opts(root)
	o.BToA = true
	u, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if u.SizeA() != 4 || u.SizeB() != 7 || !strings.Contains(u.PathsA()[0], "trainB") || !strings.Contains(u.PathsB()[0], "trainA") {
		t.Fatalf("BtoA: %d images A (%s…), %d B (%s…), want 4 from trainB and 7 from trainA",
			u.SizeA(), u.PathsA()[0], u.SizeB(), u.PathsB()[0])
	}
	pairs := u.Epoch(3)
	if len(pairs) != 7 {
		t.Fatalf("BtoA: an epoch of %d items, want 7", len(pairs))
	}
	var bs []int
	for _, p := range pairs {
		bs = append(bs, p.B)
	}
	if sorted := slices.Sorted(slices.Values(bs)); !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("BtoA: the B side (trainA) %v is not a permutation", bs)
	}
	a, b, err := u.Load(pairs[0])
	if err != nil {
		t.Fatal(err)
	}
	// makeDataset's ids: trainA files 0…, trainB 100….
	if pa, pb := pixel(a, 0, 0)[2], pixel(b, 0, 0)[2]; pa < 100 || pb >= 100 {
		t.Errorf("BtoA: the A image has id %d, the B image %d; want A from trainB (≥ 100), B from trainA", pa, pb)
	}
}

// TestBatches: an epoch of 7 items in batches of 3 is 3, 3 and 1 (the
// reference keeps the smaller last batch), in order; Stack stacks a batch
// and refuses images of different sizes, naming them.
func TestBatches(t *testing.T) {
	pairs := make([]Pair, 7)
	for i := range pairs {
		pairs[i].Index = i
	}
	bs := Batches(pairs, 3)
	var sizes []int
	next := 0
	for _, b := range bs {
		sizes = append(sizes, len(b))
		for _, p := range b {
			if p.Index != next {
				t.Fatalf("batches out of order: %v", bs)
			}
			next++
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("batch sizes %v, want [3 3 1]", sizes)
	}
	if n := len(Batches(pairs, 1)); n != 7 {
		t.Errorf("batches of 1: %d, want 7", n)
	}
	x := tensor.Full(tensor.Float32, 0, 1, 3, 4, 4)
	y := tensor.Full(tensor.Float32, 0, 1, 3, 4, 8)
	if s, err := Stack([]*tensor.Tensor{x, x}); err != nil || !s.Shape().Equal(tensor.Shape{2, 3, 4, 4}) {
		t.Errorf("Stack of two: %v, %v", s.Shape(), err)
	}
	if _, err := Stack([]*tensor.Tensor{x, y}); err == nil || !strings.Contains(err.Error(), "(1, 3, 4, 8)") {
		t.Errorf("Stack of two sizes: %v", err)
	}
}

// TestLoaderWorkers: loading ahead in goroutines delivers exactly the
// batches loading in the loop does, in order, and then ok is false.
func TestLoaderWorkers(t *testing.T) {
	root := makeDataset(t, 7, 4, 8, 8)
	o := opts(root)
	o.LoadSize, o.CropSize = 8, 6
	u, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	batches := Batches(u.Epoch(2), 3)
	load := func(workers int) [][]float32 {
		l := u.Loader(batches, workers)
		defer l.Close()
		var out [][]float32
		for {
			a, b, ok, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return out
			}
			out = append(out, a.Float32s(), b.Float32s())
		}
	}
	want := load(0)
	if len(want) != 6 || len(want[4]) != 3*6*6 {
		t.Fatalf("in the loop: %d tensors (want 3 batches of A and B), the last batch of %d values", len(want), len(want[4]))
	}
	for _, w := range []int{1, 3, 8} {
		got := load(w)
		if len(got) != len(want) {
			t.Fatalf("%d workers: %d tensors, want %d", w, len(got), len(want))
		}
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%d workers: tensor %d differs from loading in the loop", w, i)
			}
		}
	}
}
