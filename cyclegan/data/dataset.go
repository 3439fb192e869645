package data

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/camcycle/camcycle/tensor"
)

// Options says which images the unaligned data set reads and how it
// transforms them. DefaultOptions gives pytorch-CycleGAN-and-pix2pix's
// training defaults; its flag of the same name is given with each field.
type Options struct {
	// Dataroot holds the folders trainA, trainB, testA, testB (--dataroot).
	Dataroot string
	// Phase is "train" or "test": the folders read are {Phase}A and
	// {Phase}B (--phase).
	Phase string
	// Preprocess is applied to every image (--preprocess):
	//   "resize_and_crop"       resize to LoadSize×LoadSize, then a random CropSize crop
	//   "resize"                resize to LoadSize×LoadSize
	//   "crop"                  a random CropSize crop of the image as it is
	//   "scale_width"           width to LoadSize, height in proportion (at least CropSize)
	//   "scale_width_and_crop"  scale_width, then a random CropSize crop
	//   "none"                  only round the sides to multiples of 4 (resizing if needed)
	Preprocess string
	// LoadSize is the size images are scaled to (--load_size, 286).
	LoadSize int
	// CropSize is the side of the random square crop (--crop_size, 256).
	CropSize int
	// NoFlip turns off the random horizontal flip (--no_flip).
	NoFlip bool
	// SerialBatches takes A and B in order, item i being A[i mod |A|] and
	// B[i mod |B|], instead of A shuffled and B at random
	// (--serial_batches).
	SerialBatches bool
	// Seed seeds every random choice: order, B partners, crops and flips.
	Seed uint64
	// MaxDatasetSize keeps only the first MaxDatasetSize images (in sorted
	// order) of each domain; 0 keeps all (--max_dataset_size).
	MaxDatasetSize int
	// BToA swaps the domains (--direction BtoA): domain A is read from
	// {Phase}B and domain B from {Phase}A. As the reference, which swaps
	// the unaligned data set's A and B when the model takes its input, the
	// folder {Phase}A is still the one visited in (shuffled) order and
	// {Phase}B the one drawn at random, now on the B side.
	BToA bool
}

// DefaultOptions returns the reference's training defaults: phase "train",
// "resize_and_crop" from 286 to 256, random flips, shuffled order, seed 0,
// and every image. Dataroot must still be set.
func DefaultOptions() Options {
	return Options{Phase: "train", Preprocess: "resize_and_crop", LoadSize: 286, CropSize: 256}
}

// TestOptions returns the reference's test-time settings for dataroot:
// phase "test", images resized to size×size (load_size = crop_size), no
// flip, in order.
func TestOptions(dataroot string, size int) Options {
	return Options{Dataroot: dataroot, Phase: "test", Preprocess: "resize_and_crop",
		LoadSize: size, CropSize: size, NoFlip: true, SerialBatches: true}
}

// resizes, crops: which steps a Preprocess value includes.
func (o Options) resizes() bool { return o.Preprocess == "resize_and_crop" || o.Preprocess == "resize" }
func (o Options) scalesWidth() bool {
	return o.Preprocess == "scale_width" || o.Preprocess == "scale_width_and_crop"
}
func (o Options) crops() bool {
	return o.Preprocess == "resize_and_crop" || o.Preprocess == "crop" || o.Preprocess == "scale_width_and_crop"
}

func (o Options) check() error {
	switch o.Preprocess {
	case "resize_and_crop", "resize", "crop", "scale_width", "scale_width_and_crop", "none":
	default:
		return fmt.Errorf("data: unknown preprocess %q (want resize_and_crop, resize, crop, scale_width, scale_width_and_crop or none)", o.Preprocess)
	}
	switch {
	case o.Dataroot == "":
		return errors.New("data: no dataroot given")
	case o.Phase == "":
		return errors.New("data: no phase given (train or test)")
	case o.LoadSize <= 0 || o.CropSize <= 0:
		return fmt.Errorf("data: load size %d and crop size %d must be positive", o.LoadSize, o.CropSize)
	case o.crops() && o.Preprocess != "crop" && o.CropSize > o.LoadSize:
		return fmt.Errorf("data: crop size %d is larger than load size %d", o.CropSize, o.LoadSize)
	case o.MaxDatasetSize < 0:
		return fmt.Errorf("data: max dataset size %d is negative", o.MaxDatasetSize)
	}
	return nil
}

// imageExtensions are the file extensions Open lists (compared without case).
var imageExtensions = []string{".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}

// isImageFile reports whether path has one of imageExtensions.
func isImageFile(path string) bool {
	return slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(path)))
}

// Unaligned is the unaligned data set of CycleGAN: two unrelated lists of
// images, domain A and domain B. It holds only the file names; images are
// read by Load. Its methods are safe for concurrent use.
type Unaligned struct {
	opts           Options
	pathsA, pathsB []string
}

