package cyclegan_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/tensor"
)

// refPool is the ImagePool of pytorch-CycleGAN-and-pix2pix
// (util/image_pool.py) over image ids:
//
//	if self.pool_size == 0: return images
//	for image in images:
//	    if self.num_imgs < self.pool_size:
//	        self.num_imgs += 1; self.images.append(image); return_images.append(image)
//	    else:
//	        p = random.uniform(0, 1)
//	        if p > 0.5:
//	            random_id = random.randint(0, self.pool_size - 1)  # both ends included
//	            tmp = self.images[random_id].clone()
//	            self.images[random_id] = image
//	            return_images.append(tmp)
//	        else:
//	            return_images.append(image)
//
// random.uniform(0, 1) is rng.Float64 and random.randint(0, n − 1) is
// rng.IntN(n): drawn from a source seeded like the pool's, every draw of
// the model lines up with one of the pool.
type refPool struct {
	size   int
	images []int
}

func (r *refPool) query(batch []int, rng *rand.Rand) []int {
	if r.size == 0 {
		return batch
	}
	var out []int
	for _, image := range batch {
		if len(r.images) < r.size {
			r.images = append(r.images, image)
			out = append(out, image)
			continue
		}
		if rng.Float64() > 0.5 {
			id := rng.IntN(r.size)
			out = append(out, r.images[id])
			r.images[id] = image
		} else {
			out = append(out, image)
		}
	}
	return out
}

// batchOf returns images (len(ids), 1, 1, 1), each holding its id.
func batchOf(ids ...int) *tensor.Tensor {
	v := make([]float32, len(ids))
	for i, id := range ids {
		v[i] = float32(id)
	}
	return tensor.FromFloat32s(v, len(ids), 1, 1, 1)
}

// idsOf reads the ids of images (N, 1, 1, 1) back.
func idsOf(t *testing.T, x *tensor.Tensor) []int {
	t.Helper()
	if s := x.Shape(); len(s) != 4 || s[1] != 1 || s[2] != 1 || s[3] != 1 {
		t.Fatalf("images of shape %v, want (N, 1, 1, 1)", s)
	}
	var ids []int
	for _, v := range x.Values() {
		ids = append(ids, int(v))
	}
	return ids
}

