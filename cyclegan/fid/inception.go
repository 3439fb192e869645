package fid

import (
	"fmt"
	"math"
	"strings"

	"github.com/camcycle/camcycle/cyclegan/checkpoint"
	"github.com/camcycle/camcycle/tensor"
)

// InceptionWeightsFile is the name of pytorch-fid's Inception-v3 weights,
// the TensorFlow FID network of Heusel et al. (2017) converted to PyTorch;
// InceptionWeightsURL is where pytorch-fid downloads them from.
const (
	InceptionWeightsFile = "pt_inception-2015-12-05-6726825d.pth"
	InceptionWeightsURL  = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + InceptionWeightsFile
)

// FeatureDim is the length of the feature vector of one image: the 2048
// channels of Mixed_7c, averaged over the image.
const FeatureDim = 2048

// inputSize is the image size the network runs at: pytorch-fid resizes
// every image to 299×299.
const inputSize = 299

// bnEps is the epsilon of torchvision's BasicConv2d batch norm.
const bnEps = 0.001

// Inception is the Inception-v3 of pytorch-fid (mseitzer/pytorch-fid 0.3.0,
// pytorch_fid/inception.py) up to its 2048-d pool features: torchvision's
// Inception3 with the FID blocks that reproduce the TensorFlow graph the FID
// was defined on. Features runs what pytorch-fid's InceptionV3 runs with
// output_blocks=[3]:
//
//	resize to 299×299 (bilinear, align_corners=False), then 2x − 1
//	block 0  Conv2d_1a_3x3 (stride 2), Conv2d_2a_3x3, Conv2d_2b_3x3 (padding 1), max pool 3×3 stride 2
//	block 1  Conv2d_3b_1x1, Conv2d_4a_3x3, max pool 3×3 stride 2
//	block 2  Mixed_5b, 5c, 5d (FIDInceptionA), Mixed_6a (InceptionB),
//	         Mixed_6b, 6c, 6d, 6e (FIDInceptionC)
//	block 3  Mixed_7a (InceptionD), Mixed_7b (FIDInceptionE_1), Mixed_7c (FIDInceptionE_2),
//	         mean over the 8×8 positions → (N, 2048)
//
// The branches of each block are listed in fidBlocks below. The FID blocks
// differ from torchvision's in their pool branches: the average pools do not
// count the padding (count_include_pad=False, as TensorFlow's) and
// FIDInceptionE_2's pool is a max pool.
//
// Each BasicConv2d (a convolution without bias, a batch norm in eval mode
// with eps 0.001, a ReLU) is held with its batch norm folded into the
// convolution, so that inference is a convolution with bias and a ReLU. The
// network only runs forward, on backend primitives, without autograd; its
// weights never change once built.
type Inception struct {
	be     tensor.Backend
	dt     tensor.DType
	blocks [4][]*mixed // pytorch-fid's blocks 0 to 3 (the final mean excepted)
}

// LoadInception reads pytorch-fid's weights (InceptionWeightsFile, a legacy
// PyTorch .pth) from path, or the same tensors in a .safetensors file, and
// builds the network on backend b, in float32. Errors name the file and
// say where the weights come from.
func LoadInception(path string, b tensor.Backend) (*Inception, error) {
	var sd map[string]*tensor.Tensor
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".safetensors") {
		sd, _, err = checkpoint.Load(path)
	} else {
		sd, err = checkpoint.LoadPth(path)
	}
	if err != nil {
		return nil, fmt.Errorf("fid: reading the Inception weights: %w (FID needs pytorch-fid's Inception-v3 weights, %s, from %s)",
			err, InceptionWeightsFile, InceptionWeightsURL)
	}
	return newInception(sd, b, tensor.Float32, path)
}

// NewInception builds the network on backend b, in float32, from the
// tensors of pytorch-fid's state dict (as checkpoint.LoadPth returns it),
// with torchvision's names: Conv2d_1a_3x3.conv.weight,
// Conv2d_1a_3x3.bn.{weight,bias,running_mean,running_var},
// Mixed_5b.branch1x1.conv.weight, and so on. Other entries (fc.*,
// AuxLogits.*, num_batches_tracked, any others) are not used; fc.weight,
// when present, must have pytorch-fid's 1008 classes, which tells these
// weights from torchvision's ImageNet ones (1000 classes, other values
// under the same names). The error lists every tensor missing or of the
// wrong shape (the first eight, and how many in all).
func NewInception(sd map[string]*tensor.Tensor, b tensor.Backend) (*Inception, error) {
	return newInception(sd, b, tensor.Float32, "the state dict")
}

