// Package checkpoint saves and loads network weights.
//
// The project's own format is safetensors (https://huggingface.co/docs/safetensors),
// chosen because it is simple enough to read in a page of code and safe to
// open (it is data, not a program):
//
//	8 bytes    little-endian uint64 N, the length of the header
//	N bytes    a JSON object, padded with spaces:
//	           {"__metadata__": {"key": "value", …},
//	            "model.1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7], "data_offsets": [0, 37632]}, …}
//	the rest   the tensors' raw little-endian bytes, row-major, one after the
//	           other; data_offsets are [begin, end) byte positions in it
//
// Save writes such a file, Load and LoadOrdered read one and check every
// offset, and the tensor names are PyTorch's state-dict names
// ("model.10.conv_block.1.weight"), so that a checkpoint maps one to one onto
// a PyTorch state dict. StateDict lists a network's parameters for Save;
// LoadParams copies tensors back into the parameters after checking every
// name and shape first, so that a checkpoint that does not fit changes
// nothing.
//
// LoadPth imports PyTorch's own .pth files, in both the zip format of
// torch ≥ 1.6 and the older "legacy" format of the published
// pytorch-CycleGAN-and-pix2pix models, without Python: the pickle inside is
// read by github.com/nlpodyssey/gopickle. LoadStateDict reads either kind of
// file, telling them apart by content, and LoadNetwork loads one into a
// network's parameters.
//
// Every file is written by WriteFileAtomic: into a temporary file in the
// same folder, flushed to disk, then renamed over the old one. A crash or an
// error part-way leaves the previous checkpoint as it was.
package checkpoint
