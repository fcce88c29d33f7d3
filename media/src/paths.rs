//! Which files are videos and which are images, by extension (for walking folders) and by
//! content (for loading files whose extension says nothing).

use std::io::Read;
use std::path::Path;

/// File extensions (lower case, no dot) treated as videos when walking folders: containers
/// ffmpeg decodes. `gif` is a video here (all its frames are read), as in the reference's VAE
/// dataset.
pub fn video_extensions() -> &'static [&'static str] {
    &[
        "mp4", "avi", "webm", "mkv", "mov", "m4v", "mpg", "mpeg", "flv", "wmv", "ts", "3gp", "ogv",
        "gif",
    ]
}

/// File extensions (lower case, no dot) read as one-frame clips through the `image` crate.
pub fn image_extensions() -> &'static [&'static str] {
    &["png", "jpg", "jpeg", "webp"]
}

/// True when the path's extension (any case) is one of [`video_extensions`].
pub fn is_video_path(path: impl AsRef<Path>) -> bool {
    has_extension(path.as_ref(), video_extensions())
}

/// True when the path's extension (any case) is one of [`image_extensions`].
pub fn is_image_path(path: impl AsRef<Path>) -> bool {
    has_extension(path.as_ref(), image_extensions())
}

fn has_extension(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The lower-case extension of `path` (empty when it has none).
pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Through the `image` crate, as one frame.
    Image,
    /// Through ffmpeg.
    Video,
}

/// The reader for `path`: by extension, else by the file's first bytes (PNG, JPEG and WebP
/// signatures are images; anything else is left to ffmpeg).
pub(crate) fn kind_of(path: &Path) -> Kind {
    if is_image_path(path) {
        return Kind::Image;
    }
    if is_video_path(path) {
        return Kind::Video;
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    match image::guess_format(&head[..n]) {
        Ok(image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::WebP) => {
            Kind::Image
        }
        _ => Kind::Video,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_case_insensitive() {
        assert!(is_video_path(Path::new("a/b.MP4")));
        assert!(is_video_path(Path::new("clip.webm")));
        assert!(is_image_path(Path::new("x.JPeG")));
        assert!(!is_image_path(Path::new("x.mp4")));
        assert!(!is_video_path(Path::new("noext")));
    }

    #[test]
    fn content_decides_without_extension() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("pic");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        assert_eq!(kind_of(&png), Kind::Image);
        let other = dir.path().join("clip");
        std::fs::write(&other, b"\0\0\0\x20ftypisom").unwrap();
        assert_eq!(kind_of(&other), Kind::Video);
        assert_eq!(kind_of(&dir.path().join("missing")), Kind::Video);
    }
}