// newInception builds the network in dtype dt (the tests check the
// architecture in float64, free of float32 rounding). source names the
// state dict in errors.
func newInception(sd map[string]*tensor.Tensor, b tensor.Backend, dt tensor.DType, source string) (*Inception, error) {
	if fc, ok := sd["fc.weight"]; ok && !fc.Shape().Equal(tensor.Shape{1008, FeatureDim}) {
		return nil, fmt.Errorf("fid: %s: fc.weight is %v, not pytorch-fid's (1008, %d): these are not the FID Inception weights (%s); "+
			"torchvision's ImageNet Inception-v3 has 1000 classes and gives other features", source, fc.Shape(), FeatureDim, InceptionWeightsFile)
	}
	ld := loader{sd: sd, be: b, dt: dt}
	m := &Inception{be: b, dt: dt}
	in := 3
	for i, specs := range fidBlocks() {
		for _, s := range specs {
			blk := ld.mixed(s, in)
			m.blocks[i] = append(m.blocks[i], blk)
			in = blk.out
		}
	}
	if err := ld.err(source); err != nil {
		return nil, err
	}
	return m, nil
}

// Features returns the 2048-d pool features (N, 2048) of the images x
// (N, 3, H, W) with values in [0, 1], in the network's dtype: what
// pytorch-fid's InceptionV3([3]) returns, squeezed. Any H×W is resized to
// 299×299 first. It panics, naming the shapes, when x is not such a batch.
//
// The images go through the network featuresChunk at a time, whatever N.
func (m *Inception) Features(x *tensor.Tensor) *tensor.Tensor {
	return m.features(x, featuresChunk)
}

// features is Features, chunk images at a time.
func (m *Inception) features(x *tensor.Tensor, chunk int) *tensor.Tensor {
	m.check(x)
	n := x.Dim(0)
	if n <= chunk {
		return m.forward(x)[3]
	}
	var fs []*tensor.Tensor
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		part := m.be.Slice(x, []int{lo, 0, 0, 0}, []int{hi, x.Dim(1), x.Dim(2), x.Dim(3)})
		fs = append(fs, m.forward(part)[3])
	}
	return m.be.Concat(0, fs)
}

// featuresChunk is how many images Features runs through the network at
// once. The convolutions work image by image anyway, so the batch size
// matters little to the speed once the per-call work (packing the weights)
// is shared by a few images, while the memory grows with it: 50 images of
// 256×256 took 4.3 s and 4.1 GB in one piece, 4.0 to 4.5 s and 1.0 GB by
// 10, 4.2 s and 0.6 GB by 5, 5.2 s by 2 and 6.3 s one by one (2 cores;
// peak RSS of the process, 0.4 GB of it the weights and the images).
// PyTorch's forward of 50 peaked at 1.4 GB.
const featuresChunk = 10

// forward returns the outputs of pytorch-fid's four blocks on x: (N, 64,
// 73, 73), (N, 192, 35, 35), (N, 768, 17, 17) and the features (N, 2048).
func (m *Inception) forward(x *tensor.Tensor) [4]*tensor.Tensor {
	m.check(x)
	b := m.be
	x = b.ResizeBilinear(x, inputSize, inputSize)
	x = b.Scalar(tensor.Sub, b.Scalar(tensor.Mul, x, 2), 1)
	var outs [4]*tensor.Tensor
	for i, blocks := range m.blocks {
		for _, blk := range blocks {
			x = blk.apply(b, x)
		}
		outs[i] = x
	}
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	outs[3] = b.Scalar(tensor.Div, b.Reduce(tensor.Sum, x, []int{2, 3}), float64(h*w)).Reshape(n, c)
	return outs
}

