//! Every user mistake gives an error that names the file or value, never a panic.

mod common;

use common::synthetic;
use hyv_media::{load_clip, probe, save_clip, LoadOptions, MediaError};
use std::path::Path;

fn err_text(r: hyv_media::Result<impl std::fmt::Debug>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn missing_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["nothing.mp4", "nothing.png", "nothing"] {
        let path = dir.path().join(name);
        let e = load_clip(&path, &LoadOptions::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(name), "{text}");
        if cfg!(feature = "ffmpeg") || name.ends_with(".png") {
            assert!(matches!(e, MediaError::Io { .. }), "{e:?}");
            assert!(text.contains("No such file"), "{text}");
        }
        assert!(err_text(probe(&path)).contains(name));
    }
}

#[test]
fn garbage_content_names_the_file_and_the_decoder_message() {
    let dir = tempfile::tempdir().unwrap();
    let junk = b"this is not a video, just some text pretending to be one\n".repeat(50);
    for name in ["garbage.mp4", "garbage.png", "garbage.jpg", "garbage.webm"] {
        let path = dir.path().join(name);
        std::fs::write(&path, &junk).unwrap();
        let text = err_text(load_clip(&path, &LoadOptions::default()));
        assert!(text.contains(name), "{text}");
        if cfg!(feature = "ffmpeg") || !hyv_media::is_video_path(Path::new(name)) {
            assert!(text.starts_with("cannot decode"), "{text}");
        }
    }
    // An empty file too.
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert!(err_text(load_clip(&empty, &LoadOptions::default())).contains("empty.mp4"));
}

#[test]
fn invalid_options_name_the_value() {
    let png = Path::new("any.png");
    let e = err_text(load_clip(
        png,
        &LoadOptions {
            num_frames: Some(16),
            require_4k_plus_1: true,
            ..LoadOptions::default()
        },
    ));
    assert!(
        e.contains("num_frames 16") && e.contains("13 and 17"),
        "{e}"
    );
    let e = err_text(load_clip(
        png,
        &LoadOptions {
            height: Some(250),
            width: Some(256),
            ..LoadOptions::default()
        },
    ));
    assert!(
        e.contains("height 250") && e.contains("multiple of 8") && e.contains("248 and 256"),
        "{e}"
    );
    let e = err_text(load_clip(
        png,
        &LoadOptions {
            height: Some(256),
            width: Some(100),
            ..LoadOptions::default()
        },
    ));
    assert!(e.contains("width 100"), "{e}");
    let e = err_text(load_clip(
        png,
        &LoadOptions {
            sample_rate: 0,
            ..LoadOptions::default()
        },
    ));
    assert!(e.contains("sample_rate"), "{e}");
}

#[test]
fn images_are_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.png");
    save_clip(&path, &synthetic(1, 8, 8, 1.0, |_, _, _, _| 9)).unwrap();
    let e = err_text(load_clip(
        &path,
        &LoadOptions {
            num_frames: Some(5),
            ..LoadOptions::default()
        },
    ));
    assert!(
        e.contains("one.png") && e.contains("num_frames is 5"),
        "{e}"
    );

    let three = synthetic(3, 8, 8, 1.0, |t, _, _, _| t as u8);
    let e = err_text(save_clip(dir.path().join("three.png"), &three));
    assert!(e.contains("three.png") && e.contains("3"), "{e}");
    assert!(!dir.path().join("three.png").exists());
}

#[test]
fn unwritable_clips_and_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let clip = synthetic(2, 8, 8, 4.0, |_, _, _, _| 0);
    let e = err_text(save_clip(dir.path().join("out.xyz"), &clip));
    assert!(e.contains("out.xyz") && e.contains(".mp4"), "{e}");
    let e = err_text(save_clip(dir.path().join("out.avi"), &clip));
    assert!(e.contains("out.avi"), "{e}");

    let broken = hyv_media::Clip {
        frames: vec![0; 10],
        ..clip.clone()
    };
    assert!(err_text(save_clip(dir.path().join("b.mp4"), &broken)).contains("needs"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[cfg(feature = "ffmpeg")]
mod video {
    use super::*;
    use common::make_mp4;

    #[test]
    fn short_clips_say_how_many_frames_they_have() {
        let dir = tempfile::tempdir().unwrap();
        let mp4 = make_mp4(dir.path(), "short.mp4", 32, 32, 20);
        let e = err_text(load_clip(
            &mp4,
            &LoadOptions {
                num_frames: Some(17),
                sample_rate: 2,
                ..LoadOptions::default()
            },
        ));
        assert!(
            e.contains("short.mp4")
                && e.contains("10 frames at sample rate 2")
                && e.contains("20 decoded")
                && e.contains("17 are needed"),
            "{e}"
        );
    }

    #[test]
    fn odd_sizes_and_bad_fps_cannot_be_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let odd = synthetic(2, 9, 8, 4.0, |_, _, _, _| 0);
        let e = err_text(save_clip(dir.path().join("odd.mp4"), &odd));
        assert!(
            e.contains("odd.mp4") && e.contains("even") && e.contains("9x8"),
            "{e}"
        );
        let no_fps = synthetic(2, 8, 8, 0.0, |_, _, _, _| 0);
        let e = err_text(save_clip(dir.path().join("z.mp4"), &no_fps));
        assert!(e.contains("z.mp4") && e.contains("fps"), "{e}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }

    #[test]
    fn a_folder_in_the_way_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("taken.mp4");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let clip = synthetic(2, 8, 8, 4.0, |_, y, x, _| (x * y) as u8);
        let e = err_text(save_clip(&target, &clip));
        assert!(e.contains("taken.mp4"), "{e}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary left behind"
        );
    }
}

#[cfg(not(feature = "ffmpeg"))]
#[test]
fn videos_without_ffmpeg_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, b"whatever").unwrap();
    let e = err_text(load_clip(&path, &LoadOptions::default()));
    assert!(
        e.contains("clip.mp4") && e.contains("without the `ffmpeg` feature"),
        "{e}"
    );
    let clip = synthetic(2, 8, 8, 4.0, |_, _, _, _| 0);
    assert!(err_text(save_clip(dir.path().join("o.mp4"), &clip)).contains("ffmpeg"));
    assert!(err_text(probe(&path)).contains("ffmpeg"));
}
