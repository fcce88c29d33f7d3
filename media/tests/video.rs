//! Video decoding, resizing, encoding and probing through ffmpeg, against the ffmpeg CLI.

#![cfg(feature = "ffmpeg")]

mod common;

use common::{ffprobe_frames, make_mp4, make_video, synthetic};
use hyv_media::{load_clip, probe, psnr, save_clip, LoadOptions};

fn frames(n: usize, sample_rate: usize) -> LoadOptions {
    LoadOptions {
        num_frames: Some(n),
        sample_rate,
        ..LoadOptions::default()
    }
}

#[test]
fn decodes_every_frame_and_samples_every_nth() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = make_mp4(dir.path(), "src.mp4", 64, 48, 40);
    assert_eq!(ffprobe_frames(&mp4).0, 40);

    let all = load_clip(&mp4, &LoadOptions::default()).unwrap();
    assert_eq!((all.num_frames, all.height, all.width), (40, 48, 64));
    assert_eq!(all.fps, 10.0);

    let first = load_clip(&mp4, &frames(17, 1)).unwrap();
    assert_eq!(first.num_frames, 17);
    assert_eq!(first.frames[..], all.frames[..17 * all.frame_len()]);

    let every2 = load_clip(&mp4, &frames(17, 2)).unwrap();
    assert_eq!(every2.num_frames, 17);
    assert_eq!(every2.fps, 5.0);
    for k in 0..17 {
        assert_eq!(
            every2.frame(k),
            all.frame(2 * k),
            "frame {k} at sample rate 2"
        );
    }

    // Every 3rd frame of 40 gives 14; with no count asked all 14 come back, or the longest
    // 4k+1 prefix (13) when the VAE's constraint is on.
    let every3 = LoadOptions {
        sample_rate: 3,
        ..LoadOptions::default()
    };
    assert_eq!(load_clip(&mp4, &every3).unwrap().num_frames, 14);
    let every3_4k1 = LoadOptions {
        require_4k_plus_1: true,
        ..every3
    };
    assert_eq!(load_clip(&mp4, &every3_4k1).unwrap().num_frames, 13);
}

#[test]
fn resizes_short_side_and_center_crops() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = make_mp4(dir.path(), "wide.mp4", 96, 48, 5);
    let opts = LoadOptions {
        height: Some(32),
        width: Some(32),
        num_frames: Some(5),
        sample_rate: 1,
        require_4k_plus_1: true,
    };
    let clip = load_clip(&mp4, &opts).unwrap();
    assert_eq!((clip.num_frames, clip.height, clip.width), (5, 32, 32));
    // The same as resizing and cropping the full-size decode.
    let full = load_clip(&mp4, &frames(5, 1)).unwrap();
    assert_eq!(full.resize_center_crop(32, 32).unwrap(), clip);

    let tall = LoadOptions {
        height: Some(40),
        width: Some(16),
        ..opts
    };
    let clip = load_clip(&mp4, &tall).unwrap();
    assert_eq!((clip.height, clip.width), (40, 16));
    let t = clip.to_tensor();
    assert_eq!(t.shape().dims(), &[1, 3, 5, 40, 16]);
}

#[test]
fn saves_exactly_the_requested_frames_at_the_requested_rate() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_mp4(dir.path(), "src.mp4", 64, 48, 40);
    for (n, fps, rate) in [
        (17, 10.0, "10/1"),
        (33, 24.0, "24/1"),
        (5, 30000.0 / 1001.0, "30000/1001"),
    ] {
        let clip = load_clip(&src, &frames(n, 1)).unwrap();
        let clip = hyv_media::Clip { fps, ..clip };
        let out = dir.path().join("nested").join(format!("out{n}.mp4"));
        save_clip(&out, &clip).unwrap();
        assert_eq!(
            ffprobe_frames(&out),
            (n, rate.to_string()),
            "{}",
            out.display()
        );
        let info = probe(&out).unwrap();
        assert_eq!((info.num_frames, info.width, info.height), (n, 64, 48));
        assert!((info.fps - fps).abs() < 1e-9, "probe fps {}", info.fps);
    }
    // Only the finished files are left: no temporaries.
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out17.mp4", "out33.mp4", "out5.mp4"]);
}

#[test]
fn save_then_load_round_trip_is_faithful() {
    let dir = tempfile::tempdir().unwrap();
    let src = make_mp4(dir.path(), "src.mp4", 64, 48, 17);
    let clip = load_clip(&src, &LoadOptions::default()).unwrap();
    let out = dir.path().join("again.mp4");
    save_clip(&out, &clip).unwrap();
    let back = load_clip(&out, &LoadOptions::default()).unwrap();
    assert_eq!((back.num_frames, back.height, back.width), (17, 48, 64));
    assert_eq!(back.fps, clip.fps);
    let db = psnr(&clip, &back).unwrap();
    eprintln!("testsrc2 64x48x17 H.264 CRF 18 round trip: PSNR {db:.2} dB");
    // testsrc2's saturated colour edges lose most to 4:2:0 chroma: the ffmpeg command line's
    // own RGB → CRF 18 → RGB round trip of this clip gives 34.0 dB.
    assert!(db > 32.0, "round-trip PSNR {db} dB");

    // A synthetic clip made in memory round-trips too, one frame included.
    let smooth = synthetic(1, 16, 24, 8.0, |_, y, x, c| (x * 4 + y * 3 + c * 40) as u8);
    let one = dir.path().join("one.mp4");
    save_clip(&one, &smooth).unwrap();
    assert_eq!(ffprobe_frames(&one).0, 1);
    let back = load_clip(&one, &LoadOptions::default()).unwrap();
    let db = psnr(&smooth, &back).unwrap();
    assert!(db > 40.0, "smooth one-frame round trip: PSNR {db} dB");
}

#[test]
fn decodes_other_containers_and_sniffs_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        make_video(
            d,
            "a.webm",
            32,
            32,
            "8",
            9,
            &["-c:v", "libvpx-vp9", "-b:v", "200k"],
        ),
        make_video(d, "a.avi", 32, 32, "8", 9, &["-c:v", "mpeg4", "-q:v", "3"]),
        make_video(
            d,
            "a.mkv",
            32,
            32,
            "8",
            9,
            &["-c:v", "libx264", "-pix_fmt", "yuv444p"],
        ),
        make_video(d, "a.gif", 32, 32, "8", 9, &[]),
    ];
    for path in &cases {
        let clip = load_clip(path, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            (clip.num_frames, clip.height, clip.width),
            (9, 32, 32),
            "{}",
            path.display()
        );
        assert_eq!(probe(path).unwrap().num_frames, 9, "{}", path.display());
    }
    // An MP4 under a name that says nothing is still found to be a video.
    let mp4 = make_mp4(d, "b.mp4", 32, 32, 3);
    let odd = d.join("clip.bin");
    std::fs::rename(&mp4, &odd).unwrap();
    assert_eq!(
        load_clip(&odd, &LoadOptions::default()).unwrap().num_frames,
        3
    );
}