// Open lists the images of {Dataroot}/{Phase}A and {Phase}B: files ending in
// .jpg, .jpeg, .png, .bmp, .tif or .tiff (in any case), in the folder or
// below it, sorted by path; names starting with "." (hidden files, macOS
// "._" files) are skipped. It fails, naming the folder, when one is missing
// or holds no image.
func Open(o Options) (*Unaligned, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	u := &Unaligned{opts: o}
	dirA, dirB := o.Phase+"A", o.Phase+"B"
	if o.BToA {
		dirA, dirB = dirB, dirA
	}
	var err error
	if u.pathsA, err = listImages(filepath.Join(o.Dataroot, dirA), o.MaxDatasetSize); err != nil {
		return nil, err
	}
	if u.pathsB, err = listImages(filepath.Join(o.Dataroot, dirB), o.MaxDatasetSize); err != nil {
		return nil, err
	}
	return u, nil
}

// listImages returns the sorted image files under dir, at most limit (0:
// all).
func listImages(dir string, limit int) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: image folder %s does not exist", dir)
		}
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data: %s is not a folder", dir)
	}
	var paths []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && isImageFile(path) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data: listing %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("data: image folder %s holds no images (%s)", dir, strings.Join(imageExtensions, ", "))
	}
	slices.Sort(paths)
	if limit > 0 && len(paths) > limit {
		paths = paths[:limit]
	}
	return paths, nil
}

// Options returns the options the data set was opened with.
func (u *Unaligned) Options() Options { return u.opts }

// Len is the number of items of an epoch, max(|A|, |B|).
func (u *Unaligned) Len() int { return max(len(u.pathsA), len(u.pathsB)) }

// SizeA is the number of images of domain A.
func (u *Unaligned) SizeA() int { return len(u.pathsA) }

// SizeB is the number of images of domain B.
func (u *Unaligned) SizeB() int { return len(u.pathsB) }

// PathsA returns the sorted image files of domain A (a copy).
func (u *Unaligned) PathsA() []string { return slices.Clone(u.pathsA) }

// PathsB returns the sorted image files of domain B (a copy).
func (u *Unaligned) PathsB() []string { return slices.Clone(u.pathsB) }

// Transform holds the random choices made for one image.
type Transform struct {
	// CropX and CropY in [0, 1) place the crop window: its left edge is
	// ⌊CropX·(W − CropSize + 1)⌋ for an image W wide (so every position is
	// equally likely, as torchvision's RandomCrop), its top edge likewise.
	// Zero when Preprocess does not crop.
	CropX, CropY float64
	// Flip mirrors the image left to right. Always false with NoFlip.
	Flip bool
}

// Pair is one item of an epoch: which images to read and how to transform
// them.
type Pair struct {
	// Index is the item's position in the epoch, 0 … Len()−1.
	Index int
	// A and B index PathsA and PathsB.
	A, B int
	// TransformA and TransformB are drawn independently, as the reference
	// applies its random transforms to each image separately.
	TransformA, TransformB Transform
}

// Epoch returns the items of one epoch in the order they are visited. It is
// a pure function of (Seed, epoch): a run resumed at iteration k of an
// epoch uses Epoch(epoch)[k:] and sees what an uninterrupted run saw.
//
// As pytorch-CycleGAN-and-pix2pix's UnalignedDataset under a shuffling
// DataLoader, item i takes A[π(i) mod |A|] for a random permutation π of
// 0 … Len()−1, and a B chosen uniformly at random; with SerialBatches, A[i
// mod |A|] and B[i mod |B|]. Crops and flips are drawn in every mode (they
// are zero or false when Preprocess or NoFlip rule them out). With BToA the
// roles of the two sides are exchanged (the folder {Phase}A, now domain B,
// is the one visited in order).
func (u *Unaligned) Epoch(epoch int) []Pair {
	rng := tensor.NewRand(epochSeed(u.opts.Seed, epoch))
	n := u.Len()
	var order []int
	if !u.opts.SerialBatches {
		order = rng.Perm(n)
	}
	pairs := make([]Pair, n)
	for i := range pairs {
		p := Pair{Index: i, A: i % len(u.pathsA), B: i % len(u.pathsB)}
		if !u.opts.SerialBatches {
			ordered, drawn, nOrdered, nDrawn := &p.A, &p.B, len(u.pathsA), len(u.pathsB)
			if u.opts.BToA {
				ordered, drawn, nOrdered, nDrawn = &p.B, &p.A, len(u.pathsB), len(u.pathsA)
			}
			*ordered = order[i] % nOrdered
			*drawn = rng.IntN(nDrawn)
		}
		for _, t := range []*Transform{&p.TransformA, &p.TransformB} {
			*t = Transform{CropX: rng.Float64(), CropY: rng.Float64(), Flip: rng.IntN(2) == 1}
			if !u.opts.crops() {
				t.CropX, t.CropY = 0, 0
			}
			if u.opts.NoFlip {
				t.Flip = false
			}
		}
		pairs[i] = p
	}
	return pairs
}

// epochSeed mixes the data set's seed and the epoch number (SplitMix64
// twice), so that each epoch draws from its own, unrelated stream.
func epochSeed(seed uint64, epoch int) uint64 {
	return splitmix64(splitmix64(seed) ^ uint64(epoch))
}