// check panics unless x is a batch of RGB images in the network's dtype.
func (m *Inception) check(x *tensor.Tensor) {
	if x.Rank() != 4 || x.Dim(1) != 3 || x.DType() != m.dt {
		panic(fmt.Sprintf("fid: Inception features of a %s tensor %v (want %s (N, 3, H, W))", x.DType(), x.Shape(), m.dt))
	}
}

// The architecture as data. A block is a list of branches applied to the
// same input and concatenated along the channels, in order; a branch is an
// optional pool, then a chain of BasicConv2d, then optionally a fork of
// several BasicConv2d on the chain's output, concatenated (InceptionE's
// 1×3 and 3×1 pairs). The stem's convolutions and pools are blocks of one
// branch with an empty name.

// convSpec is one BasicConv2d: its name in the block, output channels,
// kernel, padding of the rows and of the columns, and stride.
type convSpec struct {
	name           string
	out            int
	kh, kw, ph, pw int
	stride         int
}

// same is a stride-1 BasicConv2d padded to keep the size, as every
// convolution inside the Mixed blocks (kernel (1, 7) pads (0, 3), and so
// on).
func same(name string, out, kh, kw int) convSpec {
	return convSpec{name: name, out: out, kh: kh, kw: kw, ph: kh / 2, pw: kw / 2, stride: 1}
}

// valid is an unpadded k×k BasicConv2d.
func valid(name string, out, k, stride int) convSpec {
	return convSpec{name: name, out: out, kh: k, kw: k, stride: stride}
}

// chain is a branch of BasicConv2d one after the other.
func chain(convs ...convSpec) branchSpec { return branchSpec{convs: convs} }

// pool is a branch's pooling of the block input.
type pool uint8

const (
	noPool pool = iota
	// avgSame is the FID blocks' F.avg_pool2d(x, 3, stride=1, padding=1,
	// count_include_pad=False).
	avgSame
	// maxSame is FIDInceptionE_2's F.max_pool2d(x, 3, stride=1, padding=1).
	maxSame
	// maxDown is F.max_pool2d(x, 3, stride=2) (InceptionB and D) and the
	// stem's nn.MaxPool2d(3, stride=2).
	maxDown
)

func (p pool) apply(b tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	switch p {
	case avgSame:
		return b.AvgPool2d(x, tensor.PoolParams{Kernel: 3, Stride: 1, Padding: 1, CountIncludePad: false})
	case maxSame:
		return b.MaxPool2d(x, tensor.PoolParams{Kernel: 3, Stride: 1, Padding: 1})
	case maxDown:
		return b.MaxPool2d(x, tensor.PoolParams{Kernel: 3, Stride: 2})
	}
	return x
}

// branchSpec is a branch: a pool of the block input (or none), a chain of
// BasicConv2d, and the BasicConv2d of the fork, if any.
type branchSpec struct {
	pool  pool
	convs []convSpec
	fork  []convSpec
}

// blockSpec is a block: its name, the prefix of its state-dict entries
// (empty in the stem), and its branches in the order of concatenation.
type blockSpec struct {
	name     string
	branches []branchSpec
}

// stem is one of the stem's BasicConv2d as a block.
func stem(c convSpec) blockSpec { return blockSpec{branches: []branchSpec{chain(c)}} }

// stemPool is the stem's max pool as a block.
func stemPool() blockSpec { return blockSpec{branches: []branchSpec{{pool: maxDown}}} }

// fidBlocks lists pytorch-fid's blocks 0 to 3, shapes and names as
// torchvision's inception.py (0.14) and pytorch-fid's FID blocks.
func fidBlocks() [4][]blockSpec {
	return [4][]blockSpec{
		{stem(valid("Conv2d_1a_3x3", 32, 3, 2)), stem(valid("Conv2d_2a_3x3", 32, 3, 1)),
			stem(same("Conv2d_2b_3x3", 64, 3, 3)), stemPool()},
		{stem(same("Conv2d_3b_1x1", 80, 1, 1)), stem(valid("Conv2d_4a_3x3", 192, 3, 1)), stemPool()},
		{inceptionA("Mixed_5b", 32), inceptionA("Mixed_5c", 64), inceptionA("Mixed_5d", 64),
			inceptionB("Mixed_6a"),
			inceptionC("Mixed_6b", 128), inceptionC("Mixed_6c", 160), inceptionC("Mixed_6d", 160), inceptionC("Mixed_6e", 192)},
		{inceptionD("Mixed_7a"), inceptionE("Mixed_7b", avgSame), inceptionE("Mixed_7c", maxSame)},
	}
}