// storedIDs are the ids of the images in the pool, in slot order.
func storedIDs(t *testing.T, p *cyclegan.ImagePool) []int {
	t.Helper()
	ids := []int{}
	for _, img := range p.Images {
		if img.Dim(0) != 1 {
			t.Fatalf("a stored image of shape %v, want (1, 1, 1, 1)", img.Shape())
		}
		ids = append(ids, idsOf(t, img)...)
	}
	return ids
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

// untouched fails unless rng's next draw is a fresh source's first one.
func untouched(t *testing.T, rng *rand.Rand, when string) {
	t.Helper()
	if got, want := rng.Uint64(), newRand().Uint64(); got != want {
		t.Errorf("%s: the pool drew random numbers", when)
	}
}

// TestImagePoolFill: while the pool holds fewer than Size images, each new
// image is stored and returned, and nothing is drawn.
func TestImagePoolFill(t *testing.T) {
	p := cyclegan.NewImagePool(4)
	rng := newRand()
	for id := 10; id < 14; id++ {
		got := idsOf(t, p.Query(batchOf(id), rng))
		if d := cmp.Diff([]int{id}, got); d != "" {
			t.Errorf("query %d returned (-want +got):\n%s", id, d)
		}
	}
	if d := cmp.Diff([]int{10, 11, 12, 13}, storedIDs(t, p)); d != "" {
		t.Errorf("pool after the fill (-want +got):\n%s", d)
	}
	untouched(t, rng, "filling one by one")

	p = cyclegan.NewImagePool(4)
	rng = newRand()
	for _, b := range [][]int{{0, 1}, {2, 3}} {
		if d := cmp.Diff(b, idsOf(t, p.Query(batchOf(b...), rng))); d != "" {
			t.Errorf("batch %v returned (-want +got):\n%s", b, d)
		}
	}
	if d := cmp.Diff([]int{0, 1, 2, 3}, storedIDs(t, p)); d != "" {
		t.Errorf("pool after the fill by pairs (-want +got):\n%s", d)
	}
	untouched(t, rng, "filling by pairs")
}

// TestImagePoolDisabled: Size 0 returns the batch itself, stores nothing
// and draws nothing.
func TestImagePoolDisabled(t *testing.T) {
	p, ref := cyclegan.NewImagePool(0), &refPool{size: 0}
	rng := newRand()
	for i := range 100 {
		ids := []int{2 * i, 2*i + 1}
		b := batchOf(ids...)
		got := p.Query(b, rng)
		if d := cmp.Diff(ref.query(ids, nil), idsOf(t, got)); d != "" {
			t.Fatalf("query %d returned (-reference +pool):\n%s", i, d)
		}
		if got != b {
			t.Fatalf("query %d returned a copy, not the batch", i)
		}
	}
	if len(p.Images) != 0 {
		t.Errorf("a disabled pool stored %v", storedIDs(t, p))
	}
	untouched(t, rng, "disabled")
}

// TestImagePoolMatchesReference drives the pool and refPool with
// identically seeded sources through the fill and hundreds of exchanges,
// in batches of 1 and of 2, crossing the end of the fill inside a batch
// where Size is odd: every query returns the images the reference returns
// and leaves the same images in the same slots.
func TestImagePoolMatchesReference(t *testing.T) {
	for _, size := range []int{1, 3, 50} {
		for _, n := range []int{1, 2} {
			p, ref := cyclegan.NewImagePool(size), &refPool{size: size}
			rng, refRng := newRand(), newRand()
			next, stored, fresh := 0, 0, 0
			for q := range 400 {
				var b []int
				for range n {
					b = append(b, next)
					next++
				}
				want := ref.query(b, refRng)
				got := idsOf(t, p.Query(batchOf(b...), rng))
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("size %d, batch %d, query %d of %v: returned (-reference +pool):\n%s", size, n, q, b, d)
				}
				if d := cmp.Diff(ref.images, storedIDs(t, p)); d != "" {
					t.Fatalf("size %d, batch %d, after query %d: stored (-reference +pool):\n%s", size, n, q, d)
				}
				for i, id := range want {
					if id == b[i] {
						fresh++
					} else {
						stored++
					}
				}
			}
			// Both branches ran many times.
			if stored < 100 || fresh-size < 100 {
				t.Errorf("size %d, batch %d: %d stored and %d new images returned", size, n, stored, fresh)
			}
		}
	}
}

// TestImagePoolExchangesHalf: once full, a query returns a stored image
// about half the time (the reference's p > 0.5), which is one of those in
// the pool before the query, and the new image takes a slot drawn
// uniformly from all Size.
func TestImagePoolExchangesHalf(t *testing.T) {
	const size, queries = 10, 4000
	p := cyclegan.NewImagePool(size)
	rng := rand.New(rand.NewPCG(3, 4))
	for id := range size {
		p.Query(batchOf(id), rng)
	}
	if d := cmp.Diff([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, storedIDs(t, p)); d != "" {
		t.Fatalf("pool after the fill (-want +got):\n%s", d)
	}
	stored := 0
	slots := make([]int, size)
	for id := size; id < size+queries; id++ {
		before := storedIDs(t, p)
		got := idsOf(t, p.Query(batchOf(id), rng))[0]
		after := storedIDs(t, p)
		if got == id {
			if d := cmp.Diff(before, after); d != "" {
				t.Fatalf("query %d returned the new image but changed the pool (-before +after):\n%s", id, d)
			}
			continue
		}
		stored++
		slot := slices.Index(before, got)
		if slot < 0 {
			t.Fatalf("query %d returned %d, which was not in the pool %v", id, got, before)
		}
		want := slices.Clone(before)
		want[slot] = id
		if d := cmp.Diff(want, after); d != "" {
			t.Fatalf("query %d returned the image of slot %d: pool (-want +got):\n%s", id, slot, d)
		}
		slots[slot]++
	}
	t.Logf("%d of %d queries returned a stored image; exchanges per slot %v", stored, queries, slots)
	// Binomial(4000, ½): standard deviation 32, so ±125 is about 4σ.
	if stored < queries/2-125 || stored > queries/2+125 {
		t.Errorf("%d of %d queries returned a stored image, want about half", stored, queries)
	}
	// Each slot: about 200 of the ~2000 exchanges, σ ≈ 13.
	for s, c := range slots {
		if c < 140 || c > 260 {
			t.Errorf("slot %d was exchanged %d times of %d, want about %d: %v", s, c, stored, stored/size, slots)
			break
		}
	}
}
