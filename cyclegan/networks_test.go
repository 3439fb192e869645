package cyclegan_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/camcycle/camcycle/cyclegan"
	"github.com/camcycle/camcycle/layers"
	"github.com/camcycle/camcycle/tensor"
)

// TestCheckImageSize: the sizes CheckImageSize accepts are exactly those
// that the networks take: the generator gives back an image of the same
// size and the discriminator a patch map of at least 1×1.
func TestCheckImageSize(t *testing.T) {
	in := layers.Init{Rand: tensor.NewRand(1)}
	g := cyclegan.NewResnetGenerator(in, 1, 1)
	for nLayers := 1; nLayers <= 3; nLayers++ {
		d := cyclegan.NewNLayerDiscriminator(in, 1, nLayers)
		o := cyclegan.DefaultOptions()
		o.NLayersD = nLayers
		for side := 4; side <= 52; side++ {
			works := func() (ok bool) {
				defer func() {
					if recover() != nil {
						ok = false
					}
				}()
				x := tensor.New(tensor.Float32, 1, 3, side, side)
				y := cyclegan.Translate(g, x)
				p := cyclegan.Translate(d, x)
				return y.Shape().Equal(x.Shape()) && p.Dim(2) >= 1 && p.Dim(3) >= 1
			}()
			err := o.CheckImageSize(side)
			if (err == nil) != works {
				t.Errorf("-n_layers_D %d, side %d: CheckImageSize says %v, but the networks take it: %v", nLayers, side, err, works)
			}
			if want := fmt.Sprintf("%d×%d", side, side); err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("side %d: error %q does not name the size", side, err)
			}
		}
	}
}
