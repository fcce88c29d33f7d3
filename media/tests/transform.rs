//! The bicubic resize and center crop against OpenCV's `cv2.resize(INTER_CUBIC)` outputs in
//! `data/cv2_resize_cubic.txt` (made by `tools/golden/make_media_fixtures.py`).

mod common;

use common::noise;
use hyv_media::transform::{resize_center_crop, resize_cubic};

fn noise_image(h: usize, w: usize, seed: usize) -> Vec<u8> {
    (0..h * w * 3).map(|i| noise(i, seed)).collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn matches_opencv_inter_cubic() {
    let data = include_str!("data/cv2_resize_cubic.txt");
    let mut cases = 0;
    for line in data.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let n: Vec<usize> = fields[1..6].iter().map(|v| v.parse().unwrap()).collect();
        let (sh, sw, dh, dw, seed) = (n[0], n[1], n[2], n[3], n[4]);
        let expected = hex(fields[6]);
        let src = noise_image(sh, sw, seed);
        let ours = match fields[0] {
            "resize" => resize_cubic(&src, sh, sw, dh, dw),
            "crop" => resize_center_crop(&src, sh, sw, dh, dw),
            other => panic!("unknown case kind {other}"),
        };
        assert_eq!(ours.len(), expected.len(), "{line:.40}");
        let diffs: Vec<i32> = ours
            .iter()
            .zip(&expected)
            .map(|(&a, &b)| i32::from(a) - i32::from(b))
            .filter(|&d| d != 0)
            .collect();
        // Identical but for ±1 where OpenCV's float evaluation rounds a near-tie the other way.
        assert!(diffs.iter().all(|d| d.abs() <= 1), "{line:.40}: {diffs:?}");
        assert!(
            diffs.len() * 1000 <= ours.len(),
            "{line:.40}: {} off by one",
            diffs.len()
        );
        cases += 1;
    }
    assert_eq!(cases, 6);
}
