#!/usr/bin/python3
"""Writes the golden files of the FID and KID statistics tests (testdata/fid/).

Run with Debian's numpy and scipy:  /usr/bin/python3 testdata/gen_fid_stats_golden.py
Check a statistics file that the Go code wrote:
                                    /usr/bin/python3 testdata/gen_fid_stats_golden.py --check FILE

  features.npz   three pairs of feature sets x_<case>, y_<case> (float32, as
                 Inception gives them) and numpy's statistics of each,
                 mu_x_<case> = np.mean(x, axis=0) and sigma_x_<case> =
                 np.cov(x, rowvar=False) (float64), as pytorch-fid's
                 calculate_activation_statistics computes them:
                   small     60×32 vs 50×32  (N > D: full-rank covariances)
                   rankdef   20×48 vs 24×48  (N < D: ranks 19 and 23, the
                             situation of 120 test images and 2048 features)
                   wellcond  400×8 vs 300×8  (well-conditioned covariances)
  golden.json    for every case: the FID by pytorch-fid 0.3.0's
                 calculate_frechet_distance (reimplemented below line for line:
                 scipy.linalg.sqrtm of sigma1·sigma2, the eps·I fallback when
                 the result is not finite, the imaginary-part check), whether
                 the fallback ran, the largest imaginary part it dropped; and an
                 exact FID whose trace term is computed without a matrix square
                 root: Tr √(Σ_x Σ_y) is the sum of the singular values of
                 X_c Y_cᵀ / √((N_x−1)(N_y−1)) for the centred features X_c, Y_c,
                 a small well-conditioned SVD.
                 For KID: subsets of the "small" case (indices drawn here by
                 numpy without replacement), the unbiased MMD² of each subset
                 pair with the kernel k(x, y) = (xᵀy/d + 1)³, and their mean and
                 standard deviation (np.std, ddof 0), as torch-fidelity's
                 kid_features_to_metric computes them.
  npz/*.npz      statistics files for the reader: written with np.savez_compressed
                 (pytorch-fid's save_fid_stats) and np.savez, float64 and float32,
                 .npy format versions 1.0, 2.0 and 3.0, with and without the extra
                 `features` array, and broken ones (a key missing, wrong shapes,
                 Fortran order, an integer and a big-endian dtype, not a zip).
                 The values follow formulas that the Go test recomputes:
                 mu[i] = i/4 − 1, sigma[i][j] = 1/(1 + i + j) (a Hilbert
                 matrix, symmetric), features[n][i] = n − i/2.

The outputs are the same bytes on every run on one machine; another CPU or
LAPACK changes the last bits of the FID values (the Go test's tolerances are
far wider).
"""
import io
import json
import os
import sys
import zipfile

import numpy as np
import scipy
from scipy import linalg

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fid")
CASES = {"small": (60, 50, 32), "rankdef": (20, 24, 48), "wellcond": (400, 300, 8)}
KID_CASE, KID_SUBSETS, KID_SIZE = "small", 4, 25


def features(rng, n, d, mix, shift):
    """Inception-like features: non-negative, correlated, float32."""
    z = rng.standard_normal((n, d)) @ mix + shift
    return np.maximum(z, 0.0).astype(np.float32)


def frechet_pytorch_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid 0.3.0's calculate_frechet_distance, with what it did reported."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    assert mu1.shape == mu2.shape
    assert sigma1.shape == sigma2.shape
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    fallback = False
    if not np.isfinite(covmean).all():
        fallback = True  # "fid calculation produces singular product; adding eps to diagonal"
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    imag = 0.0
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component {}".format(np.max(np.abs(covmean.imag))))
        imag = float(np.max(np.abs(covmean.imag)))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    fid = diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    return float(fid), fallback, imag