// inceptionA is FIDInceptionA: 64 + 64 + 96 + poolFeatures channels.
func inceptionA(name string, poolFeatures int) blockSpec {
	return blockSpec{name, []branchSpec{
		chain(same("branch1x1", 64, 1, 1)),
		chain(same("branch5x5_1", 48, 1, 1), same("branch5x5_2", 64, 5, 5)),
		chain(same("branch3x3dbl_1", 64, 1, 1), same("branch3x3dbl_2", 96, 3, 3), same("branch3x3dbl_3", 96, 3, 3)),
		{pool: avgSame, convs: []convSpec{same("branch_pool", poolFeatures, 1, 1)}},
	}}
}

// inceptionB is torchvision's InceptionB (pytorch-fid keeps it): it halves
// the size, 384 + 96 + C channels.
func inceptionB(name string) blockSpec {
	return blockSpec{name, []branchSpec{
		chain(valid("branch3x3", 384, 3, 2)),
		chain(same("branch3x3dbl_1", 64, 1, 1), same("branch3x3dbl_2", 96, 3, 3), valid("branch3x3dbl_3", 96, 3, 2)),
		{pool: maxDown},
	}}
}

// inceptionC is FIDInceptionC with c7 = channels_7x7: 4 × 192 channels.
func inceptionC(name string, c7 int) blockSpec {
	return blockSpec{name, []branchSpec{
		chain(same("branch1x1", 192, 1, 1)),
		chain(same("branch7x7_1", c7, 1, 1), same("branch7x7_2", c7, 1, 7), same("branch7x7_3", 192, 7, 1)),
		chain(same("branch7x7dbl_1", c7, 1, 1), same("branch7x7dbl_2", c7, 7, 1), same("branch7x7dbl_3", c7, 1, 7),
			same("branch7x7dbl_4", c7, 7, 1), same("branch7x7dbl_5", 192, 1, 7)),
		{pool: avgSame, convs: []convSpec{same("branch_pool", 192, 1, 1)}},
	}}
}

// inceptionD is torchvision's InceptionD (pytorch-fid keeps it): it halves
// the size, 320 + 192 + C channels.
func inceptionD(name string) blockSpec {
	return blockSpec{name, []branchSpec{
		chain(same("branch3x3_1", 192, 1, 1), valid("branch3x3_2", 320, 3, 2)),
		chain(same("branch7x7x3_1", 192, 1, 1), same("branch7x7x3_2", 192, 1, 7), same("branch7x7x3_3", 192, 7, 1),
			valid("branch7x7x3_4", 192, 3, 2)),
		{pool: maxDown},
	}}
}

// inceptionE is FIDInceptionE_1 (pool avgSame) or FIDInceptionE_2 (pool
// maxSame): 320 + 2 × 384 + 2 × 384 + 192 = 2048 channels.
func inceptionE(name string, p pool) blockSpec {
	return blockSpec{name, []branchSpec{
		chain(same("branch1x1", 320, 1, 1)),
		{convs: []convSpec{same("branch3x3_1", 384, 1, 1)},
			fork: []convSpec{same("branch3x3_2a", 384, 1, 3), same("branch3x3_2b", 384, 3, 1)}},
		{convs: []convSpec{same("branch3x3dbl_1", 448, 1, 1), same("branch3x3dbl_2", 384, 3, 3)},
			fork: []convSpec{same("branch3x3dbl_3a", 384, 1, 3), same("branch3x3dbl_3b", 384, 3, 1)}},
		{pool: p, convs: []convSpec{same("branch_pool", 192, 1, 1)}},
	}}
}

