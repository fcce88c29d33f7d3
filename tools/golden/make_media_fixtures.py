"""Reference numbers for hyv-media's tests, from OpenCV and NumPy.

Writes media/tests/data/cv2_resize_cubic.txt (cv2.resize INTER_CUBIC outputs, plus one
resize-shortest-side + center-crop case as albumentations' SmallestMaxSize + CenterCrop
computes it) and prints the PSNR/SSIM constants used in media/tests/metrics.rs, computed the
way mindone's scripts/eval (cal_psnr.py / cal_ssim.py) does: per frame on float32 [0, 1]
values, SSIM per channel with an 11x11 Gaussian window (sigma 1.5), 'valid' crop, channels and
frames averaged.

The synthetic images are defined by `noise` and `metric_pair` below; media/tests/ rebuilds
the same pixels in Rust.

Run: tools/golden/make_media_fixtures.sh
"""

import sys
from pathlib import Path

import cv2
import numpy as np


def noise(index, seed):
    """A byte per element index: Knuth's multiplicative hash, top 8 bits of 32."""
    return (((index + seed) * 2654435761) % 2**32) >> 24


def noise_image(h, w, seed):
    idx = np.arange(h * w * 3, dtype=np.uint64)
    return ((((idx + seed) * 2654435761) % 2**32) >> 24).astype(np.uint8).reshape(h, w, 3)


def cover_size(h, w, ch, cw):
    scale = max(ch / h, cw / w)
    return max(round(h * scale), ch), max(round(w * scale), cw)


RESIZE_CASES = [
    # (src_h, src_w, dst_h, dst_w, seed)
    (48, 64, 24, 32, 1),
    (37, 53, 20, 29, 2),
    (16, 24, 40, 61, 3),
    (30, 30, 30, 45, 4),
]
CROP_CASES = [
    # (src_h, src_w, crop_h, crop_w, seed)
    (60, 80, 32, 32, 5),
    (80, 50, 24, 40, 6),
]


def write_resize(path):
    lines = ["# cv2.resize(INTER_CUBIC) of noise images; made by tools/golden/make_media_fixtures.py",
             f"# opencv {cv2.__version__}, numpy {np.__version__}",
             "# resize SRC_H SRC_W DST_H DST_W SEED HEX | crop SRC_H SRC_W CROP_H CROP_W SEED HEX"]
    for sh, sw, dh, dw, seed in RESIZE_CASES:
        out = cv2.resize(noise_image(sh, sw, seed), (dw, dh), interpolation=cv2.INTER_CUBIC)
        lines.append(f"resize {sh} {sw} {dh} {dw} {seed} {out.tobytes().hex()}")
    for sh, sw, ch, cw, seed in CROP_CASES:
        nh, nw = cover_size(sh, sw, ch, cw)
        out = cv2.resize(noise_image(sh, sw, seed), (nw, nh), interpolation=cv2.INTER_CUBIC)
        top, left = (nh - ch) // 2, (nw - cw) // 2
        out = np.ascontiguousarray(out[top:top + ch, left:left + cw])
        lines.append(f"crop {sh} {sw} {ch} {cw} {seed} {out.tobytes().hex()}")
    path.write_text("\n".join(lines) + "\n")


def metric_pair(t, h, w):
    """Clip A (a smooth ramp with texture) and B (A plus bounded noise), uint8 [T, H, W, 3]."""
    a = np.zeros((t, h, w, 3), np.uint8)
    b = np.zeros((t, h, w, 3), np.uint8)
    for ti in range(t):
        for y in range(h):
            for x in range(w):
                for c in range(3):
                    i = ((ti * h + y) * w + x) * 3 + c
                    va = (x * 8 + y * 5 + ti * 20 + c * 40 + noise(i, 7) % 32) % 256
                    vb = min(max(va + noise(i, 11) % 21 - 10, 0), 255)
                    a[ti, y, x, c], b[ti, y, x, c] = va, vb
    return a, b


def to_unit(clip):
    # What the reference dataset hands to the metrics: [T, C, H, W] float32 in [0, 1].
    return (clip.transpose(0, 3, 1, 2) / 255.0).astype(np.float32)


def psnr_frame(x, y):
    mse = np.mean((x / 1.0 - y / 1.0) ** 2)
    return 100.0 if mse < 1e-10 else 20 * np.log10(1 / np.sqrt(mse))


def ssim_channel(x, y):
    c1, c2 = 0.01**2, 0.03**2
    x, y = x.astype(np.float64), y.astype(np.float64)
    k = cv2.getGaussianKernel(11, 1.5)
    win = np.outer(k, k.transpose())

    def f(img):
        return cv2.filter2D(img, -1, win)[5:-5, 5:-5]

    m1, m2 = f(x), f(y)
    s1, s2, s12 = f(x * x) - m1**2, f(y * y) - m2**2, f(x * y) - m1 * m2
    num = (2 * m1 * m2 + c1) * (2 * s12 + c2)
    den = (m1**2 + m2**2 + c1) * (s1 + s2 + c2)
    return (num / den).mean()


def metrics(a, b):
    ua, ub = to_unit(a), to_unit(b)
    psnr = [psnr_frame(ua[t], ub[t]) for t in range(len(ua))]
    ssim = [np.mean([ssim_channel(ua[t][c], ub[t][c]) for c in range(3)]) for t in range(len(ua))]
    return psnr, ssim


def main():
    root = Path(__file__).resolve().parents[2]
    out = root / "media" / "tests" / "data" / "cv2_resize_cubic.txt"
    write_resize(out)
    print(f"wrote {out.relative_to(root)}", file=sys.stderr)
    a, b = metric_pair(3, 24, 32)
    psnr, ssim = metrics(a, b)
    print("metric pair T=3 H=24 W=32")
    print("psnr per frame:", [repr(float(v)) for v in psnr], "mean", repr(float(np.mean(psnr))))
    print("ssim per frame:", [repr(float(v)) for v in ssim], "mean", repr(float(np.mean(ssim))))


if __name__ == "__main__":
    main()