def frechet_exact(x, y):
    """The FID of the feature sets with Tr √(Σ_x Σ_y) from the singular values of X_c Y_cᵀ."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    s = np.linalg.svd(xc @ yc.T, compute_uv=False)
    tr_sqrt = s.sum() / np.sqrt((len(x) - 1) * (len(y) - 1))
    diff = x.mean(axis=0) - y.mean(axis=0)
    tr_x = (xc * xc).sum() / (len(x) - 1)
    tr_y = (yc * yc).sum() / (len(y) - 1)
    return float(diff.dot(diff) + tr_x + tr_y - 2 * tr_sqrt)


def poly_mmd2(x, y):
    """Unbiased MMD² with k(x, y) = (xᵀy/d + 1)³, as torch-fidelity's mmd2 sums it."""
    m, d = x.shape
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    kt_xx = (k_xx.sum(axis=1) - np.diagonal(k_xx)).sum()
    kt_yy = (k_yy.sum(axis=1) - np.diagonal(k_yy)).sum()
    return float((kt_xx + kt_yy) / (m * (m - 1)) - 2 * k_xy.sum(axis=0).sum() / (m * m))


def write_golden():
    rng = np.random.default_rng(20170626)
    arrays, golden = {}, {"versions": {"numpy": np.__version__, "scipy": scipy.__version__}, "cases": {}}
    for name, (nx, ny, d) in CASES.items():
        if name == "wellcond":
            mix_x = np.eye(d) + 0.1 * rng.standard_normal((d, d))
            mix_y = np.eye(d) + 0.1 * rng.standard_normal((d, d))
        else:
            mix_x = rng.standard_normal((d, d)) / np.sqrt(d)
            mix_y = mix_x + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d)
        x = features(rng, nx, d, mix_x, 0.5)
        y = features(rng, ny, d, mix_y, 0.7)
        stats = {}
        for key, a in (("x", x), ("y", y)):
            act = a.astype(np.float64)  # pytorch-fid's pred_arr is float64
            stats[key] = (np.mean(act, axis=0), np.cov(act, rowvar=False))
            arrays[f"{key}_{name}"] = a
            arrays[f"mu_{key}_{name}"], arrays[f"sigma_{key}_{name}"] = stats[key]
        fid, fallback, imag = frechet_pytorch_fid(*stats["x"], *stats["y"])
        golden["cases"][name] = {
            "rank_x": int(np.linalg.matrix_rank(stats["x"][1])),
            "rank_y": int(np.linalg.matrix_rank(stats["y"][1])),
            "fid_pytorch_fid": fid, "eps_fallback": fallback, "max_imag_dropped": imag,
            "fid_exact": frechet_exact(x, y),
        }

    x, y = arrays[f"x_{KID_CASE}"].astype(np.float64), arrays[f"y_{KID_CASE}"].astype(np.float64)
    idx_x = [rng.choice(len(x), KID_SIZE, replace=False).tolist() for _ in range(KID_SUBSETS)]
    idx_y = [rng.choice(len(y), KID_SIZE, replace=False).tolist() for _ in range(KID_SUBSETS)]
    mmds = np.array([poly_mmd2(x[i], y[j]) for i, j in zip(idx_x, idx_y)])
    golden["kid"] = {"case": KID_CASE, "idx_x": idx_x, "idx_y": idx_y, "mmd2": mmds.tolist(),
                     "mean": float(np.mean(mmds)), "std": float(np.std(mmds))}

    os.makedirs(HERE, exist_ok=True)
    np.savez_compressed(os.path.join(HERE, "features.npz"), **arrays)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    for name, c in golden["cases"].items():
        print(f"{name}: ranks {c['rank_x']}, {c['rank_y']}; fallback {c['eps_fallback']}; "
              f"pytorch-fid {c['fid_pytorch_fid']!r}, exact {c['fid_exact']!r}, "
              f"relative difference {abs(c['fid_pytorch_fid'] / c['fid_exact'] - 1):.2e}")


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


