// Package gradcam computes differentiable GradCAM maps of generator layers
// and the attention-consistency loss (docs/method.md §3).
//
// # GradCAM on a generator
//
// GradCAM (Selvaraju et al., 2017) explains a classifier's score s by the
// activations A (C×H×W) of one of its layers: each channel k gets the weight
//
//	w_k = (1/HW) Σ_ij ∂s/∂A_kij
//
// and the map is cam = ReLU(Σ_k w_k A_k). A generator has no class score, so,
// as the thesis does, the discriminator plays the classifier: s is the mean
// of all elements of D(G(x)), and A is the output of a layer of G (for a
// residual block, after the residual sum). Each map is then scaled per image
// to [0, 1]: (cam − min)/(max − min + 1e-8), at the layer's own resolution
// (no upsampling). layers.Sequential.Capture runs a generator and keeps the
// outputs of the chosen layers; Maps turns a score and those outputs into
// maps.
//
// # One backward pass for all layers
//
// The thesis ran one backward pass per layer. Maps asks autograd.Grad for
// ∂s/∂A of every chosen layer at once: a single reverse sweep from s back to
// the earliest chosen layer delivers them all, so four layers cost about as
// much as the earliest one alone.
//
// # The attention loss and its three orders
//
// With cam_GA(x) the map of G_A scored by D_A and cam_GB(y) the map of G_B
// scored by D_B, layers S and weights ω_ℓ (Σ ω_ℓ = 1):
//
//	L_att = λ_att Σ_ℓ ω_ℓ [ MSE(cam_GA^ℓ(real_A), cam_GB^ℓ(fake_B))
//	                      + MSE(cam_GB^ℓ(real_B), cam_GA^ℓ(fake_A)) ]
//
// The maps depend on the generator's parameters twice: through A, and
// through w, which is itself a gradient. Differentiating L_att therefore
// means differentiating a gradient: the second order. Order says how much of
// that is kept:
//
//   - Second (order 2, the default): w is computed with createGraph, so it
//     stays a function of the parameters and L_att's gradient includes
//     ∂w/∂θ, a gradient of a gradient. autograd gives this for free: every
//     backward rule is written with differentiable ops.
//   - First (order 1): w is computed without a graph and treated as a
//     constant; the gradient flows through A only. Cheaper, and a different
//     gradient.
//   - None (order 0): what the thesis' code did (it built the maps from
//     .cpu().data copies): the maps are constants, so L_att is logged but
//     trains nothing.
//
// The discriminators are frozen during the generator step
// (autograd.SetRequiresGrad(false)): gradients flow through them to the
// generators, and never reach their parameters.
//
// # Cost
//
// The training iteration already runs G_A(real_A) → fake_B → G_B → rec_A,
// G_B(real_B) → fake_A → G_A → rec_B, and D_A(fake_B), D_B(fake_A) for the
// GAN loss. Attention.Loss reuses all of these (Inputs carries the captured
// activations and predictions): it adds two discriminator passes, D_B(rec_A)
// and D_A(rec_B), and one backward sweep through the generator's tail (from
// the earliest chosen layer to the output) and the discriminator per map
// set, four in all. At order 2 those sweeps record a graph, and the final
// backward walks it again (roughly twice the sweep's cost). Deeper layers
// have shorter tails: block 18 is cheaper than block 10, and four layers
// including block 10 cost about as much as all nine. At full size (256×256,
// ngf 64, 9 blocks, 2 CPU cores) an order-2 iteration with block 18 took
// 1.12× the standard one, with all nine blocks 1.72–1.75×; PyTorch, timed
// in the same runs, 1.15–1.21× and 1.64–1.79× (docs/benchmarks.md).
// cyclegan's BenchmarkStep times the same on a small network.
//
// # Names
//
// Code names follow pytorch-CycleGAN-and-pix2pix; the paper (Zhu et al.
// 2017) calls them differently:
//
//	G_A = G   (A → B)         D_A = D_Y (judges domain-B images)
//	G_B = F   (B → A)         D_B = D_X (judges domain-A images)
//
// Layers are named by their index in the generator's Sequential
// (docs/method.md §1): with 9 residual blocks they are 10 … 18, and the
// thesis' default layer is 18, the last block.
//
// # Options
//
// Options are typed values: a Layers selection ("18", "10,14,15,18", "all",
// "last"), Weights, λ_att, a Direction, Detach and an Order. Layers,
// Weights, Order and Direction are flag.Values, so a command line parses
// its text once, into the field; New checks what needs the generator (is
// each layer inside it, are there as many weights as layers) and returns
// the Attention.
package gradcam