// The network built from the specs and a state dict.
//
// Two rearrangements make it faster and change no value beyond float32
// rounding (the float64 golden test holds them to PyTorch's values within
// 2⁻²⁴):
//
//   - The 1×1 convolutions that read a block's input (branch1x1,
//     branch5x5_1, branch3x3dbl_1, …) run as one convolution, the block's
//     head, with their output channels stacked: one pass over the input
//     and one larger matrix product instead of three or four (measured 20
//     to 35% faster on these layers alone, batch 50, the slices included).
//     Each branch takes its channels of the head's output.
//   - The FID blocks' average pool, which does not count the padding,
//     commutes with the 1×1 convolution that follows it in branch_pool:
//     the pool mixes positions of one channel and the convolution channels
//     of one position, both linearly, and the pool's weights at every
//     position sum to 1, so the bias passes through it too:
//     avgpool(W·x + b) = W·avgpool(x) + b. So branch_pool's convolution is
//     part of the head, and the pool averages its 32 to 192 channels
//     instead of the block input's 192 to 1280 (measured 0.49 s → 0.19 s
//     of pooling per batch of 50). The ReLU still comes after the pool. A
//     max pool does not commute: Mixed_7c's branch_pool pools first.

// conv is one BasicConv2d with its batch norm folded in: y = ReLU(conv(x,
// w) + b), of which linear computes conv(x, w) + b.
type conv struct {
	w, b           *tensor.Tensor
	ph, pw, stride int
}

func (c *conv) linear(be tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	// Conv2d pads all four sides alike; a (0, 3) padding is the input padded
	// along the columns first.
	p := min(c.ph, c.pw)
	if c.ph != c.pw {
		x = be.Pad(x, []int{0, 0, c.ph - p, c.pw - p}, []int{0, 0, c.ph - p, c.pw - p})
	}
	return be.Conv2d(x, c.w, c.b, tensor.ConvParams{Stride: c.stride, Padding: p})
}

func relu(be tensor.Backend, x *tensor.Tensor) *tensor.Tensor { return be.Scalar(tensor.Maximum, x, 0) }

// branch is one branch of a block. A branch whose first convolution is in
// the block's head (hi > 0) starts from channels [lo, hi) of the head's
// output, before their pool and ReLU; convs are the rest of its chain.
type branch struct {
	pool        pool
	lo, hi      int
	convs, fork []*conv
}

// apply returns the branch's output for the block input x and the head's
// output h.
func (br *branch) apply(be tensor.Backend, x, h *tensor.Tensor) *tensor.Tensor {
	if br.hi > 0 {
		if br.lo > 0 || br.hi < h.Dim(1) {
			h = be.Slice(h, []int{0, br.lo, 0, 0}, []int{h.Dim(0), br.hi, h.Dim(2), h.Dim(3)})
		}
		x = relu(be, br.pool.apply(be, h))
	} else {
		x = br.pool.apply(be, x)
	}
	for _, c := range br.convs {
		x = relu(be, c.linear(be, x))
	}
	if len(br.fork) == 0 {
		return x
	}
	ys := make([]*tensor.Tensor, len(br.fork))
	for i, c := range br.fork {
		ys[i] = relu(be, c.linear(be, x))
	}
	return be.Concat(1, ys)
}

// mixed is a block: its head (nil when no branch starts with a 1×1
// convolution of the input), its branches and the channels they make
// together.
type mixed struct {
	head     *conv
	branches []*branch
	out      int
}

func (m *mixed) apply(be tensor.Backend, x *tensor.Tensor) *tensor.Tensor {
	var h *tensor.Tensor
	if m.head != nil {
		h = m.head.linear(be, x)
	}
	if len(m.branches) == 1 {
		return m.branches[0].apply(be, x, h)
	}
	ys := make([]*tensor.Tensor, len(m.branches))
	for i, br := range m.branches {
		ys[i] = br.apply(be, x, h)
	}
	return be.Concat(1, ys)
}

// loader builds the layers from a state dict and collects what is wrong
// with it.
type loader struct {
	sd       map[string]*tensor.Tensor
	be       tensor.Backend
	dt       tensor.DType
	problems []string
}

func (ld *loader) err(source string) error {
	if len(ld.problems) == 0 {
		return nil
	}
	const show = 8
	list := ld.problems
	if len(list) > show {
		list = append(list[:show:show], fmt.Sprintf("… %d more", len(ld.problems)-show))
	}
	return fmt.Errorf("fid: %s: not pytorch-fid's Inception-v3 state dict (%s): %d problems: %s",
		source, InceptionWeightsFile, len(ld.problems), strings.Join(list, "; "))
}

