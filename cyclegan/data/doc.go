// Package data turns image files into tensors for CycleGAN: reading and
// writing images, the unaligned two-domain data set, and a small synthetic
// data set to train on when no other is given.
//
// Images follow pytorch-CycleGAN-and-pix2pix, which uses PIL and
// torchvision:
//
//	read        ReadImage: JPEG, PNG, BMP or TIFF, converted to RGB as PIL's convert('RGB');
//	            JPEG colour is upsampled and converted as libjpeg does (jpeg.go)
//	resize      Resize: bicubic, Keys' a = −0.5 (golang.org/x/image/draw's
//	            CatmullRom, which is PIL's BICUBIC), antialiased when shrinking
//	crop, flip  a random CropSize window and a random horizontal flip (training only)
//	to tensor   ImageToTensor: (1, 3, H, W) float32, x = (v/255 − 0.5)/0.5 ∈ [−1, 1]
//	            (ImageToUnitTensor: v/255 ∈ [0, 1], the FID network's input)
//	back        TensorToImage, SavePNG: v = ⌊(x + 1)/2 · 255⌋, as util.tensor2im
//
// The unaligned data set (Open) reads DATAROOT/trainA and DATAROOT/trainB
// (testA, testB for Phase "test"): two unrelated, sorted lists of images. An
// epoch visits max(|A|, |B|) items; item i pairs A in shuffled order with a
// random B. Every random choice of an epoch — the order, the B partners, the
// crops and flips — is made up front by Epoch from a source seeded with
// (Seed, epoch), so that an epoch is a pure function of those two numbers and
// a run resumed at any iteration sees exactly what an uninterrupted run
// would. Load then reads a Pair's two files and applies its transforms.
//
// WriteSynthetic writes a data set in the same layout: A holds plain
// orange shapes, B the same kinds of shapes filled with stripes, a task a
// small CycleGAN learns in minutes on a CPU; its test images come with
// their truth (each shape in the other domain's style) and masks, against
// which ScoreTruth scores translations.
package data
