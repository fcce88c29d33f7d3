//! Images as one-frame clips: PNG/JPEG/WebP round trips, resizing and centred cropping.

mod common;

use common::synthetic;
use hyv_media::{load_clip, probe, psnr, save_clip, LoadOptions};

fn crop(h: usize, w: usize) -> LoadOptions {
    LoadOptions {
        height: Some(h),
        width: Some(w),
        ..LoadOptions::default()
    }
}

#[test]
fn png_webp_are_lossless_and_jpeg_is_close() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(1, 20, 30, 1.0, |_, y, x, c| (x * 8 + y * 4 + c * 70) as u8);
    for (name, lossless) in [
        ("a.png", true),
        ("a.webp", true),
        ("a.jpg", false),
        ("b.JPEG", false),
    ] {
        let path = dir.path().join("sub").join(name);
        save_clip(&path, &clip).unwrap();
        let back = load_clip(&path, &LoadOptions::default()).unwrap();
        assert_eq!(
            (back.num_frames, back.height, back.width),
            (1, 20, 30),
            "{name}"
        );
        assert_eq!(back.fps, 1.0);
        if lossless {
            assert_eq!(back, clip, "{name}");
        } else {
            let db = psnr(&clip, &back).unwrap();
            assert!(db > 35.0, "{name}: PSNR {db}");
        }
        let info = probe(&path).unwrap();
        assert_eq!((info.num_frames, info.height, info.width), (1, 20, 30));
    }
    let left: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
    assert_eq!(left.len(), 4, "temporaries left behind");
}

#[test]
fn center_crop_is_centred() {
    let dir = tempfile::tempdir().unwrap();
    const RED: [u8; 3] = [255, 0, 0];
    const GREEN: [u8; 3] = [0, 255, 0];
    const BLUE: [u8; 3] = [0, 0, 255];
    // 32×64 (height × width): columns 0–15 red, 16–47 green, 48–63 blue.
    let bands = synthetic(1, 32, 64, 1.0, |_, _, x, c| match x {
        0..16 => RED[c],
        16..48 => GREEN[c],
        _ => BLUE[c],
    });
    let path = dir.path().join("bands.png");
    save_clip(&path, &bands).unwrap();
    // No resize needed (the short side already matches): exactly the green middle.
    let mid = load_clip(&path, &crop(32, 32)).unwrap();
    assert!(
        mid.frames.chunks(3).all(|p| p == GREEN),
        "crop is not the centre"
    );
    // 4× down to 8×16, then the middle 8×8: still only green, since the bicubic taps of the
    // kept columns lie inside the green band.
    let small = load_clip(&path, &crop(8, 8)).unwrap();
    assert_eq!((small.height, small.width), (8, 8));
    assert!(
        small.frames.chunks(3).all(|p| p == GREEN),
        "{:?}",
        &small.frames[..24]
    );

    // The same vertically: rows 0–15 red, 16–47 green, 48–63 blue in a 64×32 image.
    let tall = synthetic(1, 64, 32, 1.0, |_, y, _, c| match y {
        0..16 => RED[c],
        16..48 => GREEN[c],
        _ => BLUE[c],
    });
    let path = dir.path().join("tall.webp");
    save_clip(&path, &tall).unwrap();
    let mid = load_clip(&path, &crop(32, 32)).unwrap();
    assert!(mid.frames.chunks(3).all(|p| p == GREEN));
    // Upscaling: 64×32 covers 48×48 at 96×48, cropped to rows 24–71, whose middle rows 8–39
    // (rows 32–63 of 96, source rows 21–42) are green and whose first row is not.
    let big = load_clip(&path, &crop(48, 48)).unwrap();
    assert_eq!((big.height, big.width), (48, 48));
    let row = |y: usize| &big.frames[y * 48 * 3..(y + 1) * 48 * 3];
    assert!((8..40).all(|y| row(y).chunks(3).all(|p| p == GREEN)));
    assert!(row(0)[0] > 0, "the crop starts where red still bleeds in");
}

#[test]
fn images_load_by_content_whatever_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(1, 8, 8, 1.0, |_, y, x, c| (x * 30 + y + c) as u8);
    let png = dir.path().join("pic.png");
    save_clip(&png, &clip).unwrap();
    let renamed = dir.path().join("pic.dat");
    std::fs::rename(&png, &renamed).unwrap();
    assert_eq!(load_clip(&renamed, &LoadOptions::default()).unwrap(), clip);
    // A PNG named .jpg is still decoded (the content wins over the extension).
    let jpg = dir.path().join("really_png.jpg");
    std::fs::rename(&renamed, &jpg).unwrap();
    assert_eq!(load_clip(&jpg, &LoadOptions::default()).unwrap(), clip);
}
