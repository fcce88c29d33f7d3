//! [`MetricKind`]: the metrics a `--metric psnr,ssim` option can name.

use crate::{Clip, MediaError, Result};
use std::fmt;
use std::str::FromStr;

/// A full-reference metric that hyv computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Peak signal-to-noise ratio in dB ([`super::psnr`]); higher is better.
    Psnr,
    /// Structural similarity in `[-1, 1]` ([`super::ssim`]); higher is better.
    Ssim,
}

impl MetricKind {
    /// Every metric, in a stable order.
    pub const ALL: [MetricKind; 2] = [MetricKind::Psnr, MetricKind::Ssim];

    /// The lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Psnr => "psnr",
            MetricKind::Ssim => "ssim",
        }
    }

    /// This metric of `b` against `a`, averaged over frames.
    pub fn compute(self, a: &Clip, b: &Clip) -> Result<f64> {
        match self {
            MetricKind::Psnr => super::psnr(a, b),
            MetricKind::Ssim => super::ssim(a, b),
        }
    }

    /// Parses a comma-separated list such as `"psnr,ssim"` (spaces and repeats ignored).
    pub fn parse_list(list: &str) -> Result<Vec<MetricKind>> {
        let mut kinds = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let kind: MetricKind = item.parse()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err(MediaError::Invalid(format!(
                "no metric named in `{list}`; expected a list such as psnr,ssim"
            )));
        }
        Ok(kinds)
    }
}

impl FromStr for MetricKind {
    type Err = MediaError;

    /// `psnr` or `ssim`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        MetricKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                MediaError::Invalid(format!(
                    "unknown metric `{s}`; expected psnr or ssim (LPIPS and FVD need learned \
                     networks and are not available)"
                ))
            })
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_lists() {
        assert_eq!("PSNR".parse::<MetricKind>().unwrap(), MetricKind::Psnr);
        assert_eq!(
            MetricKind::parse_list("psnr, ssim,psnr").unwrap(),
            vec![MetricKind::Psnr, MetricKind::Ssim]
        );
        let e = "lpips".parse::<MetricKind>().unwrap_err().to_string();
        assert!(e.contains("lpips") && e.contains("psnr or ssim"), "{e}");
        assert!(MetricKind::parse_list(" , ").is_err());
        assert_eq!(MetricKind::Ssim.to_string(), "ssim");
    }
}