def write_zip(path, members):
    """A .npz of the given .npy members, with numpy's fixed timestamp, so that runs give equal bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def write_npz_fixtures():
    d, n = 4, 3
    i = np.arange(d, dtype=np.float64)
    mu = i / 4 - 1
    sigma = 1 / (1 + i[:, None] + i[None, :])
    feats = (np.arange(n)[:, None] - i[None, :] / 2).astype(np.float32)
    out = os.path.join(HERE, "npz")
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)  # noqa: E731
    np.savez_compressed(p("compressed_f64.npz"), mu=mu, sigma=sigma)  # pytorch-fid's save_fid_stats
    np.savez(p("stored_f32.npz"), mu=mu.astype(np.float32), sigma=sigma.astype(np.float32))
    np.savez_compressed(p("features.npz"), mu=mu, sigma=sigma, features=feats)
    write_zip(p("npy_v2_v3.npz"), {"mu.npy": npy_bytes(mu, (2, 0)), "sigma.npy": npy_bytes(sigma, (3, 0))})
    # broken files
    np.savez_compressed(p("missing_sigma.npz"), mu=mu)
    np.savez_compressed(p("sigma_not_square.npz"), mu=mu, sigma=sigma[:, :3])
    np.savez_compressed(p("mu_wrong_length.npz"), mu=mu[:3], sigma=sigma)
    np.savez_compressed(p("features_wrong_width.npz"), mu=mu, sigma=sigma, features=feats[:, :3])
    np.savez_compressed(p("fortran.npz"), mu=mu, sigma=np.asfortranarray(sigma + np.eye(d)))
    np.savez_compressed(p("int_mu.npz"), mu=np.arange(d), sigma=sigma)
    np.savez_compressed(p("big_endian.npz"), mu=mu.astype(">f8"), sigma=sigma)
    asym = sigma.copy()
    asym[0, 1] += 0.5
    np.savez_compressed(p("sigma_not_symmetric.npz"), mu=mu, sigma=asym)
    with open(p("not_a_zip.npz"), "w") as f:
        f.write("mu and sigma are not in here\n")


def check(path):
    """Loads a statistics file as pytorch-fid does and checks it against numpy's own reading."""
    with np.load(path) as f:
        keys = sorted(f.files)
        m, s = f["mu"][:], f["sigma"][:]  # compute_statistics_of_path
        feats = f["features"][:] if "features" in f.files else None
    with zipfile.ZipFile(path) as z:
        methods = {i.filename: i.compress_type for i in z.infolist()}
    assert m.dtype == np.float64 and s.dtype == np.float64, (m.dtype, s.dtype)
    assert m.ndim == 1 and s.shape == (len(m), len(m)), (m.shape, s.shape)
    assert np.array_equal(s, s.T), "sigma is not symmetric"
    assert all(c == zipfile.ZIP_DEFLATED for c in methods.values()), methods
    print(f"{path}: keys {keys}, mu {m.shape} {m.dtype}, sigma {s.shape} {s.dtype}, all members deflated")
    print(f"  mu[:3] = {m[:3].tolist()}, trace(sigma) = {np.trace(s)!r}")
    if feats is not None:
        assert feats.dtype == np.float32 and feats.ndim == 2 and feats.shape[1] == len(m), feats.shape
        mu, sigma = np.mean(feats.astype(np.float64), axis=0), np.cov(feats.astype(np.float64), rowvar=False)
        print(f"  features {feats.shape} {feats.dtype}; their numpy statistics against the stored ones: "
              f"max |Δmu| {np.abs(mu - m).max():.1e}, max |Δsigma| {np.abs(sigma - s).max():.1e}")
    fid, fallback, _ = frechet_pytorch_fid(m, s, m, s)
    print(f"  pytorch-fid's FID of the file against itself: {fid:.3e} (eps fallback {fallback})")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    write_golden()
    write_npz_fixtures()


if __name__ == "__main__":
    main()
