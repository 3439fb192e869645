// Package fid computes the evaluation metrics of image translation: the
// Fréchet inception distance (FID) and the kernel inception distance (KID)
// between the Inception-v3 features of two image sets, e.g. the translated
// test images and the real images of the target domain. Lower is better
// for both.
//
// FID (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
// Converge to a Local Nash Equilibrium", NeurIPS 2017) fits a Gaussian to
// each feature set and takes the Fréchet distance between the two,
//
//	‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr √(Σ₁Σ₂),
//
// as the pytorch-fid package computes it: means and unbiased covariances in
// float64 as numpy's np.mean and np.cov, and statistics files in its .npz
// format, which either tool reads from the other. FID is biased upward,
// the more so the smaller the sets, so figures compare only at one set size.
//
// KID (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018) is an unbiased
// estimate of the squared maximum mean discrepancy between the feature
// distributions with the polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged
// over random subsets, as torch-fidelity computes it. The attention-guided
// translation papers report it ×100 in their tables (mean ± standard
// deviation over the subsets).
//
// The files:
//
//	stats.go      Stats (mean, covariance), NewStats from features, Frechet
//	npz.go        ReadStats and Stats.WriteNPZ: pytorch-fid's .npz statistics files
//	kid.go        KID with KIDOptions
//	inception.go  the FID Inception-v3 network, which gives the 2048 features
//	images.go     the features of a set of pictures, batch by batch (FeaturesOf),
//	              and where pytorch-fid keeps its weights (DefaultWeightsPath)
//
// The linear algebra is gonum's (gonum.org/v1/gonum/mat), pure Go like the
// rest of the project.
package fid
