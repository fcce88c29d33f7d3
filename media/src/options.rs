//! [`LoadOptions`]: which frames of a file to load and at what size, and their validation.

use crate::{MediaError, Result};

/// What [`crate::load_clip`] reads from a file.
///
/// Frames `0, s, 2s, …` (`s = sample_rate`) are taken, the first `num_frames` of them; then
/// every frame is resized so that it covers `height × width` and center-cropped to it (see
/// [`crate::transform`]). The default reads every frame at the file's own size.
///
/// (The reference's evaluation dataset instead spreads `num_frames` indices with
/// `np.linspace(0, s·num_frames − 1)`, which for `s > 1` ends on a slightly later frame;
/// with `s = 1` both take the first `num_frames` frames.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Output height; must be a multiple of 8 and given together with `width`.
    pub height: Option<usize>,
    /// Output width; must be a multiple of 8 and given together with `height`.
    pub width: Option<usize>,
    /// Frames to take; `None` takes all (or, with `require_4k_plus_1`, the longest `4k+1`
    /// prefix, as the reference's latent-cache script does).
    pub num_frames: Option<usize>,
    /// Take every `sample_rate`-th decoded frame (at least 1).
    pub sample_rate: usize,
    /// Require `num_frames` to be `4k+1`, as the causal VAE does.
    pub require_4k_plus_1: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            height: None,
            width: None,
            num_frames: None,
            sample_rate: 1,
            require_4k_plus_1: false,
        }
    }
}

impl LoadOptions {
    /// Checks the options on their own (before any file is opened); the message names the
    /// bad value and the nearest valid ones.
    pub fn validate(&self) -> Result<()> {
        if self.sample_rate == 0 {
            return Err(MediaError::Invalid(
                "sample_rate must be at least 1, got 0".into(),
            ));
        }
        match (self.height, self.width) {
            (Some(h), Some(w)) => {
                check_multiple_of_8("height", h)?;
                check_multiple_of_8("width", w)?;
            }
            (None, None) => {}
            (h, w) => {
                return Err(MediaError::Invalid(format!(
                    "height and width must be given together (got height {}, width {})",
                    show(h),
                    show(w)
                )))
            }
        }
        match self.num_frames {
            Some(0) => Err(MediaError::Invalid(
                "num_frames must be at least 1, got 0".into(),
            )),
            Some(n) if self.require_4k_plus_1 && n % 4 != 1 => {
                let below = (n - 1) / 4 * 4 + 1;
                Err(MediaError::Invalid(format!(
                    "num_frames {n} is not of the form 4k+1 (1, 5, 9, 13, 17, …) that the causal \
                     VAE needs; the nearest valid values are {below} and {}",
                    below + 4
                )))
            }
            _ => Ok(()),
        }
    }

    /// The crop size `(height, width)`, when one is asked for.
    pub(crate) fn crop(&self) -> Option<(usize, usize)> {
        self.height.zip(self.width)
    }

    /// Whether decoded frame `index` is kept, given `kept` frames kept so far.
    #[cfg(feature = "ffmpeg")]
    pub(crate) fn keeps(&self, index: usize, kept: usize) -> bool {
        index.is_multiple_of(self.sample_rate) && self.num_frames.is_none_or(|n| kept < n)
    }

    /// Whether decoding can stop after keeping `kept` frames.
    #[cfg(feature = "ffmpeg")]
    pub(crate) fn is_done(&self, kept: usize) -> bool {
        self.num_frames.is_some_and(|n| kept >= n)
    }

    /// How many of the `kept` (at least one) frames, taken from `decoded` decoded ones, the
    /// clip gets, or the error for a clip that is too short.
    #[cfg(feature = "ffmpeg")]
    pub(crate) fn final_count(
        &self,
        path: &std::path::Path,
        decoded: usize,
        kept: usize,
    ) -> Result<usize> {
        match self.num_frames {
            Some(n) if kept < n => Err(MediaError::TooShort {
                path: path.to_path_buf(),
                available: kept,
                decoded,
                sample_rate: self.sample_rate,
                needed: n,
            }),
            Some(n) => Ok(n),
            None if self.require_4k_plus_1 => Ok(kept.saturating_sub(1) / 4 * 4 + 1),
            None => Ok(kept),
        }
    }
}

fn check_multiple_of_8(name: &str, value: usize) -> Result<()> {
    if value == 0 || !value.is_multiple_of(8) {
        let below = value / 8 * 8;
        let nearest = if below == 0 {
            "value is 8".to_string()
        } else {
            format!("values are {below} and {}", below + 8)
        };
        return Err(MediaError::Invalid(format!(
            "{name} {value} is not a positive multiple of 8 (the VAE downsamples by 8); \
             the nearest valid {nearest}"
        )));
    }
    Ok(())
}

fn show(v: Option<usize>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(num_frames: Option<usize>, sample_rate: usize, four: bool) -> LoadOptions {
        LoadOptions {
            num_frames,
            sample_rate,
            require_4k_plus_1: four,
            ..LoadOptions::default()
        }
    }

    #[test]
    fn four_k_plus_one_message_names_neighbours() {
        let e = opts(Some(30), 1, true).validate().unwrap_err().to_string();
        assert!(e.contains("30") && e.contains("29 and 33"), "{e}");
        assert!(opts(Some(30), 1, false).validate().is_ok());
        assert!(opts(Some(33), 1, true).validate().is_ok());
        assert!(opts(Some(0), 1, false).validate().is_err());
        assert!(opts(None, 0, false).validate().is_err());
    }

    #[test]
    fn sizes_must_be_multiples_of_8_and_paired() {
        let bad = LoadOptions {
            height: Some(100),
            width: Some(64),
            ..LoadOptions::default()
        };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("height 100") && e.contains("96 and 104"), "{e}");
        let half = LoadOptions {
            width: Some(64),
            ..LoadOptions::default()
        };
        assert!(half
            .validate()
            .unwrap_err()
            .to_string()
            .contains("together"));
        let tiny = LoadOptions {
            height: Some(4),
            width: Some(8),
            ..LoadOptions::default()
        };
        assert!(tiny
            .validate()
            .unwrap_err()
            .to_string()
            .contains("value is 8"));
    }

    #[cfg(feature = "ffmpeg")]
    #[test]
    fn frame_selection() {
        let o = opts(Some(3), 2, false);
        let kept: Vec<usize> = (0..10).filter(|&i| o.keeps(i, i / 2)).collect();
        assert_eq!(kept, vec![0, 2, 4]);
        let p = std::path::Path::new("v.mp4");
        assert_eq!(o.final_count(p, 5, 3).unwrap(), 3);
        let e = o.final_count(p, 4, 2).unwrap_err().to_string();
        assert!(e.contains("v.mp4") && e.contains("2 frames") && e.contains("3 are needed"));
        assert_eq!(opts(None, 1, true).final_count(p, 20, 20).unwrap(), 17);
        assert_eq!(opts(None, 1, false).final_count(p, 20, 20).unwrap(), 20);
    }
}