// splitmix64 is Steele, Lea and Flood's 64-bit mixing function.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Load reads the pair's two images and applies their transforms: Float32
// CPU tensors (1, 3, H, W) in [−1, 1] (H = W = CropSize with the default
// preprocessing). Errors name the file.
func (u *Unaligned) Load(p Pair) (a, b *tensor.Tensor, err error) {
	if p.A < 0 || p.A >= len(u.pathsA) || p.B < 0 || p.B >= len(u.pathsB) {
		return nil, nil, fmt.Errorf("data: pair (A %d, B %d) outside the data set (%d, %d images)", p.A, p.B, len(u.pathsA), len(u.pathsB))
	}
	if a, err = u.loadOne(u.pathsA[p.A], p.TransformA); err != nil {
		return nil, nil, err
	}
	if b, err = u.loadOne(u.pathsB[p.B], p.TransformB); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// Batches cuts an epoch's pairs into batches of size pairs, in order; the
// last one is smaller when size does not divide their number (the
// reference's DataLoader, drop_last False). size < 1 is taken as 1.
func Batches(pairs []Pair, size int) [][]Pair {
	size = max(size, 1)
	out := make([][]Pair, 0, (len(pairs)+size-1)/size)
	for len(pairs) > 0 {
		k := min(size, len(pairs))
		out = append(out, pairs[:k])
		pairs = pairs[k:]
	}
	return out
}

// Stack concatenates images (1, 3, H, W) of one size into a batch (N, 3,
// H, W); one image is returned as it is. Images of different sizes (with
// -preprocess none or scale_width) cannot be stacked: the error names the
// sizes, as the reference's collate would fail.
func Stack(images []*tensor.Tensor) (*tensor.Tensor, error) {
	if len(images) == 1 {
		return images[0], nil
	}
	for _, x := range images[1:] {
		if !x.Shape().Equal(images[0].Shape()) {
			return nil, fmt.Errorf("data: images of shapes %v and %v in one batch: with -batch_size above 1 every image must "+
				"have the same size (use a preprocessing that crops or resizes to a square)", images[0].Shape(), x.Shape())
		}
	}
	return images[0].Backend().Concat(0, images), nil
}

func (u *Unaligned) loadOne(path string, t Transform) (*tensor.Tensor, error) {
	img, err := ReadImage(path)
	if err != nil {
		return nil, err
	}
	img, err = u.opts.Apply(img, t)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return ImageToTensor(img), nil
}

// Apply transforms an RGB image as the options say, with the random
// choices t: resize or scale, crop, round to multiples of 4 ("none"), flip.
// It fails when the image is smaller than the crop.
func (o Options) Apply(img *image.RGBA, t Transform) (*image.RGBA, error) {
	switch {
	case o.resizes():
		img = Resize(img, o.LoadSize, o.LoadSize)
	case o.scalesWidth():
		img = scaleWidth(img, o.LoadSize, o.CropSize)
	}
	if o.crops() {
		var err error
		if img, err = crop(img, o.CropSize, t.CropX, t.CropY); err != nil {
			return nil, err
		}
	}
	if o.Preprocess == "none" {
		img = makeMultipleOf(img, 4)
	}
	if t.Flip {
		img = flipH(img)
	}
	return img, nil
}

// scaleWidth is the reference's __scale_width: width to target, height
// ⌊target·H/W⌋ but at least crop.
func scaleWidth(img *image.RGBA, target, crop int) *image.RGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w == target && h >= crop {
		return img
	}
	nh := int(math.Max(float64(target)*float64(h)/float64(w), float64(crop)))
	return Resize(img, target, nh)
}

// makeMultipleOf is the reference's __make_power_2: each side rounded (half
// to even, as Python's round) to a multiple of base, resizing if needed.
func makeMultipleOf(img *image.RGBA, base int) *image.RGBA {
	round := func(n int) int { return max(base, int(math.RoundToEven(float64(n)/float64(base)))*base) }
	return Resize(img, round(img.Rect.Dx()), round(img.Rect.Dy()))
}

// crop copies a size×size window of img placed by fx, fy ∈ [0, 1).
func crop(img *image.RGBA, size int, fx, fy float64) (*image.RGBA, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < size || h < size {
		return nil, fmt.Errorf("image of %d×%d pixels is smaller than the crop size %d", w, h, size)
	}
	x0 := img.Rect.Min.X + int(fx*float64(w-size+1))
	y0 := img.Rect.Min.Y + int(fy*float64(h-size+1))
	out := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		copy(out.Pix[y*out.Stride:y*out.Stride+4*size], img.Pix[img.PixOffset(x0, y0+y):])
	}
	return out, nil
}

// flipH mirrors img left to right.
func flipH(img *image.RGBA) *image.RGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			copy(out.Pix[out.PixOffset(x, y):out.PixOffset(x, y)+4], img.Pix[img.PixOffset(img.Rect.Min.X+w-1-x, img.Rect.Min.Y+y):])
		}
	}
	return out
}