// mixed builds block s on in input channels.
func (ld *loader) mixed(s blockSpec, in int) *mixed {
	m := &mixed{}
	var heads []*conv // the first convolutions of the branches that start in the head
	headOut := 0      // their output channels so far
	for _, bs := range s.branches {
		br := &branch{pool: bs.pool}
		c := in
		for _, cs := range bs.convs {
			br.convs = append(br.convs, ld.conv(s.name, cs, c))
			c = cs.out
		}
		if startsInHead(bs) {
			br.lo, br.hi = headOut, headOut+bs.convs[0].out
			headOut = br.hi
			heads = append(heads, br.convs[0])
			br.convs = br.convs[1:]
		}
		if len(bs.fork) > 0 {
			forked := 0
			for _, cs := range bs.fork {
				br.fork = append(br.fork, ld.conv(s.name, cs, c))
				forked += cs.out
			}
			c = forked
		}
		m.branches = append(m.branches, br)
		m.out += c
	}
	if len(heads) > 0 {
		m.head = ld.stack(heads)
	}
	return m
}

// startsInHead says whether a branch's first convolution joins the block's
// head: a 1×1 convolution of the block input or of its average pool.
func startsInHead(bs branchSpec) bool {
	if len(bs.convs) == 0 || (bs.pool != noPool && bs.pool != avgSame) {
		return false
	}
	c := bs.convs[0]
	return c.kh == 1 && c.kw == 1 && c.stride == 1
}

// stack returns 1×1 convolutions of one input as one, their output
// channels stacked in order (nil if one of them could not be built).
func (ld *loader) stack(cs []*conv) *conv {
	if len(cs) == 1 {
		return cs[0]
	}
	ws, bs := make([]*tensor.Tensor, len(cs)), make([]*tensor.Tensor, len(cs))
	for i, c := range cs {
		if c == nil {
			return nil
		}
		ws[i], bs[i] = c.w, c.b
	}
	return &conv{w: ld.be.Concat(0, ws), b: ld.be.Concat(0, bs), stride: 1}
}

// conv builds BasicConv2d s of block (empty for the stem) on in input
// channels, folding its batch norm into the convolution in float64:
//
//	w' = w·γ/√(var + eps),  b' = β − mean·γ/√(var + eps)
func (ld *loader) conv(block string, s convSpec, in int) *conv {
	prefix := s.name
	if block != "" {
		prefix = block + "." + s.name
	}
	w := ld.tensor(prefix+".conv.weight", tensor.Shape{s.out, in, s.kh, s.kw})
	var bn [4][]float64
	for i, n := range [4]string{"weight", "bias", "running_mean", "running_var"} {
		bn[i] = ld.tensor(prefix+".bn."+n, tensor.Shape{s.out})
	}
	if w == nil || bn[0] == nil || bn[1] == nil || bn[2] == nil || bn[3] == nil {
		return nil // the loader reports the problem; the network is not built
	}
	gamma, beta, mean, variance := bn[0], bn[1], bn[2], bn[3]
	k := len(w) / s.out
	bias := make([]float64, s.out)
	for o := range s.out {
		scale := gamma[o] / math.Sqrt(variance[o]+bnEps)
		for i := range w[o*k : (o+1)*k] {
			w[o*k+i] *= scale
		}
		bias[o] = beta[o] - mean[o]*scale
	}
	return &conv{
		w:  ld.be.FromHost(tensor.FromValues(ld.dt, w, s.out, in, s.kh, s.kw)),
		b:  ld.be.FromHost(tensor.FromValues(ld.dt, bias, s.out)),
		ph: s.ph, pw: s.pw, stride: s.stride,
	}
}

// tensor returns the values of entry name, or nil after noting that it is
// missing or not of shape want.
func (ld *loader) tensor(name string, want tensor.Shape) []float64 {
	t, ok := ld.sd[name]
	switch {
	case !ok:
		ld.problems = append(ld.problems, name+" missing")
		return nil
	case !t.Shape().Equal(want):
		ld.problems = append(ld.problems, fmt.Sprintf("%s is %v, want %v", name, t.Shape(), want))
		return nil
	}
	return t.Values()
}
