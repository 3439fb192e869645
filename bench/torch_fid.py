"""Times PyTorch's FID feature extraction, as pytorch-fid runs it, for comparison with cyclegan/fid.

The workload of one FID between two image sets of 120 and 140 images of 256x256
(the thesis' test sets' sizes): pytorch-fid's get_activations on each set in
batches of 50 (so batches of 50, 50, 20 and 50, 50, 40), each batch through the
InceptionV3 wrapper (bilinear resize to 299x299, 2x - 1, the FID Inception-v3 up to
its 2048-d pool features) under torch.no_grad(), features copied out as NumPy. The
network is testdata/gen_fid_inception_golden.py's, pytorch-fid's code, with the
weights of that script's formula (the real ones are not needed for timing: the same
shapes, and activations of the same scale). The images are uniform random values
in [0, 1]; decoding and the statistics (mean, covariance, matrix square root) are
not timed.

It prints one JSON line: the seconds of the whole workload (median over --reps
after one untimed warm-up batch), images per second, and the seconds of one
batch of 50.

Run with Debian's PyTorch:  /usr/bin/python3 bench/torch_fid.py --threads 2
The Go side:  GOMAXPROCS=2 go test ./cyclegan/fid -run '^$' -bench Features -benchtime 3x

With --paths DIR1 DIR2 it runs instead the whole of `python -m pytorch_fid DIR1 DIR2`
on the same formula weights, as pytorch-fid 0.3.0's calculate_fid_given_paths does it:
the image files directly in each folder, opened with PIL and converted to RGB,
ToTensor, a DataLoader of batches of 50 with min(CPUs, 8) workers, the features, their
mean and covariance (np.mean, np.cov) and the Frechet distance by
scipy.linalg.sqrtm (with pytorch-fid's eps fallback), printing "FID:  value". That is
the process `cyclegan fid -weights W DIR1 DIR2` is timed against, W being the same
formula weights saved as .safetensors.
"""

import argparse
import importlib.util
import json
import os
import statistics
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "testdata", "gen_fid_inception_golden.py")


def golden_script():
    spec = importlib.util.spec_from_file_location("gen_fid_inception_golden", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


IMAGE_EXTENSIONS = {"bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp"}


def fid_of_paths(model, paths, batch):
    """pytorch-fid's calculate_fid_given_paths on an already built model."""
    import numpy as np
    import pathlib
    from PIL import Image
    from scipy import linalg
    import torchvision.transforms as TF

    class Files(torch.utils.data.Dataset):
        def __init__(self, files):
            self.files = files

        def __len__(self):
            return len(self.files)

        def __getitem__(self, i):
            return TF.ToTensor()(Image.open(self.files[i]).convert("RGB"))

    def stats(path):
        path = pathlib.Path(path)
        files = sorted(f for ext in IMAGE_EXTENSIONS for f in path.glob("*.{}".format(ext)))
        workers = min(len(os.sched_getaffinity(0)), 8)
        loader = torch.utils.data.DataLoader(Files(files), batch_size=batch, shuffle=False, drop_last=False,
                                             num_workers=workers)
        act = np.empty((len(files), 2048))
        start = 0
        for x in loader:
            with torch.no_grad():
                pred = model(x)[0]
            pred = pred.squeeze(3).squeeze(2).cpu().numpy()
            act[start:start + pred.shape[0]] = pred
            start += pred.shape[0]
        return np.mean(act, axis=0), np.cov(act, rowvar=False)

    (mu1, s1), (mu2, s2) = stats(paths[0]), stats(paths[1])
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", nargs=2, help="run pytorch-fid's whole FID between these folders instead")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--sets", default="120,140", help="image counts of the two sets")
    ap.add_argument("--size", type=int, default=256, help="image size before the resize to 299")
    ap.add_argument("--batch", type=int, default=50, help="pytorch-fid's --batch-size")
    ap.add_argument("--reps", type=int, default=3, help="timed runs of the whole workload")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    g = golden_script()
    inception = g.fid_inception_v3()
    inception.load_state_dict(g.fill(inception.state_dict()))
    model = g.InceptionV3(inception, output_blocks=(3,)).eval()
    if args.paths:
        print("FID: ", fid_of_paths(model, args.paths, args.batch))
        return

    gen = torch.Generator().manual_seed(0)
    sets = [torch.rand(int(n), 3, args.size, args.size, generator=gen) for n in args.sets.split(",")]

    def activations(images):
        out = []
        for start in range(0, len(images), args.batch):
            with torch.no_grad():
                pred = model(images[start:start + args.batch])[0]
            out.append(pred.squeeze(3).squeeze(2).cpu().numpy())
        return out

    with torch.no_grad():
        model(sets[0][:args.batch])  # warm-up
    t0 = time.perf_counter()
    with torch.no_grad():
        model(sets[0][:args.batch])
    batch_s = time.perf_counter() - t0

    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for s in sets:
            activations(s)
        times.append(time.perf_counter() - t0)
    n = sum(len(s) for s in sets)
    med = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "workload": "fid_features", "images": n, "size": args.size,
                      "batch": args.batch, "threads": torch.get_num_threads(), "median_s": round(med, 3),
                      "min_s": round(min(times), 3), "max_s": round(max(times), 3),
                      "images_per_s": round(n / med, 2), "batch50_s": round(batch_s, 3),
                      "version": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
